import { Duration, Size, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { SpotTrainingFleet, SpotTrainingFleetProps } from '../../constructs/training';
import { CostEstimate } from '../../constructs/cost';
import { acknowledgements, newStack } from '../helpers';

const IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/example/train:1');

function fleet(props: Partial<SpotTrainingFleetProps> = {}): { stack: Stack; fleet: SpotTrainingFleet; template: () => Template } {
  const { stack } = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const f = new SpotTrainingFleet(stack, 'Fleet', { vpc, image: IMAGE, ...props });
  return { stack, fleet: f, template: () => Template.fromStack(stack) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a template fragment, read field by field
function spotEnvironment(template: Template): Record<string, any> {
  const envs = template.findResources('AWS::Batch::ComputeEnvironment', { Properties: { ComputeResources: { Type: 'SPOT' } } });
  expect(Object.keys(envs)).toHaveLength(1);
  return Object.values(envs)[0].Properties;
}

describe('SpotTrainingFleet compute environment', () => {
  test('is a spot environment of the given NVIDIA types, price-capacity optimized, without optimal classes, on the NVIDIA ECS AMI, scaling from zero', () => {
    const { template } = fleet({ instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.G5_2XLARGE, GpuInstanceType.G5_4XLARGE], maxInstances: 3 });
    const t = template();
    t.resourceCountIs('AWS::Batch::ComputeEnvironment', 1);
    const props = spotEnvironment(t);
    expect(props.Type).toBe('managed');
    expect(props.ComputeResources).toEqual(expect.objectContaining({
      Type: 'SPOT',
      AllocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED',
      // Exactly these: no "optimal" (CPU) classes.
      InstanceTypes: ['g5.xlarge', 'g5.2xlarge', 'g5.4xlarge'],
      Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
      MinvCpus: 0,
      MaxvCpus: 3 * 16, // 3 instances of the largest type, g5.4xlarge (16 vCPUs)
    }));
    expect(props.ComputeResources.BidPercentage).toBeUndefined();
    expect(props.ComputeResources.SpotIamFleetRole).toBeUndefined();
  });

  test('runs in the VPC\'s private subnets by default, and in vpcSubnets when given', () => {
    const { stack, template } = fleet();
    const privateIds = stack.resolve((stack.node.findChild('Vpc') as ec2.Vpc).privateSubnets.map((s) => s.subnetId));
    expect(spotEnvironment(template()).ComputeResources.Subnets).toEqual(privateIds);

    const other = fleet({ vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } });
    const publicIds = other.stack.resolve((other.stack.node.findChild('Vpc') as ec2.Vpc).publicSubnets.map((s) => s.subnetId));
    expect(spotEnvironment(other.template()).ComputeResources.Subnets).toEqual(publicIds);
  });

  test('uses a launch template with IMDSv2 required, a hop limit of 1 and an encrypted gp3 root volume, at its latest version', () => {
    const { template } = fleet({ rootVolumeSize: Size.gibibytes(300) });
    const t = template();
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 300, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
      }),
    });
    const [ltId] = Object.keys(t.findResources('AWS::EC2::LaunchTemplate'));
    expect(spotEnvironment(t).ComputeResources.LaunchTemplate).toEqual({
      LaunchTemplateId: { Ref: ltId },
      Version: { 'Fn::GetAtt': [ltId, 'LatestVersionNumber'] },
    });
  });

  test('the default root volume is 200 GiB', () => {
    fleet().template().hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ VolumeSize: 200 }) })] }),
    });
  });

  test('defaults to three g6 types with one L4 each and four instances of the largest', () => {
    const props = spotEnvironment(fleet().template());
    expect(props.ComputeResources.InstanceTypes).toEqual(['g6.xlarge', 'g6.2xlarge', 'g6.4xlarge']);
    expect(props.ComputeResources.MaxvCpus).toBe(4 * 16);
  });

  test('the instances\' security group has no inbound rule', () => {
    const { template } = fleet({ onDemandFallback: true });
    const t = template();
    const groups = t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('Spot training fleet') } });
    expect(Object.keys(groups)).toHaveLength(1);
    expect(Object.values(groups)[0].Properties.SecurityGroupIngress).toBeUndefined();
    for (const env of Object.values(t.findResources('AWS::Batch::ComputeEnvironment'))) {
      expect(env.Properties.ComputeResources.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [Object.keys(groups)[0], 'GroupId'] }]);
    }
  });
});

