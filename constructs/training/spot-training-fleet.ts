import { Annotations, Duration, RemovalPolicy, Size, SizeRoundingBehavior, Stack, Token, Validations } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PlatformError, requireProp } from '../../lib/private/errors';
import { NODE_METADATA_OPTIONS } from '../../lib/private/node-metadata';
import { AcceleratorVendor, CpuArchitecture, GpuInstanceType } from '../compute/gpu-instance-type';
import { acknowledgeWildcards } from '../serving/private/nag';

/** Properties of a `SpotTrainingFleet`. */
export interface SpotTrainingFleetProps {
  /** VPC the instances run in. */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets for the instances. They need a route to ECR, S3 and CloudWatch Logs (a NAT gateway or VPC endpoints).
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * NVIDIA x86_64 GPU instance types Batch may launch. Several types of one GPU model give spot more pools to draw
   * from. Jobs are sized against the smallest of them (GPUs, vCPUs, memory), so every type can run every job.
   * @default [GpuInstanceType.G6_XLARGE, GpuInstanceType.G6_2XLARGE, GpuInstanceType.G6_4XLARGE] (one NVIDIA L4 each: three spot pools)
   */
  readonly instanceTypes?: GpuInstanceType[];

  /**
   * How many instances of the largest type the fleet may run at once: the compute environment's `maxvCpus` is this
   * times the largest type's vCPUs. Smaller types can number more within the same vCPUs. Batch may go over
   * `maxvCpus` by one instance to place a job.
   * @default 4
   */
  readonly maxInstances?: number;

  /**
   * Also create an on-demand compute environment of the same types, after the spot one in the queue's order. Batch
   * sends a job there only when the spot environment is at `maxvCpus`, not when spot capacity is short (see the
   * class documentation).
   * @default false
   */
  readonly onDemandFallback?: boolean;

  /** Container image of the training job. */
  readonly image: ecs.ContainerImage;

  /**
   * Command of the training container; Batch parameters (`Ref::name`) may be used and set at submission.
   * @default - the image's CMD
   */
  readonly command?: string[];

  /**
   * Environment of the training container, besides `CHECKPOINT_S3_URI`. Names starting with `AWS_BATCH` are
   * reserved by Batch.
   * @default - only CHECKPOINT_S3_URI
   */
  readonly environment?: Record<string, string>;

  /**
   * GPUs per job: 1 to the smallest instance type's GPU count.
   * @default - all GPUs of the smallest instance type
   */
  readonly gpusPerJob?: number;

  /**
   * vCPUs per job: a whole number from 1 to the smallest instance type's vCPUs.
   * @default - all vCPUs of the smallest instance type
   */
  readonly vcpusPerJob?: number;

  /**
   * Memory per job, a whole number of MiB, at most the smallest instance type's memory. The ECS agent registers
   * less memory than the instance type's nominal figure (the kernel and the agent keep some), and a job asking for
   * more than an instance registered never leaves RUNNABLE: more than 90% gets a warning.
   * @default - 90% of the smallest instance type's memory
   */
  readonly memoryPerJob?: Size;

  /**
   * Size of the container's `/dev/shm`, a whole number of MiB up to `memoryPerJob`. PyTorch DataLoader workers pass
   * batches through it, and NCCL uses it between the GPUs of one instance; Docker's default is 64 MiB, which stops a
   * DataLoader with workers ("bus error") and NCCL. What is written there counts against `memoryPerJob`.
   * @default - half of memoryPerJob, at most 8 GiB
   */
  readonly sharedMemorySize?: Size;

  /**
   * Attempts per job (Batch takes 1-10). A job is retried only when its host went away (a reclaimed spot instance);
   * any other failure ends it.
   * @default 5
   */
  readonly attempts?: number;

  /**
   * Time limit of each attempt (at least 60 seconds, Batch's minimum). Batch terminates an attempt that runs
   * longer, and does not retry it.
   * @default Duration.hours(24)
   */
  readonly timeout?: Duration;

  /**
   * Role the training container runs as (assumed by `ecs-tasks.amazonaws.com`). It is granted read and write on the
   * checkpoint prefix.
   * @default - a role with only the checkpoint permissions
   */
  readonly jobRole?: iam.IRole;

