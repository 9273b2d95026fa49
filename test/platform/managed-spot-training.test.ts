import { CreateTrainingJobCommand, DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { Duration } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import {
  describeManagedSpotTraining, managedSpotTrainingReport, managedSpotTrainingRequest, ManagedSpotTrainingProps, startManagedSpotTraining,
} from '../../lib/managed-spot-training';

const sagemaker = mockClient(SageMakerClient);
beforeEach(() => sagemaker.reset());

const PROPS: ManagedSpotTrainingProps = {
  jobName: 'fraud-mlp-2026-12-02',
  roleArn: 'arn:aws:iam::123456789012:role/sagemaker-training',
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1.0',
  instanceType: GpuInstanceType.G5_XLARGE,
  maxRuntime: Duration.hours(4),
  checkpointS3Uri: 's3://ml-artifacts/checkpoints/fraud-mlp/',
  outputS3Uri: 's3://ml-artifacts/models/',
};

describe('managed spot training', () => {
  test('starts the job with CreateTrainingJob: managed spot on, both time limits, checkpoints to S3, and returns its ARN', async () => {
    sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:123456789012:training-job/fraud-mlp-2026-12-02' });
    const arn = await startManagedSpotTraining(new SageMakerClient({ region: 'us-east-1' }), {
      ...PROPS,
      inputs: { train: 's3://ml-data/fraud/train/', validation: 's3://ml-data/fraud/validation/' },
      hyperparameters: { epochs: '20' },
      environment: { LOG_LEVEL: 'info' },
    });
    expect(arn).toBe('arn:aws:sagemaker:us-east-1:123456789012:training-job/fraud-mlp-2026-12-02');
    const calls = sagemaker.commandCalls(CreateTrainingJobCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({
      TrainingJobName: 'fraud-mlp-2026-12-02',
      RoleArn: 'arn:aws:iam::123456789012:role/sagemaker-training',
      AlgorithmSpecification: { TrainingImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1.0', TrainingInputMode: 'File' },
      ResourceConfig: { InstanceType: 'ml.g5.xlarge', InstanceCount: 1, VolumeSizeInGB: 50 },
      EnableManagedSpotTraining: true,
      StoppingCondition: { MaxRuntimeInSeconds: 14400, MaxWaitTimeInSeconds: 28800 },
      CheckpointConfig: { S3Uri: 's3://ml-artifacts/checkpoints/fraud-mlp/', LocalPath: '/opt/ml/checkpoints' },
      OutputDataConfig: { S3OutputPath: 's3://ml-artifacts/models/' },
      InputDataConfig: [
        { ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://ml-data/fraud/train/', S3DataDistributionType: 'FullyReplicated' } } },
        { ChannelName: 'validation', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://ml-data/fraud/validation/', S3DataDistributionType: 'FullyReplicated' } } },
      ],
      HyperParameters: { epochs: '20' },
      Environment: { LOG_LEVEL: 'info' },
    });
  });

  test('takes an ml. type name, a cluster, a wait limit, a VPC, a KMS key, retries and tags as given', () => {
    const input = managedSpotTrainingRequest({
      ...PROPS,
      instanceType: 'ml.p3.16xlarge',
      instanceCount: 2,
      volumeSizeGiB: 200,
      maxWait: Duration.hours(12),
      checkpointLocalPath: '/opt/ml/checkpoints/run-1',
      subnetIds: ['subnet-0a1b2c3d'],
      securityGroupIds: ['sg-0a1b2c3d'],
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      retryAttempts: 2,
      tags: { team: 'ml-platform' },
    });
    expect(input).toMatchObject({
      ResourceConfig: { InstanceType: 'ml.p3.16xlarge', InstanceCount: 2, VolumeSizeInGB: 200, VolumeKmsKeyId: expect.stringContaining(':key/') },
      StoppingCondition: { MaxRuntimeInSeconds: 14400, MaxWaitTimeInSeconds: 43200 },
      CheckpointConfig: { LocalPath: '/opt/ml/checkpoints/run-1' },
      OutputDataConfig: { KmsKeyId: expect.stringContaining(':key/') },
      VpcConfig: { Subnets: ['subnet-0a1b2c3d'], SecurityGroupIds: ['sg-0a1b2c3d'] },
      RetryStrategy: { MaximumRetryAttempts: 2 },
      Tags: [{ Key: 'team', Value: 'ml-platform' }],
    });
  });

  test.each([
    [GpuInstanceType.G5_XLARGE, 'ml.g5.xlarge'], ['ml.g4dn.12xlarge', 'ml.g4dn.12xlarge'], ['ml.p4d.24xlarge', 'ml.p4d.24xlarge'],
    ['ml.p5.48xlarge', 'ml.p5.48xlarge'], ['ml.g6e.2xlarge', 'ml.g6e.2xlarge'], ['ml.p3dn.24xlarge', 'ml.p3dn.24xlarge'], ['ml.c5d.4xlarge', 'ml.c5d.4xlarge'],
  ])('with a KMS key on %s, a type with local instance storage, the key encrypts the output but is not sent as VolumeKmsKeyId', (instanceType, name) => {
    const kmsKeyId = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const input = managedSpotTrainingRequest({ ...PROPS, instanceType, kmsKeyId });
    expect(input.ResourceConfig).toEqual({ InstanceType: name, InstanceCount: 1, VolumeSizeInGB: 50 });
    expect(input.OutputDataConfig).toEqual({ S3OutputPath: PROPS.outputS3Uri, KmsKeyId: kmsKeyId });
  });

  test('reports the saving as SageMaker computes it, the instance-seconds not billed, the interruptions, and USD at a given price', async () => {
    sagemaker.on(DescribeTrainingJobCommand, { TrainingJobName: 'fraud-mlp-2026-12-02' }).resolves({
      TrainingJobName: 'fraud-mlp-2026-12-02',
      TrainingJobStatus: 'Completed',
      SecondaryStatus: 'Completed',
      EnableManagedSpotTraining: true,
      ResourceConfig: { InstanceType: 'ml.g5.xlarge', InstanceCount: 2, VolumeSizeInGB: 50 },
      TrainingTimeInSeconds: 5000,
      BillableTimeInSeconds: 1500,
      SecondaryStatusTransitions: [
        { Status: 'Starting', StartTime: new Date() }, { Status: 'Training', StartTime: new Date() },
        { Status: 'Interrupted', StartTime: new Date() }, { Status: 'Starting', StartTime: new Date() },
        { Status: 'Training', StartTime: new Date() }, { Status: 'Interrupted', StartTime: new Date() },
        { Status: 'Training', StartTime: new Date() }, { Status: 'Completed', StartTime: new Date() },
      ],
    } as never);
    const report = await describeManagedSpotTraining(new SageMakerClient({ region: 'us-east-1' }), 'fraud-mlp-2026-12-02', { usdPerInstanceHour: 1.5 });
    expect(report).toEqual({
      jobName: 'fraud-mlp-2026-12-02',
      status: 'Completed',
      secondaryStatus: 'Completed',
      managedSpot: true,
      instanceType: 'ml.g5.xlarge',
      instanceCount: 2,
      trainingSeconds: 5000,
      billableSeconds: 1500,
      savedInstanceSeconds: 7000, // (5000 - 1500) x 2 instances
      savingsPercent: 70,
      interruptions: 2,
      usdSaved: 2.92, // 7000 s / 3600 x $1.50
    });
    expect(sagemaker.commandCalls(DescribeTrainingJobCommand)).toHaveLength(1);
  });

  test('a job still running, or run without managed spot, reports no figure it does not have', () => {
    const running = managedSpotTrainingReport({ TrainingJobName: 'j', TrainingJobStatus: 'InProgress', SecondaryStatus: 'Pending', EnableManagedSpotTraining: true });
    expect(running).toMatchObject({ trainingSeconds: undefined, billableSeconds: undefined, savedInstanceSeconds: undefined, savingsPercent: undefined, interruptions: 0, instanceCount: 1 });
    expect(running).not.toHaveProperty('usdSaved');
    const onDemand = managedSpotTrainingReport({ TrainingJobName: 'j', EnableManagedSpotTraining: false, TrainingTimeInSeconds: 600, BillableTimeInSeconds: 600 }, { usdPerInstanceHour: 2 });
    expect(onDemand).toMatchObject({ managedSpot: false, savingsPercent: 0, savedInstanceSeconds: 0, usdSaved: 0 });
  });

  describe('refuses a request SageMaker would refuse, naming the prop, the value and what is allowed, before calling AWS', () => {
    test.each([
      [{ jobName: 'fraud_mlp' }, /'jobName' \("fraud_mlp"\) must be 1 to 63 letters, digits and hyphens/],
      [{ jobName: undefined }, /'jobName' \(undefined\) is required and must be 1 to 63/],
      [{ jobName: `fraud-${'a-'.repeat(30)}x` }, /'jobName' \("fraud-a-a-.*-x"\) must be 1 to 63 letters, digits and hyphens/],
      [{ roleArn: 'sagemaker-training' }, /'roleArn' \("sagemaker-training"\) must be an IAM role ARN/],
      [{ image: 'train image' }, /'image' \("train image"\) must be a container image URI without whitespace/],
      [{ instanceType: 'g5.xlarge' }, /'instanceType' \("g5.xlarge"\) must be a GpuInstanceType or an ml\. instance type name/],
      [{ instanceCount: 0 }, /'instanceCount' \(0\) must be a whole number >= 1/],
      [{ volumeSizeGiB: 20000 }, /'volumeSizeGiB' \(20000\) must be a whole number of GiB from 1 to 16384/],
      [{ maxRuntime: Duration.days(29) }, /'maxRuntime' \("2505600s"\) must be from 1 second to 28 days/],
      [{ maxRuntime: 3600 as unknown as Duration }, /'maxRuntime' \(3600\) must be a Duration/],
      [{ maxWait: Duration.hours(3) }, /'maxWait' \("10800s"\) must be at least maxRuntime \(14400s\)/],
      [{ checkpointS3Uri: undefined }, /'checkpointS3Uri' \(undefined\) is required and must be an S3 URI/],
      [{ checkpointS3Uri: '/opt/ml/checkpoints' }, /'checkpointS3Uri' \("\/opt\/ml\/checkpoints"\) must be an S3 URI/],
      [{ checkpointLocalPath: 'checkpoints' }, /'checkpointLocalPath' \("checkpoints"\) must be an absolute path/],
      [{ inputs: { 'train data': 's3://b/x/' } }, /'inputs\.train data' \("train data"\) is no channel name/],
      [{ inputs: { train: 'https://example.com/x' } }, /'inputs\.train' \("https:\/\/example.com\/x"\) must be an S3 URI/],
      [{ subnetIds: ['subnet-0a1b2c3d'] }, /'securityGroupIds' \(\[\]\) must be given together with subnetIds/],
      [{ retryAttempts: 31 }, /'retryAttempts' \(31\) must be a whole number from 1 to 30/],
      [{ hyperparameters: { epochs: 20 as unknown as string } }, /'hyperparameters\.epochs' \(20\) must be a string/],
    ] as Array<[Partial<ManagedSpotTrainingProps>, RegExp]>)('%j', async (change, message) => {
      await expect(startManagedSpotTraining(new SageMakerClient({ region: 'us-east-1' }), { ...PROPS, ...change })).rejects.toThrow(message);
      expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    });

    test('a USD price that is not a positive number', () => {
      expect(() => managedSpotTrainingReport({}, { usdPerInstanceHour: -1 })).toThrow(/'usdPerInstanceHour' \(-1\) must be a positive number of USD/);
    });
  });
});