describe('SpotTrainingFleet job queue', () => {
  test('has only the spot environment by default', () => {
    const t = fleet().template();
    const [spotId] = Object.keys(t.findResources('AWS::Batch::ComputeEnvironment'));
    t.hasResourceProperties('AWS::Batch::JobQueue', {
      ComputeEnvironmentOrder: [{ ComputeEnvironment: { 'Fn::GetAtt': [spotId, 'ComputeEnvironmentArn'] }, Order: 1 }],
    });
  });

  test('with onDemandFallback, an on-demand environment of the same types follows the spot one', () => {
    const t = fleet({ onDemandFallback: true, instanceTypes: [GpuInstanceType.G6E_XLARGE, GpuInstanceType.G6E_2XLARGE, GpuInstanceType.G6E_4XLARGE] }).template();
    t.resourceCountIs('AWS::Batch::ComputeEnvironment', 2);
    const [spotId] = Object.keys(t.findResources('AWS::Batch::ComputeEnvironment', { Properties: { ComputeResources: { Type: 'SPOT' } } }));
    const onDemand = t.findResources('AWS::Batch::ComputeEnvironment', { Properties: { ComputeResources: { Type: 'EC2' } } });
    const [onDemandId] = Object.keys(onDemand);
    expect(onDemand[onDemandId].Properties.ComputeResources).toEqual(expect.objectContaining({
      AllocationStrategy: 'BEST_FIT_PROGRESSIVE',
      InstanceTypes: ['g6e.xlarge', 'g6e.2xlarge', 'g6e.4xlarge'],
      Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
      MinvCpus: 0,
      MaxvCpus: 64,
    }));
    t.hasResourceProperties('AWS::Batch::JobQueue', {
      ComputeEnvironmentOrder: [
        { ComputeEnvironment: { 'Fn::GetAtt': [spotId, 'ComputeEnvironmentArn'] }, Order: 1 },
        { ComputeEnvironment: { 'Fn::GetAtt': [onDemandId, 'ComputeEnvironmentArn'] }, Order: 2 },
      ],
    });
  });
});