  /**
   * Bucket for checkpoints. A bucket passed in that is encrypted with a customer managed KMS key must be imported
   * with that key (`encryptionKey`), or the job role is not allowed to use it.
   * @default - a bucket this construct creates: KMS-encrypted, public access blocked, TLS only, retained on stack deletion
   */
  readonly checkpointBucket?: s3.IBucket;

  /**
   * Key prefix of the checkpoints in the bucket, ending with `/`. The job role may read and write only under it.
   * @default 'checkpoints/'
   */
  readonly checkpointPrefix?: string;

  /**
   * How long checkpoints stay in the created bucket before a lifecycle rule deletes them (whole days, >= 1). Not
   * used with `checkpointBucket`.
   * @default Duration.days(30)
   */
  readonly checkpointRetention?: Duration;

  /**
   * Root volume size of the instances: container images, and data the job stages locally (whole GiB, 30-16384).
   * @default Size.gibibytes(200)
   */
  readonly rootVolumeSize?: Size;

  /**
   * Retention of the jobs' log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The environment variable the container gets the checkpoint location in. */
export const CHECKPOINT_ENV = 'CHECKPOINT_S3_URI';

const DEFAULT_TYPES = [GpuInstanceType.G6_XLARGE, GpuInstanceType.G6_2XLARGE, GpuInstanceType.G6_4XLARGE];
const DEFAULT_MEMORY_SHARE = 0.9;
/** The most `/dev/shm` gets by default, as in the Kubernetes TrainingJob. */
const DEFAULT_SHM_MAX_MIB = 8192;
/** The glob Batch writes into a job's status reason when the instance under it went away: "Host EC2 (instance i-...) terminated." */
const HOST_TERMINATED = batch.Reason.SPOT_INSTANCE_RECLAIMED;

/**
 * Spot GPU training on AWS Batch: a managed EC2 (ECS) compute environment of spot NVIDIA instances that scales from
 * zero, a job queue, a GPU job definition that retries when its instance is reclaimed, and a checkpoint location in
 * S3 that every attempt of a job can resume from.
 *
 * Decisions:
 * - Spot instances are chosen with `SPOT_PRICE_CAPACITY_OPTIMIZED`, the strategy Batch recommends: the pools least
 *   likely to be interrupted, and among those the cheapest. It is set explicitly, since older aws-cdk-lib versions
 *   defaulted to `SPOT_CAPACITY_OPTIMIZED`.
 * - `useOptimalInstanceClasses` is off: it would add Batch's `optimal` CPU instance classes to the environment, and a
 *   job could then wait for, or Batch launch, instances with no GPU.
 * - Only NVIDIA x86_64 types: the environment runs the ECS GPU AMI (`ECS_AL2023_NVIDIA`), which Batch offers for
 *   NVIDIA GPUs and not for Graviton. Inferentia and Trainium are refused, since this construct does not set up the
 *   Neuron devices for ECS jobs.
 * - `minvCpus` is 0, so nothing runs (or costs) while the queue is empty; `maxvCpus` is `maxInstances` times the
 *   largest type's vCPUs.
 * - The launch template requires IMDSv2 with a hop limit of 1: job containers cannot read the instance role's
 *   credentials from the instance metadata (they get the job role from the ECS agent instead), and the root volume
 *   is encrypted gp3. The environment points at the template's latest version, so a change to it reaches Batch as
 *   an infrastructure update.
 * - Jobs are sized against the smallest type, so any instance the environment launches can run any job. Their
 *   `/dev/shm` is half their memory, at most 8 GiB: Docker's 64 MiB default is too small for PyTorch DataLoader workers
 *   and for NCCL between the GPUs of one instance.
 * - The retry strategy retries only when Batch reports that the host went away (status reason `Host EC2*`,
 *   aws-batch's `Reason.SPOT_INSTANCE_RECLAIMED`), up to `attempts`, and exits on anything else: without the final
 *   catch-all entries Batch would retry every failure, a bug in the training code included.
 * - Checkpoints: the container gets `CHECKPOINT_S3_URI` (`s3://bucket/prefix/`). The job must save checkpoints there
 *   periodically and, when it starts, resume from the latest one: a reclaimed spot instance gets two minutes' notice,
 *   and the retried attempt starts on another instance with nothing from the first one's disk. The job role may
 *   read, write and delete objects under that prefix only. It may list the bucket the fleet creates, so that S3
 *   answers 404, not 403, for a checkpoint that does not exist yet; in a bucket passed in it may list under the prefix
 *   only.
 * - With `onDemandFallback`, an on-demand environment of the same types follows the spot one in the queue. Batch
 *   places a job in the first environment in order that can take it, and moves on only when that one is at its
 *   `maxvCpus`: it is overflow capacity, not a fallback for when spot capacity is short. For a job that must finish
 *   on time, submit it to a queue of on-demand capacity of its own.
 *
 * @example
 * const fleet = new SpotTrainingFleet(this, 'Training', {
 *   vpc,
 *   image: ecs.ContainerImage.fromEcrRepository(repository, 'v1'),
 *   command: ['python', 'train.py'],
 *   maxInstances: 8,
 * });
 * fleet.jobQueue;       // submit jobs here
 * fleet.jobDefinition;  // with this definition
 *
 * @see https://docs.aws.amazon.com/batch/latest/userguide/bestpractice6.html
 * @see https://docs.aws.amazon.com/batch/latest/userguide/job_retries.html
 */
export class SpotTrainingFleet extends Construct {
  /** The spot compute environment. */
  public readonly spotEnvironment: batch.ManagedEc2EcsComputeEnvironment;
  /** The on-demand compute environment, with `onDemandFallback`. */
  public readonly onDemandEnvironment?: batch.ManagedEc2EcsComputeEnvironment;
  /** The job queue: the spot environment first, then the on-demand one if any. */
  public readonly jobQueue: batch.JobQueue;
  /** The GPU training job definition. */
  public readonly jobDefinition: batch.EcsJobDefinition;
  /** The launch template of the instances (IMDSv2 with a hop limit of 1, encrypted gp3 root volume). */
  public readonly launchTemplate: ec2.LaunchTemplate;
  /** The role the training container runs as. */
  public readonly jobRole: iam.IRole;
  /** The instances' security group (no inbound rules). */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The instances' role (the ECS agent's permissions). */
  public readonly instanceRole: iam.IRole;
  /** The checkpoint bucket. */
  public readonly checkpointBucket: s3.IBucket;
  /** The checkpoint key prefix, ending with `/`. */
  public readonly checkpointPrefix: string;
  /** The checkpoint location given to the container as `CHECKPOINT_S3_URI`. */
  public readonly checkpointS3Uri: string;
  /** The jobs' log group. */
  public readonly logGroup: logs.LogGroup;
  /** Instance types of the environments. */
  public readonly instanceTypes: GpuInstanceType[];
  /** `maxvCpus` of each environment. */
  public readonly maxvCpus: number;
  /** GPUs, vCPUs and memory (MiB) each job asks for. */
  public readonly gpusPerJob: number;
  public readonly vcpusPerJob: number;
  public readonly memoryPerJobMiB: number;

