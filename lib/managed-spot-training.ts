/**
 * SageMaker managed spot training, at run time: CloudFormation has no training-job resource, and aws-cdk's Step
 * Functions task cannot turn managed spot on, so a training job is started through the SageMaker API
 * (`CreateTrainingJob`). These helpers build that request with checkpoints and the spot time limits set, start it, and
 * report what spot saved once it has run (`DescribeTrainingJob`).
 *
 * The AWS SDK is loaded only when a function that calls AWS runs, so importing the library stays light.
 */
import type {
  CreateTrainingJobCommandInput, DescribeTrainingJobCommandOutput, SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { Duration } from 'aws-cdk-lib';
import { GpuInstanceType } from '../constructs/compute/gpu-instance-type';
import { PlatformError } from './private/errors';

/** What a managed spot training job runs, and where it reads, writes and checkpoints. */
export interface ManagedSpotTrainingProps {
  /** The training job's name, unique in the account and region: 1 to 63 letters, digits and hyphens, starting with a letter or digit. */
  readonly jobName: string;
  /** The execution role SageMaker assumes: it must read the inputs and write the output and checkpoint locations. */
  readonly roleArn: string;
  /** The training image (an ECR image URI). */
  readonly image: string;
  /** The instance type: a GPU type of the catalog (its `ml.` name is used) or an `ml.` type name, e.g. `ml.g5.xlarge`. */
  readonly instanceType: GpuInstanceType | string;
  /**
   * Instances in the training cluster.
   * @default 1
   */
  readonly instanceCount?: number;
  /**
   * The ML storage volume attached to each instance, in GiB (1 to 16384). On a type with local instance storage
   * (g4dn, g5, g6, p4d, p5 and others) SageMaker uses that storage instead, and refuses a size above its total
   * (125 GB on ml.g4dn.xlarge, 250 GB on ml.g5.xlarge).
   * @default 50
   */
  readonly volumeSizeGiB?: number;
  /** How long the job may run, interruptions' reruns included (`MaxRuntimeInSeconds`: 1 second to 28 days). */
  readonly maxRuntime: Duration;
  /**
   * How long the job may take in all, waiting for spot capacity included (`MaxWaitTimeInSeconds`): at least
   * `maxRuntime`. SageMaker stops the job when it is reached (`MaxWaitTimeExceeded`).
   * @default - twice `maxRuntime`
   */
  readonly maxWait?: Duration;
  /**
   * Where SageMaker keeps the job's checkpoints, `s3://bucket/prefix`. Required: an interrupted spot job resumes only
   * from what the training code saved to the local checkpoint directory, which SageMaker copies here and back.
   */
  readonly checkpointS3Uri: string;
  /**
   * The directory in the container the training code writes its checkpoints to and resumes from.
   * @default '/opt/ml/checkpoints'
   */
  readonly checkpointLocalPath?: string;
  /** Where SageMaker writes the model artifacts, `s3://bucket/prefix`. */
  readonly outputS3Uri: string;
  /**
   * Input channels: name to `s3://bucket/prefix`, copied to `/opt/ml/input/data/<name>` (File mode).
   * @default - none
   */
  readonly inputs?: Readonly<Record<string, string>>;
  /**
   * Hyperparameters passed to the training code (`/opt/ml/input/config/hyperparameters.json`).
   * @default - none
   */
  readonly hyperparameters?: Readonly<Record<string, string>>;
  /**
   * Environment variables of the training container.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Subnets to run in (with `securityGroupIds`): the job then reaches S3 and ECR through the VPC.
   * @default - SageMaker's own network
   */
  readonly subnetIds?: string[];
  /**
   * Security groups of the job's network interfaces; required with `subnetIds`.
   * @default - none
   */
  readonly securityGroupIds?: string[];
  /**
   * KMS key for the output artifacts and the storage volumes. It is sent as `VolumeKmsKeyId` only for instance types
   * without local instance storage: SageMaker refuses `VolumeKmsKeyId` for a type with local NVMe storage (g4dn, g5,
   * g6, g6e, p3dn, p4d, p5 and the other families listed in `LOCAL_STORAGE_FAMILIES`), which it uses instead of an EBS
   * volume and which the instance encrypts in hardware. Checkpoints are not encrypted with it: they get the
   * checkpoint bucket's default encryption.
   * @default - S3's and EBS's default encryption
   */
  readonly kmsKeyId?: string;
  /**
   * How many times SageMaker retries the job after an internal failure (`RetryStrategy.MaximumRetryAttempts`, 1 to 30).
   * Spot interruptions do not need it: SageMaker resumes an interrupted job by itself within `maxWait`.
   * @default - no retries
   */
  readonly retryAttempts?: number;
  /**
   * Tags of the training job.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/** What spot saved a training job, from `DescribeTrainingJob`. */
export interface ManagedSpotTrainingReport {
  readonly jobName: string;
  /** `InProgress`, `Completed`, `Failed`, `Stopping` or `Stopped`. */
  readonly status?: string;
  /** The latest secondary status, e.g. `Training`, `Interrupted`, `Completed`, `MaxWaitTimeExceeded`. */
  readonly secondaryStatus?: string;
  /** Whether the job ran with managed spot training. */
  readonly managedSpot: boolean;
  readonly instanceType?: string;
  readonly instanceCount: number;
  /** Seconds the job trained (`TrainingTimeInSeconds`); undefined until SageMaker reports it. */
  readonly trainingSeconds?: number;
  /** Seconds billed per instance (`BillableTimeInSeconds`); undefined until SageMaker reports it. */
  readonly billableSeconds?: number;
  /** Instance-seconds not billed: (training - billable) x instances. */
  readonly savedInstanceSeconds?: number;
  /** SageMaker's measure of the saving: (1 - billable / training) x 100. */
  readonly savingsPercent?: number;
  /** How many times spot capacity was taken back while the job ran (secondary status `Interrupted`). */
  readonly interruptions: number;
  /** The saving in USD, with `usdPerInstanceHour`: saved instance-seconds at that price. */
  readonly usdSaved?: number;
}

/** Options of `describeManagedSpotTraining` and `managedSpotTrainingReport`. */
export interface ManagedSpotTrainingReportOptions {
  /**
   * The on-demand price of one instance hour, for the saving in USD (SageMaker's training prices are not in this library's catalog).
   * @default - no USD figure
   */
  readonly usdPerInstanceHour?: number;
}

/** SageMaker's pattern for a training job name; the 63-character limit is checked apart, since hyphens are outside the count. */
const JOB_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const JOB_NAME_MAX = 63;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/;
const ML_TYPE = /^ml\.[a-z0-9-]+\.[a-z0-9-]+$/;
const CHANNEL = /^[A-Za-z0-9.\-_]{1,64}$/;
const MAX_RUNTIME_SECONDS = 28 * 24 * 3600;
const MAX_VOLUME_GIB = 16384;
/**
 * Instance families with local NVMe instance storage among SageMaker's training types. SageMaker puts the ML storage
 * volume on that storage and refuses a `VolumeKmsKeyId` for them (ResourceConfig in the SageMaker API reference).
 */
const LOCAL_STORAGE_FAMILIES = new Set([
  'g4dn', 'g5', 'g6', 'g6e', 'gr6', 'p3dn', 'p4d', 'p4de', 'p5', 'p5e', 'p5en', 'p6-b200', 'trn1', 'trn1n', 'trn2',
]);
/** CPU families with a `d` in their suffix (m5d, c5d, r5d, c6id, m6id) have local NVMe storage as well. */
const LOCAL_STORAGE_CPU_FAMILY = /^[cmr]\d+[a-z]*d$/;

/** Whether an `ml.` instance type has local instance storage, so SageMaker refuses a volume KMS key for it. */
function hasLocalStorage(mlType: string): boolean {
  const family = mlType.split('.')[1];
  return LOCAL_STORAGE_FAMILIES.has(family) || LOCAL_STORAGE_CPU_FAMILY.test(family);
}

/** The `CreateTrainingJob` request of a managed spot training job: checked, with checkpoints and both time limits set. */
export function managedSpotTrainingRequest(props: ManagedSpotTrainingProps): CreateTrainingJobCommandInput {
  if (typeof props !== 'object' || props === null) {
    throw new PlatformError(undefined, 'props', props, 'must be the training job\'s ManagedSpotTrainingProps', 'pass { jobName, roleArn, image, instanceType, maxRuntime, checkpointS3Uri, outputS3Uri }');
  }
  check('jobName', props.jobName, (v) => typeof v === 'string' && v.length <= JOB_NAME_MAX && JOB_NAME.test(v),
    'must be 1 to 63 letters, digits and hyphens, starting and ending with a letter or digit (SageMaker\'s rule)', 'e.g. "fraud-mlp-2026-12-02"');
  check('roleArn', props.roleArn, (v) => typeof v === 'string' && ROLE_ARN.test(v), 'must be an IAM role ARN, arn:aws:iam::<account>:role/<name>',
    'pass the SageMaker execution role the job runs as');
  check('image', props.image, (v) => typeof v === 'string' && v.trim() === v && v !== '' && !/\s/.test(v), 'must be a container image URI without whitespace',
    'e.g. "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1.0"');
  const instanceType = props.instanceType instanceof GpuInstanceType ? props.instanceType.sageMakerInstanceType : props.instanceType;
  check('instanceType', instanceType, (v) => typeof v === 'string' && ML_TYPE.test(v), 'must be a GpuInstanceType or an ml. instance type name',
    'e.g. GpuInstanceType.G5_XLARGE or "ml.g5.xlarge"');
  const count = props.instanceCount ?? 1;
  check('instanceCount', count, (v) => Number.isInteger(v) && (v as number) >= 1, 'must be a whole number >= 1', 'e.g. 1');
  const volume = props.volumeSizeGiB ?? 50;
  check('volumeSizeGiB', volume, (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_VOLUME_GIB,
    `must be a whole number of GiB from 1 to ${MAX_VOLUME_GIB}`, 'e.g. 50');
  const runtime = seconds('maxRuntime', props.maxRuntime);
  if (runtime < 1 || runtime > MAX_RUNTIME_SECONDS) {
    throw new PlatformError(undefined, 'maxRuntime', `${runtime}s`, `must be from 1 second to 28 days (${MAX_RUNTIME_SECONDS}s), SageMaker's limit`, 'e.g. Duration.hours(8)');
  }
  const wait = props.maxWait === undefined || props.maxWait === null ? runtime * 2 : seconds('maxWait', props.maxWait);
  if (wait < runtime) {
    throw new PlatformError(undefined, 'maxWait', `${wait}s`, `must be at least maxRuntime (${runtime}s): it is the time waiting for spot capacity plus the time running`,
      `raise maxWait to at least ${runtime}s, e.g. twice maxRuntime`);
  }
  check('checkpointS3Uri', props.checkpointS3Uri, (v) => typeof v === 'string' && S3_URI.test(v), 'must be an S3 URI, s3://bucket/prefix',
    'give where SageMaker keeps the checkpoints an interrupted job resumes from');
  const localPath = props.checkpointLocalPath ?? '/opt/ml/checkpoints';
  check('checkpointLocalPath', localPath, (v) => typeof v === 'string' && v.startsWith('/') && !/\s/.test(v), 'must be an absolute path in the container',
    'e.g. "/opt/ml/checkpoints"');
  check('outputS3Uri', props.outputS3Uri, (v) => typeof v === 'string' && S3_URI.test(v), 'must be an S3 URI, s3://bucket/prefix', 'give where the model artifacts go');
  const inputs = record('inputs', props.inputs);
  for (const [name, uri] of Object.entries(inputs)) {
    check(`inputs.${name}`, name, () => CHANNEL.test(name), 'is no channel name: 1 to 64 letters, digits, ".", "-" or "_"', 'e.g. "train"');
    check(`inputs.${name}`, uri, (v) => typeof v === 'string' && S3_URI.test(v), 'must be an S3 URI, s3://bucket/prefix', 'give the channel\'s data prefix');
  }
  const subnets = props.subnetIds ?? [];
  const groups = props.securityGroupIds ?? [];
  for (const [prop, list] of [['subnetIds', subnets], ['securityGroupIds', groups]] as const) {
    check(prop, list, (v) => Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== ''), 'must be a list of ids', 'e.g. ["subnet-0abc..."]');
  }
  if (subnets.length > 0 !== groups.length > 0) {
    throw new PlatformError(undefined, subnets.length > 0 ? 'securityGroupIds' : 'subnetIds', subnets.length > 0 ? groups : subnets,
      'must be given together with ' + (subnets.length > 0 ? 'subnetIds' : 'securityGroupIds'), 'give both subnets and security groups, or neither');
  }
  const retries = props.retryAttempts;
  if (retries !== undefined && retries !== null) {
    check('retryAttempts', retries, (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 30, 'must be a whole number from 1 to 30', 'e.g. 2, or leave it unset');
  }
  const hyperparameters = record('hyperparameters', props.hyperparameters);
  const environment = record('environment', props.environment);
  const tags = record('tags', props.tags);

  return {
    TrainingJobName: props.jobName,
    RoleArn: props.roleArn,
    AlgorithmSpecification: { TrainingImage: props.image, TrainingInputMode: 'File' },
    ResourceConfig: {
      InstanceType: instanceType as NonNullable<CreateTrainingJobCommandInput['ResourceConfig']>['InstanceType'],
      InstanceCount: count,
      VolumeSizeInGB: volume,
      ...(props.kmsKeyId && !hasLocalStorage(instanceType as string) ? { VolumeKmsKeyId: props.kmsKeyId } : {}),
    },
    EnableManagedSpotTraining: true,
    StoppingCondition: { MaxRuntimeInSeconds: runtime, MaxWaitTimeInSeconds: wait },
    CheckpointConfig: { S3Uri: props.checkpointS3Uri, LocalPath: localPath },
    OutputDataConfig: { S3OutputPath: props.outputS3Uri, ...(props.kmsKeyId ? { KmsKeyId: props.kmsKeyId } : {}) },
    ...(Object.keys(inputs).length > 0 ? {
      InputDataConfig: Object.entries(inputs).map(([name, uri]) => ({
        ChannelName: name,
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uri, S3DataDistributionType: 'FullyReplicated' } },
      })),
    } : {}),
    ...(Object.keys(hyperparameters).length > 0 ? { HyperParameters: { ...hyperparameters } } : {}),
    ...(Object.keys(environment).length > 0 ? { Environment: { ...environment } } : {}),
    ...(subnets.length > 0 ? { VpcConfig: { Subnets: [...subnets], SecurityGroupIds: [...groups] } } : {}),
    ...(retries ? { RetryStrategy: { MaximumRetryAttempts: retries } } : {}),
    ...(Object.keys(tags).length > 0 ? { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
  };
}

/** Starts a managed spot training job (`CreateTrainingJob`) and returns its ARN. */
export async function startManagedSpotTraining(client: SageMakerClient, props: ManagedSpotTrainingProps): Promise<string> {
  const input = managedSpotTrainingRequest(props);
  const { CreateTrainingJobCommand } = await import('@aws-sdk/client-sagemaker');
  const output = await client.send(new CreateTrainingJobCommand(input));
  if (!output.TrainingJobArn) throw new Error(`CreateTrainingJob for ${input.TrainingJobName} returned no TrainingJobArn`);
  return output.TrainingJobArn;
}

/** Reads a training job (`DescribeTrainingJob`) and reports what spot saved it so far. */
export async function describeManagedSpotTraining(client: SageMakerClient, jobName: string,
  options: ManagedSpotTrainingReportOptions = {}): Promise<ManagedSpotTrainingReport> {
  check('jobName', jobName, (v) => typeof v === 'string' && v.length <= JOB_NAME_MAX && JOB_NAME.test(v), 'must be a training job name', 'pass the name the job was started with');
  const { DescribeTrainingJobCommand } = await import('@aws-sdk/client-sagemaker');
  return managedSpotTrainingReport(await client.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName })), options);
}