describe('SpotTrainingFleet job definition', () => {
  test('retries only when the host went away, up to 5 attempts, and exits on anything else', () => {
    fleet().template().hasResourceProperties('AWS::Batch::JobDefinition', {
      RetryStrategy: {
        Attempts: 5,
        EvaluateOnExit: [
          { Action: 'RETRY', OnStatusReason: 'Host EC2*' },
          { Action: 'EXIT', OnReason: '*' },
          { Action: 'EXIT', OnStatusReason: '*' },
          { Action: 'EXIT', OnExitCode: '*' },
        ],
      },
    });
  });

  test('asks for the smallest type\'s GPUs and vCPUs and 90% of its memory by default, with a 24-hour timeout', () => {
    const t = fleet({ instanceTypes: [GpuInstanceType.G4DN_12XLARGE, GpuInstanceType.G5_12XLARGE, GpuInstanceType.G6_12XLARGE] }).template();
    // g4dn.12xlarge: 4 GPUs, 48 vCPUs, 192 GiB; the others have as many GPUs and vCPUs and as much memory.
    t.hasResourceProperties('AWS::Batch::JobDefinition', {
      Type: 'container',
      PlatformCapabilities: ['EC2'],
      Timeout: { AttemptDurationSeconds: 86400 },
      ContainerProperties: Match.objectLike({
        Image: 'public.ecr.aws/example/train:1',
        ResourceRequirements: Match.arrayEquals([
          { Type: 'MEMORY', Value: String(Math.floor(192 * 1024 * 0.9)) },
          { Type: 'VCPU', Value: '48' },
          { Type: 'GPU', Value: '4' },
        ]),
      }),
    });
  });

  test('takes the command, GPUs, vCPUs, memory, attempts, timeout and environment given', () => {
    const t = fleet({
      instanceTypes: [GpuInstanceType.G6_12XLARGE, GpuInstanceType.G6_24XLARGE, GpuInstanceType.G6_48XLARGE],
      command: ['python', 'train.py', '--epochs', 'Ref::epochs'],
      gpusPerJob: 2,
      vcpusPerJob: 16,
      memoryPerJob: Size.gibibytes(64),
      attempts: 3,
      timeout: Duration.hours(6),
      environment: { EPOCHS: '10' },
    }).template();
    t.hasResourceProperties('AWS::Batch::JobDefinition', {
      RetryStrategy: Match.objectLike({ Attempts: 3 }),
      Timeout: { AttemptDurationSeconds: 6 * 3600 },
      ContainerProperties: Match.objectLike({
        Command: ['python', 'train.py', '--epochs', 'Ref::epochs'],
        ResourceRequirements: Match.arrayEquals([
          { Type: 'MEMORY', Value: String(64 * 1024) },
          { Type: 'VCPU', Value: '16' },
          { Type: 'GPU', Value: '2' },
        ]),
        Environment: Match.arrayEquals([
          // The stack's region for the AWS SDKs, which cannot read it from the instance metadata (hop limit 1).
          { Name: 'AWS_REGION', Value: { Ref: 'AWS::Region' } },
          { Name: 'AWS_DEFAULT_REGION', Value: { Ref: 'AWS::Region' } },
          { Name: 'EPOCHS', Value: '10' },
          { Name: 'CHECKPOINT_S3_URI', Value: Match.anyValue() },
        ]),
      }),
    });
  });

  test('gives the container a /dev/shm of half its memory, at most 8 GiB, for DataLoader workers and NCCL, or the size given', () => {
    // g6.xlarge: 16 GiB, so the job gets 14745 MiB and /dev/shm half of it.
    const small = fleet().template();
    small.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: Match.objectLike({ LinuxParameters: Match.objectLike({ SharedMemorySize: Math.floor(Math.floor(16384 * 0.9) / 2) }) }),
    });
    const large = fleet({ instanceTypes: [GpuInstanceType.G6_12XLARGE, GpuInstanceType.G6_24XLARGE, GpuInstanceType.G6_48XLARGE] }).template();
    large.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: Match.objectLike({ LinuxParameters: Match.objectLike({ SharedMemorySize: 8192 }) }),
    });
    const given = fleet({ sharedMemorySize: Size.gibibytes(2) }).template();
    given.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: Match.objectLike({ LinuxParameters: Match.objectLike({ SharedMemorySize: 2048 }) }),
    });
  });

  test('gives the container CHECKPOINT_S3_URI, runs as the job role and logs to a log group kept for a month', () => {
    const t = fleet().template();
    const [bucketId] = Object.keys(t.findResources('AWS::S3::Bucket'));
    const [roleId] = Object.keys(t.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('^Training jobs') } }));
    const [logGroupId] = Object.keys(t.findResources('AWS::Logs::LogGroup'));
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    t.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: Match.objectLike({
        Environment: [
          { Name: 'AWS_REGION', Value: { Ref: 'AWS::Region' } },
          { Name: 'AWS_DEFAULT_REGION', Value: { Ref: 'AWS::Region' } },
          { Name: 'CHECKPOINT_S3_URI', Value: { 'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/checkpoints/']] } },
        ],
        JobRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
        LogConfiguration: { LogDriver: 'awslogs', Options: Match.objectLike({ 'awslogs-group': { Ref: logGroupId } }) },
      }),
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('^Training jobs'),
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' } })] }),
    });
  });
});