  constructor(scope: Construct, id: string, props: SpotTrainingFleetProps) {
    super(scope, id);
    requireProp(this, 'vpc', props?.vpc, 'object', 'an ec2.IVpc: the VPC the instances run in');
    requireProp(this, 'image', props.image, 'object', 'an ecs.ContainerImage: the training image',
      'pass e.g. ecs.ContainerImage.fromEcrRepository(repository, tag)');

    // A JavaScript caller has no type checker: a number or a string here would fail later with a bare TypeError.
    this.requireDuration('timeout', props.timeout, 'Duration.hours(24)');
    this.requireDuration('checkpointRetention', props.checkpointRetention, 'Duration.days(30)');
    this.requireSize('memoryPerJob', props.memoryPerJob, 'Size.gibibytes(14)');
    this.requireSize('rootVolumeSize', props.rootVolumeSize, 'Size.gibibytes(200)');
    this.requireSize('sharedMemorySize', props.sharedMemorySize, 'Size.gibibytes(8)');
    this.requireInterface('checkpointBucket', props.checkpointBucket, ['bucketName', 'bucketArn'], ['arnForObjects'],
      'an s3.IBucket', 'import a bucket by name with s3.Bucket.fromBucketName(this, id, name), or s3.Bucket.fromBucketAttributes with its encryptionKey');
    this.requireInterface('jobRole', props.jobRole, ['roleArn'], ['attachInlinePolicy'],
      'an iam.IRole', 'import a role by ARN with iam.Role.fromRoleArn(this, id, arn)');

    // Defaults
    const types = props.instanceTypes ?? DEFAULT_TYPES;
    this.validateInstanceTypes(types);
    const smallest = {
      gpus: Math.min(...types.map((t) => t.acceleratorCount)),
      vcpus: Math.min(...types.map((t) => t.vcpus)),
      memoryMiB: Math.min(...types.map((t) => Math.floor(t.memoryGiB * 1024))),
    };
    const maxInstances = props.maxInstances ?? 4;
    const gpusPerJob = props.gpusPerJob ?? smallest.gpus;
    const vcpusPerJob = props.vcpusPerJob ?? smallest.vcpus;
    const memory = props.memoryPerJob ?? Size.mebibytes(Math.floor(smallest.memoryMiB * DEFAULT_MEMORY_SHARE));
    const attempts = props.attempts ?? 5;
    const timeout = props.timeout ?? Duration.hours(24);
    const prefix = props.checkpointPrefix ?? 'checkpoints/';
    const retention = props.checkpointRetention ?? Duration.days(30);
    const rootVolume = props.rootVolumeSize ?? Size.gibibytes(200);

    // Validation
    this.validateWhole('maxInstances', maxInstances, 1, undefined, 'set maxInstances to 1 or more');
    this.validateWhole('gpusPerJob', gpusPerJob, 1, smallest.gpus,
      `ask for at most ${smallest.gpus} GPUs, or list only instance types with more`, 'the smallest instance type\'s GPU count');
    this.validateWhole('vcpusPerJob', vcpusPerJob, 1, smallest.vcpus,
      `ask for at most ${smallest.vcpus} vCPUs, or list only larger instance types`, 'the smallest instance type\'s vCPUs');
    const memoryMiB = this.validateMemory(memory, smallest.memoryMiB);
    const sharedMemoryMiB = this.validateSharedMemory(props.sharedMemorySize, memoryMiB);
    this.validateWhole('attempts', attempts, 1, 10, 'use 1-10 attempts', 'Batch\'s limit');
    if (!Token.isUnresolved(timeout.toSeconds()) && timeout.toSeconds() < 60) {
      throw new PlatformError(this, 'timeout', `${timeout.toSeconds()} seconds`, 'must be at least 60 seconds (Batch\'s minimum for a job timeout)',
        'use e.g. Duration.hours(24)');
    }
    this.validatePrefix(prefix);
    if (props.checkpointBucket && props.checkpointRetention !== undefined) {
      Annotations.of(this).addWarningV2('ai-platform:spotTrainingFleetRetentionUnused',
        '\'checkpointRetention\' is unused: it sets the lifecycle rule of the bucket the fleet creates, and \'checkpointBucket\' was passed; '
        + 'add a lifecycle rule to that bucket yourself');
    }
    if (!props.checkpointBucket && !retention.isUnresolved()) {
      const days = retention.toDays({ integral: false });
      if (!Number.isInteger(days) || days < 1) {
        throw new PlatformError(this, 'checkpointRetention', `${days} days`, 'must be a whole number of days >= 1 (an S3 lifecycle expiration)',
          'use e.g. Duration.days(30)');
      }
    }
    this.validateRootVolume(rootVolume);
    this.validateEnvironment(props.environment ?? {});
    if (props.command !== undefined && (!Array.isArray(props.command) || props.command.some((c) => typeof c !== 'string'))) {
      throw new PlatformError(this, 'command', props.command, 'must be an array of strings (the container command and its arguments)',
        'pass e.g. [\'python\', \'train.py\']');
    }
    const subnetSelection = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const subnets = props.vpc.selectSubnets(subnetSelection);
    if (subnets.subnetIds.length === 0) {
      throw new PlatformError(this, 'vpcSubnets', { ...subnetSelection, subnets: subnetSelection.subnets?.map((s) => s.subnetId) },
        'must select at least one subnet of the VPC, and selects none', 'select by subnetType or subnetGroupName, or add private subnets with egress to the VPC');
    }
    this.warnSinglePool(types);

    this.instanceTypes = types;
    this.maxvCpus = maxInstances * Math.max(...types.map((t) => t.vcpus));
    this.gpusPerJob = gpusPerJob;
    this.vcpusPerJob = vcpusPerJob;
    this.memoryPerJobMiB = memoryMiB;
    this.checkpointPrefix = prefix;

    // Children
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      // IMDSv2 only, hop limit 1: the same metadata options as the EKS node groups' (NODE_METADATA_OPTIONS).
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpEndpoint: true,
      httpPutResponseHopLimit: NODE_METADATA_OPTIONS.httpPutResponseHopLimit,
      blockDevices: [{
        // The root device of the ECS-optimized Amazon Linux 2023 AMIs.
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(rootVolume.toGibibytes(), {
          volumeType: ec2.EbsDeviceVolumeType.GP3,
          encrypted: true,
          deleteOnTermination: true,
        }),
      }],
    });

    this.instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Instances of spot training fleet ${this.node.path} (ECS agent)`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEC2ContainerServiceforEC2Role')],
    });
    Validations.of(this.instanceRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]',
      reason: 'AmazonEC2ContainerServiceforEC2Role is the policy Batch and ECS name for the instance role of an ECS compute environment: the ECS agent '
        + 'registers the instance, pulls images and writes logs with it. The role holds nothing else, and IMDSv2 with a hop limit of 1 keeps it from the job containers',
    });

    // One group for both environments. No inbound rules: nothing connects to a training instance. Outbound is open, since
    // jobs reach ECR, S3, CloudWatch Logs and whatever data sources the training code uses.
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Spot training fleet instances: no inbound, all outbound',
      allowAllOutbound: true,
    });
    this.spotEnvironment = this.createEnvironment('SpotEnvironment', true, props.vpc, subnetSelection, types);
    if (props.onDemandFallback) {
      this.onDemandEnvironment = this.createEnvironment('OnDemandEnvironment', false, props.vpc, subnetSelection, types);
    }
    this.jobQueue = new batch.JobQueue(this, 'JobQueue', {
      computeEnvironments: [
        { computeEnvironment: this.spotEnvironment, order: 1 },
        ...(this.onDemandEnvironment ? [{ computeEnvironment: this.onDemandEnvironment, order: 2 }] : []),
      ],
    });

    this.checkpointBucket = props.checkpointBucket ?? this.createBucket(prefix, retention);
    this.checkpointS3Uri = `s3://${this.checkpointBucket.bucketName}/${prefix}`;
    this.jobRole = props.jobRole ?? new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Training jobs of spot training fleet ${this.node.path}`,
    });
    this.grantCheckpoints(this.jobRole, prefix, props.checkpointBucket === undefined || props.checkpointBucket === null);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    this.jobDefinition = new batch.EcsJobDefinition(this, 'JobDefinition', {
      container: new batch.EcsEc2ContainerDefinition(this, 'Container', {
        image: props.image,
        command: props.command,
        gpu: gpusPerJob,
        cpu: vcpusPerJob,
        memory: Size.mebibytes(memoryMiB),
        linuxParameters: new batch.LinuxParameters(this, 'LinuxParameters', { sharedMemorySize: Size.mebibytes(sharedMemoryMiB) }),
        jobRole: this.jobRole,
        // The region for the AWS SDKs in the job: with a hop limit of 1 they cannot read it from the instance metadata.
        environment: {
          AWS_REGION: Stack.of(this).region, AWS_DEFAULT_REGION: Stack.of(this).region, ...(props.environment ?? {}), [CHECKPOINT_ENV]: this.checkpointS3Uri,
        },
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'training' }),
      }),
      retryAttempts: attempts,
      retryStrategies: [
        batch.RetryStrategy.of(batch.Action.RETRY, HOST_TERMINATED),
        // Batch retries a failure that matches no entry; these end every other one. AWS's own example ends with
        // onReason '*'; a failure with no reason but an exit code or a status reason is caught by the next two.
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onReason: '*' })),
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onStatusReason: '*' })),
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onExitCode: '*' })),
      ],
      timeout,
      propagateTags: true,
    });
    // An image from ECR gives the execution role ecr:GetAuthorizationToken, an action IAM allows only on "*" (the
    // repository's pull actions are scoped to the repository).
    const executionPolicy = this.jobDefinition.container.executionRole.node.tryFindChild('DefaultPolicy');
    const onAnyResource = executionPolicy instanceof iam.Policy ? policyActionsOnAnyResource(executionPolicy) : [];
    if (onAnyResource.length > 0 && onAnyResource.every((a) => a === 'ecr:GetAuthorizationToken')) {
      Validations.of(executionPolicy!).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ecr:GetAuthorizationToken, which Batch needs to pull the training image from ECR, is an account-level action IAM allows only on "*"; '
          + 'the pull actions themselves are limited to the image\'s repository',
      });
    }
  }

  private createEnvironment(id: string, spot: boolean, vpc: ec2.IVpc, vpcSubnets: ec2.SubnetSelection, types: GpuInstanceType[]): batch.ManagedEc2EcsComputeEnvironment {
    const env = new batch.ManagedEc2EcsComputeEnvironment(this, id, {
      vpc,
      vpcSubnets,
      spot,
      allocationStrategy: spot ? batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED : batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
      useOptimalInstanceClasses: false,
      instanceTypes: types.map((t) => t.toEc2InstanceType()),
      images: [{ imageType: batch.EcsMachineImageType.ECS_AL2023_NVIDIA }],
      minvCpus: 0,
      maxvCpus: this.maxvCpus,
      launchTemplate: this.launchTemplate,
      instanceRole: this.instanceRole,
      securityGroups: [this.securityGroup],
    });
    // aws-batch names the template without a version, which Batch resolves to $Default when the environment is
    // created: a later change to the template would never reach the instances.
    (env.node.defaultChild as batch.CfnComputeEnvironment).addPropertyOverride('ComputeResources.LaunchTemplate.Version',
      this.launchTemplate.latestVersionNumber);
    return env;
  }

  private createBucket(prefix: string, retention: Duration): s3.Bucket {
    const key = new kms.Key(this, 'CheckpointKey', {
      description: `Checkpoints of spot training fleet ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const bucket = new s3.Bucket(this, 'CheckpointBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{
        id: 'ExpireOldCheckpoints',
        prefix,
        expiration: retention,
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Only the training jobs\' role reads and writes checkpoints here; record S3 data events in CloudTrail, or pass a checkpointBucket '
        + 'with server access logging, where access must be audited.',
    });
    return bucket;
  }

  /**
   * Read, write and delete under the prefix, nothing else in the bucket; the bucket's KMS key when it has one. Listing:
   * the whole bucket the fleet created, which holds only checkpoints, and only under the prefix in a bucket passed in.
   * S3 answers a HeadObject or GetObject on a missing key with 404 only to a caller allowed to list the bucket, and with
   * 403 otherwise; checkpoint code that asks whether a file exists (s3fs `exists()`, boto3 `head_object`) expects 404.
   */
  private grantCheckpoints(role: iam.IRole, prefix: string, ownBucket: boolean): void {
    const policy = new iam.Policy(this, 'CheckpointPolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'ListCheckpoints',
          actions: ['s3:ListBucket'],
          resources: [this.checkpointBucket.bucketArn],
          ...(ownBucket ? {} : { conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } } }),
        }),
        new iam.PolicyStatement({
          sid: 'ReadWriteCheckpoints',
          actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
          resources: [this.checkpointBucket.arnForObjects(`${prefix}*`)],
        }),
      ],
    });
    const key = this.checkpointBucket.encryptionKey;
    if (key) {
      // What SSE-KMS needs to read (Decrypt) and write (GenerateDataKey; Decrypt again for multipart uploads), without
      // the wildcards of grantEncryptDecrypt. A key in another account must also allow the role in its key policy.
      policy.addStatements(new iam.PolicyStatement({
        sid: 'CheckpointKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [key.keyArn],
      }));
    }
    role.attachInlinePolicy(policy);
    acknowledgeWildcards(policy, {
      ReadWriteCheckpoints: 'Checkpoint objects under the fleet\'s prefix only: a job writes new checkpoint files and reads back the latest one, whose names it chooses at run time',
    });
  }

  private validateInstanceTypes(types: GpuInstanceType[]): void {
    requireProp(this, 'instanceTypes', types, 'array', 'an array of GpuInstanceType');
    if (types.length === 0) {
      throw new PlatformError(this, 'instanceTypes', [], 'must name at least one NVIDIA GPU instance type', 'pass e.g. [GpuInstanceType.G6_XLARGE]');
    }
    const bad = types.find((t) => !(t instanceof GpuInstanceType));
    if (bad !== undefined) {
      throw new PlatformError(this, 'instanceTypes', bad, 'must hold GpuInstanceType values', 'use GpuInstanceType constants, GpuInstanceType.of(name) or GpuInstanceType.custom(...)');
    }
    const repeated = [...new Set(types.map(String).filter((name, i, all) => all.indexOf(name) !== i))];
    if (repeated.length > 0) {
      throw new PlatformError(this, 'instanceTypes', types.map(String), `names ${repeated.join(', ')} more than once`, 'list each instance type once');
    }
    const neuron = types.filter((t) => t.vendor !== AcceleratorVendor.NVIDIA);
    if (neuron.length > 0) {
      throw new PlatformError(this, 'instanceTypes', neuron.map(String),
        'are not NVIDIA GPU types: the fleet runs Batch\'s ECS GPU AMI (ECS_AL2023_NVIDIA) and asks for GPUs, and does not set up Inferentia or Trainium devices for ECS jobs',
        'use NVIDIA types, or run Neuron training on EKS (GpuNodeGroup with a Neuron type)');
    }
    const arm = types.filter((t) => t.architecture !== CpuArchitecture.X86_64);
    if (arm.length > 0) {
      throw new PlatformError(this, 'instanceTypes', arm.map(String),
        'are Graviton (arm64) types: Batch\'s ECS GPU AMI is for x86_64 instances only',
        'use x86_64 NVIDIA types (g4dn, g5, g6, g6e, p4d, p5)');
    }
  }

  private warnSinglePool(types: GpuInstanceType[]): void {
    if (types.length >= 3) return;
    const names = new Set(types.map((t) => t.name));
    const more = types.flatMap((t) => t.spotAlternatives(2)).filter((t, i, all) => !names.has(t.name) && all.findIndex((a) => a.name === t.name) === i);
    Annotations.of(this).addWarningV2('ai-platform:spotTrainingFleetFewPools',
      `'instanceTypes' (${types.map(String).join(', ')}) give spot only ${types.length} pool${types.length === 1 ? '' : 's'} per zone: when they run dry, jobs wait in RUNNABLE`
      + (more.length > 0 ? `. Interchangeable types (same GPU model and count, at most twice the price): ${more.map(String).join(', ')}` : ''));
  }

  private validateWhole(prop: string, value: number, lowest: number, highest: number | undefined, fix: string, limit?: string): void {
    if (Token.isUnresolved(value)) return;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < lowest || (highest !== undefined && value > highest)) {
      const range = highest === undefined ? `>= ${lowest}` : `from ${lowest} to ${highest}${limit ? ` (${limit})` : ''}`;
      throw new PlatformError(this, prop, value, `must be a whole number ${range}`, fix);
    }
  }

  private validateMemory(memory: Size, limitMiB: number): number {
    if (memory.isUnresolved()) {
      throw new PlatformError(this, 'memoryPerJob', '<token>', 'cannot be a token: it is checked against the instance types at synthesis', 'pass Size.mebibytes(n) or Size.gibibytes(n)');
    }
    const mib = memory.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
    if (!Number.isInteger(mib) || mib < 4 || mib > limitMiB) {
      throw new PlatformError(this, 'memoryPerJob', `${mib} MiB`,
        `must be a whole number of MiB from 4 (Batch's minimum) to ${limitMiB} (the smallest instance type's memory)`,
        'ask for less memory, or list only instance types with more');
    }
    if (mib > limitMiB * DEFAULT_MEMORY_SHARE) {
      Annotations.of(this).addWarningV2('ai-platform:spotTrainingFleetMemory',
        `'memoryPerJob' (${mib} MiB) is more than ${DEFAULT_MEMORY_SHARE * 100}% of the smallest instance type's ${limitMiB} MiB: the ECS agent registers `
        + 'less than the nominal memory, and a job asking for more than an instance registered stays RUNNABLE; leave some room');
    }
    return mib;
  }

  /** Half the job's memory, at most 8 GiB, or the size given: a whole number of MiB from 1 to the job's memory. */
  private validateSharedMemory(size: Size | undefined, memoryMiB: number): number {
    if (size === undefined || size === null) return Math.min(DEFAULT_SHM_MAX_MIB, Math.floor(memoryMiB / 2));
    if (size.isUnresolved()) {
      throw new PlatformError(this, 'sharedMemorySize', '<token>', 'cannot be a token: it is checked against memoryPerJob at synthesis', 'pass Size.mebibytes(n) or Size.gibibytes(n)');
    }
    const mib = size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
    if (!Number.isInteger(mib) || mib < 1 || mib > memoryMiB) {
      throw new PlatformError(this, 'sharedMemorySize', `${mib} MiB`, `must be a whole number of MiB from 1 to ${memoryMiB} (memoryPerJob), since it counts against the job's memory`,
        'lower sharedMemorySize or raise memoryPerJob');
    }
    return mib;
  }

  private requireDuration(prop: string, value: unknown, example: string): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'object' || typeof (value as Duration).toSeconds !== 'function') {
      throw new PlatformError(this, prop, value, 'must be a Duration', `pass e.g. ${example}`);
    }
  }

  private requireSize(prop: string, value: unknown, example: string): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'object' || typeof (value as Size).toMebibytes !== 'function') {
      throw new PlatformError(this, prop, value, 'must be a Size', `pass e.g. ${example}`);
    }
  }

  /** An optional prop typed as an interface: an object with these attributes and methods. */
  private requireInterface(prop: string, value: unknown, attributes: string[], methods: string[], what: string, fix: string): void {
    if (value === undefined || value === null) return;
    const v = value as Record<string, unknown>;
    if (typeof value !== 'object' || attributes.some((a) => v[a] === undefined) || methods.some((m) => typeof v[m] !== 'function')) {
      throw new PlatformError(this, prop, value, `must be ${what}`, fix);
    }
  }

  private validatePrefix(prefix: string): void {
    if (typeof prefix !== 'string' || Token.isUnresolved(prefix)) {
      throw new PlatformError(this, 'checkpointPrefix', prefix, 'must be a literal string: the job role\'s permissions are scoped to it at synthesis', 'pass e.g. "checkpoints/"');
    }
    if (prefix.length < 2 || prefix.length > 1024 || !prefix.endsWith('/') || prefix.startsWith('/') || /[*?\s]|\/\//.test(prefix)) {
      throw new PlatformError(this, 'checkpointPrefix', prefix,
        'must be an S3 key prefix of 2-1024 characters ending with "/", not starting with "/", without "//", "*", "?" or spaces (the role\'s permissions end at it)',
        'use e.g. "checkpoints/" or "team-a/checkpoints/"');
    }
  }

  private validateRootVolume(size: Size): void {
    if (size.isUnresolved()) return;
    const gib = size.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
    if (!Number.isInteger(gib) || gib < 30 || gib > 16384) {
      throw new PlatformError(this, 'rootVolumeSize', `${gib} GiB`,
        'must be a whole number of GiB from 30 (the ECS AMI\'s root snapshot) to 16384 (gp3\'s limit)', 'use e.g. Size.gibibytes(200)');
    }
  }

  private validateEnvironment(environment: Record<string, string>): void {
    for (const [name, value] of Object.entries(environment)) {
      if (name === CHECKPOINT_ENV) {
        throw new PlatformError(this, `environment["${name}"]`, value, 'is set by the fleet to the checkpoint location', 'remove it, or set checkpointBucket and checkpointPrefix');
      }
      if (name.startsWith('AWS_BATCH')) {
        throw new PlatformError(this, `environment["${name}"]`, value, 'starts with AWS_BATCH, which Batch reserves for its own variables', 'rename the variable');
      }
      if (typeof value !== 'string') {
        throw new PlatformError(this, `environment["${name}"]`, value, 'must be a string', 'pass the value as a string');
      }
    }
  }
}

/** The actions of a policy's statements whose resource is "*". */
function policyActionsOnAnyResource(policy: iam.Policy): string[] {
  const doc = Stack.of(policy).resolve(policy.document) as { Statement?: Array<{ Action?: string | string[]; Resource?: string | string[] }> };
  return (doc.Statement ?? [])
    .filter((st) => ([] as string[]).concat(st.Resource ?? []).includes('*'))
    .flatMap((st) => ([] as string[]).concat(st.Action ?? []));
}