/** What spot saved a training job, from its `DescribeTrainingJob` output. */
export function managedSpotTrainingReport(job: DescribeTrainingJobCommandOutput | Record<string, unknown>,
  options: ManagedSpotTrainingReportOptions = {}): ManagedSpotTrainingReport {
  const price = options?.usdPerInstanceHour;
  if (price !== undefined && !(Number.isFinite(price) && price > 0)) {
    throw new PlatformError(undefined, 'usdPerInstanceHour', price, 'must be a positive number of USD', 'give the on-demand price of one instance hour, e.g. 1.41');
  }
  const j = job as DescribeTrainingJobCommandOutput;
  const count = j.ResourceConfig?.InstanceCount ?? 1;
  const training = j.TrainingTimeInSeconds;
  const billable = j.BillableTimeInSeconds;
  const measured = typeof training === 'number' && typeof billable === 'number';
  const saved = measured ? Math.max(0, training - billable) * count : undefined;
  const transitions = j.SecondaryStatusTransitions ?? [];
  return {
    jobName: j.TrainingJobName ?? '',
    status: j.TrainingJobStatus,
    secondaryStatus: j.SecondaryStatus,
    managedSpot: j.EnableManagedSpotTraining === true,
    instanceType: j.ResourceConfig?.InstanceType,
    instanceCount: count,
    trainingSeconds: training,
    billableSeconds: billable,
    savedInstanceSeconds: saved,
    savingsPercent: measured ? (training > 0 ? Math.round((1 - billable / training) * 10000) / 100 : 0) : undefined,
    interruptions: transitions.filter((t) => t.Status === 'Interrupted').length,
    ...(price !== undefined && saved !== undefined ? { usdSaved: Math.round((saved / 3600) * price * 100) / 100 } : {}),
  };
}

function check(prop: string, value: unknown, ok: (v: unknown) => boolean, allowed: string, fix: string): void {
  if (value === undefined || value === null) throw new PlatformError(undefined, prop, value, `is required and ${allowed}`, fix);
  if (!ok(value)) throw new PlatformError(undefined, prop, value, allowed, fix);
}

function seconds(prop: string, value: unknown): number {
  if (!(value instanceof Duration)) {
    throw new PlatformError(undefined, prop, value, 'must be a Duration', 'e.g. Duration.hours(8)');
  }
  const s = value.toSeconds({ integral: false });
  if (!Number.isInteger(s)) throw new PlatformError(undefined, prop, `${s}s`, 'must be a whole number of seconds', 'round it to whole seconds');
  return s;
}

function record(prop: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new PlatformError(undefined, prop, value, 'must be an object of string values', 'e.g. { train: "s3://bucket/train/" }');
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new PlatformError(undefined, `${prop}.${k}`, v, 'must be a string', 'write the value as a string');
  }
  return value as Record<string, string>;
}