describe('SpotTrainingFleet checkpoints', () => {
  test('the created bucket is KMS-encrypted, blocks public access, enforces TLS and expires old checkpoints', () => {
    const t = fleet({ checkpointRetention: Duration.days(14) }).template();
    const [keyId] = Object.keys(t.findResources('AWS::KMS::Key'));
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    t.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: { Rules: [{ Id: 'ExpireOldCheckpoints', Prefix: 'checkpoints/', Status: 'Enabled', ExpirationInDays: 14, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }] },
      }),
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the job role may list the created bucket, read and write only under the checkpoint prefix, and use only the bucket\'s key', () => {
    const t = fleet().template();
    const [bucketId] = Object.keys(t.findResources('AWS::S3::Bucket'));
    const [keyId] = Object.keys(t.findResources('AWS::KMS::Key'));
    const [roleId] = Object.keys(t.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('^Training jobs') } }));
    const policies = t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
    expect(Object.keys(policies)).toHaveLength(1);
    expect(Object.values(policies)[0].Properties.PolicyDocument.Statement).toEqual([
      {
        // No s3:prefix condition on the bucket that holds only checkpoints: S3 answers a HeadObject or GetObject on a
        // missing key with 404 only to a caller that may list the bucket, and with 403 otherwise.
        Sid: 'ListCheckpoints', Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
      },
      {
        Sid: 'ReadWriteCheckpoints', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/checkpoints/*']] },
      },
      { Sid: 'CheckpointKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    ]);
  });

  test('a bucket, prefix and role passed in are used, and no bucket or key is created', () => {
    const { stack } = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const bucket = s3.Bucket.fromBucketName(stack, 'Existing', 'ml-checkpoints');
    const jobRole = new iam.Role(stack, 'MyRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    const f = new SpotTrainingFleet(stack, 'Fleet', { vpc, image: IMAGE, checkpointBucket: bucket, checkpointPrefix: 'team-a/llm/', jobRole });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::S3::Bucket', 0);
    t.resourceCountIs('AWS::KMS::Key', 0);
    expect(f.jobRole).toBe(jobRole);
    expect(stack.resolve(f.checkpointS3Uri)).toBe('s3://ml-checkpoints/team-a/llm/');
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(jobRole.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: [
        Match.objectLike({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': ['team-a/llm/*'] } } }),
        Match.objectLike({ Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::ml-checkpoints/team-a/llm/*']] } }),
      ] },
    });
  });

  test('an imported bucket with its KMS key: the job role may use that key', () => {
    const { stack } = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const encryptionKey = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:us-east-1:111122223333:key/abcd');
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'Existing', { bucketName: 'ml-checkpoints', encryptionKey });
    new SpotTrainingFleet(stack, 'Fleet', { vpc, image: IMAGE, checkpointBucket: bucket });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Sid: 'CheckpointKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: 'arn:aws:kms:us-east-1:111122223333:key/abcd' }]) },
    });
  });

  test('checkpointRetention with a bucket passed in gets a warning that it is unused', () => {
    const { stack } = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    new SpotTrainingFleet(stack, 'Fleet', { vpc, image: IMAGE, checkpointBucket: s3.Bucket.fromBucketName(stack, 'B', 'other-bucket'), checkpointRetention: Duration.days(7) });
    Annotations.fromStack(stack).hasWarning('/TestStack/Fleet', Match.stringLikeRegexp('checkpointRetention.*is unused'));
  });
});

describe('SpotTrainingFleet warnings', () => {
  test('fewer than three instance types get a warning naming interchangeable types', () => {
    const { stack } = fleet({ instanceTypes: [GpuInstanceType.G5_XLARGE] });
    Annotations.fromStack(stack).hasWarning('/TestStack/Fleet', Match.stringLikeRegexp('only 1 pool.*g5\\.2xlarge'));
  });

  test('three types get no pool warning', () => {
    const { stack } = fleet();
    expect(Annotations.fromStack(stack).findWarning('/TestStack/Fleet', Match.stringLikeRegexp('pool'))).toEqual([]);
  });

  test('memory above 90% of the smallest type gets a warning', () => {
    const { stack } = fleet({ memoryPerJob: Size.gibibytes(15.5) });
    Annotations.fromStack(stack).hasWarning('/TestStack/Fleet', Match.stringLikeRegexp('memoryPerJob.*15872 MiB.*RUNNABLE'));
  });
});

describe('SpotTrainingFleet validation', () => {
  const cases: Array<[string, Partial<SpotTrainingFleetProps> | (() => unknown), RegExp]> = [
    ['no instance types', { instanceTypes: [] }, /'instanceTypes' \(\[\]\) must name at least one NVIDIA GPU instance type: pass e\.g\./],
    ['a type listed twice', { instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.G5_XLARGE] }, /names g5\.xlarge more than once/],
    ['an Inferentia type', { instanceTypes: [GpuInstanceType.INF2_XLARGE] }, /'instanceTypes' \(\["inf2\.xlarge"\]\) are not NVIDIA GPU types.*ECS_AL2023_NVIDIA/],
    ['a Trainium type among NVIDIA ones', { instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.TRN1_2XLARGE] }, /\["trn1\.2xlarge"\]\) are not NVIDIA/],
    ['a Graviton NVIDIA type', {
      instanceTypes: [GpuInstanceType.custom({ name: 'g5g.xlarge', vendor: 'nvidia' as never, acceleratorModel: 'T4G', acceleratorCount: 1, acceleratorMemoryGiB: 16, vcpus: 4, memoryGiB: 8 })],
    }, /\["g5g\.xlarge"\]\) are Graviton \(arm64\) types/],
    ['maxInstances 0', { maxInstances: 0 }, /'maxInstances' \(0\) must be a whole number >= 1/],
    ['fractional maxInstances', { maxInstances: 1.5 }, /'maxInstances' \(1\.5\) must be a whole number/],
    ['more GPUs than the smallest type has', { instanceTypes: [GpuInstanceType.G6_XLARGE, GpuInstanceType.G6_12XLARGE], gpusPerJob: 2 },
      /'gpusPerJob' \(2\) must be a whole number from 1 to 1 \(the smallest instance type's GPU count\): ask for at most 1 GPUs/],
    ['0 GPUs', { gpusPerJob: 0 }, /'gpusPerJob' \(0\) must be a whole number from 1/],
    ['more vCPUs than the smallest type has', { vcpusPerJob: 5 }, /'vcpusPerJob' \(5\) must be a whole number from 1 to 4/],
    ['more memory than the smallest type has', { memoryPerJob: Size.gibibytes(17) }, /'memoryPerJob' \("17408 MiB"\) must be a whole number of MiB from 4 .* to 16384/],
    ['a fraction of a MiB', { memoryPerJob: Size.kibibytes(1536) }, /'memoryPerJob' \("1\.5 MiB"\)/],
    ['11 attempts', { attempts: 11 }, /'attempts' \(11\) must be a whole number from 1 to 10 \(Batch's limit\)/],
    ['0 attempts', { attempts: 0 }, /'attempts' \(0\)/],
    ['a 30-second timeout', { timeout: Duration.seconds(30) }, /'timeout' \("30 seconds"\) must be at least 60 seconds/],
    ['a prefix without a trailing slash', { checkpointPrefix: 'checkpoints' }, /'checkpointPrefix' \("checkpoints"\) must be an S3 key prefix.*ending with "\/"/],
    ['a prefix with a leading slash', { checkpointPrefix: '/checkpoints/' }, /'checkpointPrefix' \("\/checkpoints\/"\)/],
    ['a prefix with a wildcard', { checkpointPrefix: 'a*/' }, /'checkpointPrefix' \("a\*\/"\)/],
    ['a retention of half a day', { checkpointRetention: Duration.hours(12) }, /'checkpointRetention' \("0\.5 days"\) must be a whole number of days >= 1/],
    ['a 20 GiB root volume', { rootVolumeSize: Size.gibibytes(20) }, /'rootVolumeSize' \("20 GiB"\) must be a whole number of GiB from 30/],
    ['CHECKPOINT_S3_URI in environment', { environment: { CHECKPOINT_S3_URI: 's3://x/' } }, /'environment\["CHECKPOINT_S3_URI"\]' \("s3:\/\/x\/"\) is set by the fleet/],
    ['an AWS_BATCH variable', { environment: { AWS_BATCH_JOB_ID: 'x' } }, /'environment\["AWS_BATCH_JOB_ID"\]' \("x"\) starts with AWS_BATCH/],
    ['a command that is a string', { command: 'python train.py' as never }, /'command' \("python train\.py"\) must be an array of strings/],
    ['subnets the VPC lacks', { vpcSubnets: { subnets: [] } }, /'vpcSubnets' .* must select at least one subnet/],
    ['no image', { image: undefined }, /'image' \(undefined\) is required: an ecs\.ContainerImage/],
    ['a shared memory size above the job\'s memory', { memoryPerJob: Size.gibibytes(8), sharedMemorySize: Size.gibibytes(9) },
      /'sharedMemorySize' \("9216 MiB"\) must be a whole number of MiB from 1 to 8192 \(memoryPerJob\)/],
    // JavaScript callers have no type checker: each of these would otherwise fail with a TypeError, or synthesize s3://undefined/.
    ['a timeout given as a number', { timeout: 3600 as never }, /'timeout' \(3600\) must be a Duration: pass e\.g\. Duration\.hours\(24\)/],
    ['a memory size given as a string', { memoryPerJob: '16GiB' as never }, /'memoryPerJob' \("16GiB"\) must be a Size/],
    ['a root volume given as a number', { rootVolumeSize: 200 as never }, /'rootVolumeSize' \(200\) must be a Size/],
    ['a retention given as a number', { checkpointRetention: 30 as never }, /'checkpointRetention' \(30\) must be a Duration/],
    ['a shared memory size given as a number', { sharedMemorySize: 4096 as never }, /'sharedMemorySize' \(4096\) must be a Size/],
    ['a bucket given by name', { checkpointBucket: 'my-checkpoints' as never }, /'checkpointBucket' \("my-checkpoints"\) must be an s3\.IBucket.*s3\.Bucket\.fromBucketName/],
    ['a role given by ARN', { jobRole: 'arn:aws:iam::123456789012:role/train' as never }, /'jobRole' \("arn:aws:iam::123456789012:role\/train"\) must be an iam\.IRole.*iam\.Role\.fromRoleArn/],
    ['instance types given by name', { instanceTypes: ['g6.xlarge'] as never }, /'instanceTypes' \("g6\.xlarge"\) must hold GpuInstanceType values/],
  ];
  test.each(cases)('with %s, synthesis fails', (_name, props, message) => {
    expect(() => fleet(props as Partial<SpotTrainingFleetProps>)).toThrow(message);
  });

  test('without a vpc, synthesis fails naming it', () => {
    const { stack } = newStack();
    expect(() => new SpotTrainingFleet(stack, 'Fleet', { image: IMAGE } as unknown as SpotTrainingFleetProps))
      .toThrow(/\[TestStack\/Fleet\] 'vpc' \(undefined\) is required: an ec2\.IVpc/);
  });
});

describe('SpotTrainingFleet cdk-nag AwsSolutions', () => {
  let stack: Stack;
  beforeAll(() => {
    stack = fleet({ onDemandFallback: true }).stack;
    Validations.of(stack.node.findChild('Vpc')).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'Test VPC: flow logs are not the subject of this test.' });
  });

  test('reports no unacknowledged errors', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.filter((v) => v.severity === 'error').map((v) => v.ruleName)).toEqual([]);
  });

  test('every acknowledgement names one finding and carries a written reason', () => {
    const acks = Object.fromEntries(Object.entries(acknowledgements(stack)).filter(([id]) => id.startsWith('AwsSolutions-')));
    const ours = Object.entries(acks).filter(([id]) => id !== 'AwsSolutions-VPC7');
    expect(Object.keys(acks).sort()).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]',
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<FleetCheckpointBucket[0-9A-F]{8}\.Arn>\/checkpoints\/\*\]$/),
      'AwsSolutions-S1',
      'AwsSolutions-VPC7',
    ]);
    for (const [, reason] of ours) expect(reason.length).toBeGreaterThan(40);
  });
});

describe('SpotTrainingFleet in the cost estimate', () => {
  test('every resource of the fleet is known to CostEstimate: nothing at rest but its KMS key, at most maxInstances of its instances', () => {
    const { stack, template } = fleet({ maxInstances: 2 });
    const estimate = CostEstimate.fromTemplates([{ stackName: stack.stackName, template: template().toJSON() }]);
    expect(estimate.unknown.map((i) => i.resourceType)).toEqual([]);
    const compute = estimate.items.filter((i) => i.resourceType === 'AWS::Batch::ComputeEnvironment');
    expect(compute).toHaveLength(1);
    // maxvCpus 2 x 16 (g6.4xlarge): at most the dearest way to fill 32 vCPUs, 8 x g6.xlarge.
    expect(compute[0]).toMatchObject({ spot: true, quantityAtRest: 0, quantityAtMost: 8, monthlyUsdAtRest: 0 });
    // At rest only the checkpoint bucket's KMS key bills, beside the test VPC's NAT gateway and its address.
    const fleetAtRest = estimate.items.filter((i) => !i.logicalId.startsWith('Vpc')).reduce((a, i) => a + (i.monthlyUsdAtRest ?? 0), 0);
    expect(fleetAtRest).toBe(1);
  });
});

describe('SpotTrainingFleet job region', () => {
  test('an AWS_REGION given in environment replaces the stack\'s region, once', () => {
    const t = fleet({ environment: { AWS_REGION: 'eu-west-1' } }).template();
    const [definition] = Object.values(t.findResources('AWS::Batch::JobDefinition'));
    const env = definition.Properties.ContainerProperties.Environment as Array<{ Name: string; Value: unknown }>;
    expect(env.filter((e) => e.Name === 'AWS_REGION')).toEqual([{ Name: 'AWS_REGION', Value: 'eu-west-1' }]);
  });
});
