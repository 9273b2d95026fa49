import { Annotations, ArnFormat, Duration, Lazy, Names, RemovalPolicy, Stack, Token, Tokenization, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { PlatformError, requireProp } from '../../lib/private/errors';
import { AcceleratorVendor } from '../compute/gpu-instance-type';
import { listsProvider, validateServerEnvironment, withoutEmptyUnset } from '../private/server-environment';
import { BUNDLED_GPU_DOCKERFILE, ContainerImage } from './container-image';
import { EndpointInstanceType } from './endpoint-instance-type';
import { EndpointVariant, InferenceAmiVersion } from './endpoint-variant';
import { IModelEndpoint, ModelEndpointBase } from './model-endpoint-base';
import { ModelData } from './model-data';
import { acknowledgeWildcards } from './private/nag';
import { RolloutStrategy } from './rollout';
import { EndpointAutoScalingOptions, ScalableEndpointVariant } from './scalable-endpoint-variant';

/**
 * Request/response capture to S3, the input of drift monitoring (SageMaker Model Monitor).
 *
 * Captured payloads are what callers sent and got back, personal data included. They are encrypted with
 * the endpoint key and kept until deleted: the bucket has no expiry rule (add one, or turn
 * `captureRequests` off when responses are enough).
 */
export interface DataCaptureOptions {
  /**
   * Percentage of requests captured, 0-100. Lower it for busy endpoints.
   * @default 20
   */
  readonly samplingPercentage?: number;
  /**
   * Capture request payloads (what callers send, personal data included).
   * @default true
   */
  readonly captureRequests?: boolean;
  /**
   * Capture response payloads.
   * @default true
   */
  readonly captureResponses?: boolean;
  /**
   * Content types written as JSON text (1-10 entries, each a bare `type/subtype` without parameters or a `+`
   * suffix, at most 256 characters); others are base64-encoded.
   * @default ['application/json']
   */
  readonly jsonContentTypes?: string[];
  /**
   * Content types written as CSV text (1-10 entries, each a bare `type/subtype` as for `jsonContentTypes`).
   * @default ['text/csv']
   */
  readonly csvContentTypes?: string[];
  /**
   * Key prefix in the endpoint's bucket, without a leading or trailing `/` (e.g. `capture/fraud`).
   * @default 'data-capture'
   */
  readonly prefix?: string;
}

/** Asynchronous inference: requests queue, payloads and results go through S3, and the fleet can scale to zero. */
export interface AsyncInferenceOptions {
  /**
   * Key prefix of results in the endpoint's bucket, without a leading or trailing `/`.
   * @default 'async-output'
   */
  readonly outputPrefix?: string;
  /**
   * Key prefix of failure reports in the endpoint's bucket, without a leading or trailing `/`.
   * @default 'async-failures'
   */
  readonly failurePrefix?: string;
  /**
   * Key prefix of request payloads in the endpoint's bucket that the model may read, without a leading or
   * trailing `/` (callers upload
   * there and pass the S3 location to `InvokeEndpointAsync`).
   * @default 'async-input'
   */
  readonly inputPrefix?: string;
  /**
   * Topic told about each success.
   * @default - no notification
   */
  readonly successTopic?: sns.ITopic;
  /**
   * Topic told about each failure.
   * @default - no notification
   */
  readonly errorTopic?: sns.ITopic;
  /**
   * Requests SageMaker sends one instance at a time, 1-1000. Above 256, the bundled server's queue is
   * raised to hold them all (`MAX_QUEUE_SIZE`, unless `environment` sets it).
   * @default - chosen by SageMaker
   */
  readonly maxConcurrentInvocationsPerInstance?: number;
}

/** The default alarms: one per variant for the 5XX error rate and one for model latency. */
export interface EndpointAlarmsOptions {
  /**
   * Create the default alarms. They also drive automatic rollback; without them (and without
   * `rollout.rollbackAlarms`) a bad update is not rolled back.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Share of requests answered with 5XX (Average of `Invocation5XXErrors`) above which the alarm fires: above 0
   * and below 1 (a share of 1 is never exceeded, so such an alarm would never fire).
   * @default 0.01
   */
  readonly errorRateThreshold?: number;
  /**
   * p99 model latency that raises the alarm: whole milliseconds above 0, not a token (it is converted to
   * microseconds, the unit of `ModelLatency`, at synthesis).
   * @default Duration.seconds(1); none on asynchronous endpoints (`asyncInference`), whose requests may
   * run for up to an hour: a real-time threshold there would alarm, and roll back every update, for
   * models working as intended. Set it to alarm on their latency too.
   */
  readonly modelLatencyThreshold?: Duration;
  /**
   * One-minute periods evaluated, 1-1440 (CloudWatch evaluates such an alarm over one day at most).
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * Breaching periods (of `evaluationPeriods`) that raise the alarm.
   * @default 2
   */
  readonly datapointsToAlarm?: number;
  /**
   * Actions when an alarm fires (e.g. an SNS topic action).
   * @default - none
   */
  readonly actions?: cloudwatch.IAlarmAction[];
}

/** Properties of a ModelEndpoint. */
export interface ModelEndpointProps {
  /** The model artifacts, untarred into `/opt/ml/model`. */
  readonly modelData: ModelData;
  /**
   * The container image.
   * @default ContainerImage.bundled() - this project's Node.js ONNX inference server
   */
  readonly image?: ContainerImage;
  /**
   * Environment of the container (batching, limits, log level). At most 100 entries, counting the
   * variables the construct adds; names are letters, digits and underscores; values up to 1024
   * bytes; 32 KB of names and values in all (held to 32,000 bytes). With the bundled server, the
   * variables it reads must hold values it accepts (`BATCHING=on|off`, `DRAIN_TIMEOUT_MS` at most 28000,
   * numbers in plain decimal digits within its ranges, `MODEL_NAME` not `.`, `..` or with a `/`...), or
   * synthesis fails instead of the endpoint;
   * `SAGEMAKER_BIND_TO_PORT` and `PORT` (SageMaker calls port 8080) and `MODEL_DIR` (SageMaker puts
   * the model in /opt/ml/model) cannot be set, and `HOST` only to `0.0.0.0` or `::`. `ORT_EXECUTION_PROVIDERS` must list `cpu` unless the
   * image is the CUDA one (`Dockerfile.gpu`) and every variant has an NVIDIA GPU (elsewhere the server
   * could load none of its providers), and then it must list `cuda` (that image has no TensorRT); an empty
   * value counts as unset. Other variables pass as given.
   * @default - none; with the bundled server, `ORT_EXECUTION_PROVIDERS=cuda` when the image is built
   * from `Dockerfile.gpu` and every variant is an NVIDIA GPU instance (CUDA required: without it the
   * endpoint fails to start, and the server's log names CUDA; set `cuda,cpu` here to allow the CPU
   * fallback), and for asynchronous inference `BODY_LIMIT_BYTES` and `REQUEST_TIMEOUT_MS` (see
   * `asyncInference`), and `MAX_QUEUE_SIZE` when its `maxConcurrentInvocationsPerInstance` is above
   * the server's queue of 256 requests
   */
  readonly environment?: { [name: string]: string };
  /**
   * The production variants (1-10). A serverless variant must be the only one.
   * @default - one variant 'AllTraffic' on one ml.m5.large instance
   */
  readonly variants?: EndpointVariant[];
  /**
   * Endpoint name (1-63 letters, digits, hyphens). Changing it (or, without it, the construct path)
   * replaces the endpoint: CloudFormation creates a new endpoint without the rollout (guardrails apply to
   * updates only), a new scalable target and log group, and deletes the old endpoint, so callers of the
   * old name fail.
   * @default - a unique name derived from the construct path, lower case
   */
  readonly endpointName?: string;
  /**
   * Execution role SageMaker assumes to pull the image, read the model and write logs, captured data
   * and results. The policy this construct needs is attached to it, unless it was imported with
   * `mutable: false` (then it must already allow what the endpoint needs).
   * @default - a role with exactly those permissions
   */
  readonly role?: iam.IRole;
  /**
   * Key for the instance storage volume, the captured data and async results; not for serverless variants,
   * which have none of the three (synthesis fails rather than grant the role a key that encrypts nothing). The execution role gets
   * its permissions through its IAM policy; the key policy is never changed (CDK ignores statements added
   * to an imported key), so it must delegate to IAM (the account-root statement) or allow the role itself,
   * and allow whoever deploys (CloudFormation's role) `kms:CreateGrant` and `kms:DescribeKey` for the volume.
   * @default - a new key with rotation, when anything needs one
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Bucket for captured data and async payloads (`dataCapture`, `asyncInference`); not for serverless variants,
   * which support neither (synthesis fails rather than leave the bucket unused), and unused without either (synthesis
   * warns). Its policy is never changed: a
   * bucket in another account must allow the execution role itself.
   * @default - a new bucket encrypted with `encryptionKey` (bucket key on), TLS only, no public access,
   * retained, without versioning or expiry rules
   */
  readonly bucket?: s3.IBucket;
  /**
   * Bucket for server access logs of the created bucket (one is created for `dataCapture` or `asyncInference` when
   * `bucket` is not given; otherwise this is unused, and synthesis warns).
   * @default - no access logs (a cdk-nag finding acknowledged with this reason)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * VPC the model containers attach to. Model artifacts and the image are then fetched through it
   * (give it S3 and ECR endpoints or NAT). Not for serverless variants.
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets within `vpc`: the selection must hold 1-16 subnets.
   * @default - the private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups for the containers, 1-5.
   * @default - one group allowing only outbound HTTPS
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Cut the container off from the network (the model artifacts are still provided). Not for serverless.
   * Turned off, the container can call AWS with the execution role's credentials and send data anywhere
   * its VPC (or, without one, the internet) allows.
   * @default true for instance variants, false for serverless (not supported there)
   */
  readonly networkIsolation?: boolean;
  /**
   * Capture requests and responses to S3. Not for serverless variants.
   * @default - no capture
   */
  readonly dataCapture?: DataCaptureOptions;
  /**
   * Make the endpoint asynchronous (`InvokeEndpointAsync`). Instance variants only.
   * @default - real-time
   */
  readonly asyncInference?: AsyncInferenceOptions;
  /**
   * How updates move traffic, and which alarms roll them back.
   * A canary or linear rollout needs at least two instances in every instance variant when an update starts
   * (`initialInstanceCount`, or once autoscaled `minCapacity` and the bounds of its scheduled actions): SageMaker's
   * canary is at most 50% of a variant's instances, and a linear step 10-50%; synthesis fails otherwise.
   * SageMaker applies deployment guardrails (traffic shifting, baking, rollback on alarms) only to real-time and
   * asynchronous endpoints: on a serverless endpoint synthesis warns that none of this is documented to apply.
   * @default - RolloutStrategy.canary() (10% canary, 5 minutes baking) where every instance variant has at least
   * two instances when an update starts; otherwise (one instance, or autoscaled or scheduled down to one)
   * RolloutStrategy.allAtOnce({ terminationWait: Duration.minutes(5) }): all traffic at once, then 5 minutes in
   * which the alarms can still roll it back. Rollback on the default alarms either way
   */
  readonly rollout?: RolloutStrategy;
  /**
   * The default alarms.
   * @default - 5XX error rate above 1% and p99 model latency above 1 second, per variant
   */
  readonly alarms?: EndpointAlarmsOptions;
  /**
   * Retention of the container logs (`/aws/sagemaker/Endpoints/<name>`).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the key, bucket and log group when removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** How to import an endpoint. */
export interface ModelEndpointAttributes {
  /** The endpoint name. */
  readonly endpointName: string;
  /**
   * The variant metrics are about when none is named.
   * @default 'AllTraffic'
   */
  readonly defaultVariantName?: string;
}

const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/**
 * The part of a construct id naming a variant. A token name has no stable text (its placeholder
 * carries a process-wide counter, and ids make logical ids): such a variant is named by its position,
 * with an underscore no variant name has.
 */
function variantIdPart(variantName: string, index: number): string {
  return Token.isUnresolved(variantName) ? `Variant_${index}` : variantName.replace(/[^A-Za-z0-9]/g, '');
}
/** SageMaker instance families with accelerators: NVIDIA (`g4dn`, `p3`, ...), Inferentia, Trainium, Habana (`dl1`). */
const ACCELERATOR_FAMILY = /^(g|p|inf|trn|dl)\d/;
/**
 * NVIDIA GPUs whose SageMaker hosts may default to a driver older than CUDA 12 (470 on ml.g4dn, ml.g5
 * and ml.p4d) and that al2-ami-sagemaker-inference-gpu-3-1 (driver 550) serves: the bundled CUDA image
 * gets that AMI there. Newer GPUs (Blackwell) need a newer driver than 550 and come with one by default.
 */
const CUDA_12_HOST_DEFAULT = /^(T4|A10G|L4|L40S|A100|H100|H200)$/;
const ENV_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** The bundled server's default `queue.maxSize` (container/src/config.ts). */
const BUNDLED_SERVER_QUEUE_SIZE = 256;

/** A data capture content type: SageMaker's CaptureContentTypeHeader pattern, 1-256 characters. */
const CONTENT_TYPE = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*\/[a-zA-Z0-9](-*[a-zA-Z0-9.])*$/;
/** Environment variables SageMaker allows in a container definition. */
const MAX_ENVIRONMENT = 100;
/**
 * Bytes of all environment names and values together that SageMaker allows in a container definition. Its API
 * reference says "32 KB" and nothing says whether that is 32,768 or 32,000 bytes (its API models encode no total),
 * so the check holds to the lower figure, which passes under either reading.
 */
const MAX_ENVIRONMENT_BYTES = 32_000;

/**
 * A SageMaker model endpoint: the model, its endpoint configuration and the endpoint, with a
 * least-privilege execution role, encryption, logs with retention, default alarms, a canary (or, on one
 * instance, all-at-once) rollout with automatic rollback, optional data capture, asynchronous inference and
 * autoscaling.
 *
 * @example
 * const endpoint = new ModelEndpoint(this, 'Fraud', {
 *   modelData: ModelData.fromAsset(path.join(__dirname, 'model')),
 *   variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE) })],
 *   dataCapture: { samplingPercentage: 10 },
 * });
 * endpoint.autoScale({ maxCapacity: 4 }).scaleOnInvocations('Rps', { maxRequestsPerSecond: 50 });
 * endpoint.grantInvoke(apiFunction);
 *
 * @resource AWS::SageMaker::Endpoint
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints.html
 */
export class ModelEndpoint extends ModelEndpointBase {
  /** Imports an endpoint by name. */
  public static fromEndpointName(scope: Construct, id: string, endpointName: string): IModelEndpoint {
    return ModelEndpoint.fromEndpointAttributes(scope, id, { endpointName });
  }

  /** Imports an endpoint by attributes. */
  public static fromEndpointAttributes(scope: Construct, id: string, attrs: ModelEndpointAttributes): IModelEndpoint {
    requireProp(scope, 'endpointName', attrs?.endpointName, 'string', 'the name of an existing SageMaker endpoint');
    class Import extends ModelEndpointBase {
      public readonly endpointName = attrs.endpointName;
      public readonly defaultVariantName = attrs.defaultVariantName ?? 'AllTraffic';
      // SageMaker writes resource names in lower case in ARNs.
      public readonly endpointArn = Stack.of(scope).formatArn({
        service: 'sagemaker',
        resource: 'endpoint',
        resourceName: Token.isUnresolved(attrs.endpointName) ? attrs.endpointName : attrs.endpointName.toLowerCase(),
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    }
    return new Import(scope, id);
  }

  public readonly endpointName: string;
  public readonly endpointArn: string;
  public readonly defaultVariantName: string;
  /** The variants, in order. */
  public readonly variants: EndpointVariant[];
  /** The execution role. */
  public readonly role: iam.IRole;
  /** The policy with the execution role's permissions. */
  public readonly executionPolicy: iam.Policy;
  /** The encryption key, when one is used. */
  public readonly encryptionKey?: kms.IKey;
  /** The bucket for captured data and async payloads, when one is used. */
  public readonly bucket?: s3.IBucket;
  /** The container log group. */
  public readonly logGroup: logs.ILogGroup;
  /** Key prefixes of an asynchronous endpoint's requests, results and failure reports in `bucket`. */
  private readonly asyncPrefixes?: { readonly input: string; readonly output: string; readonly failure: string };
  /** The security groups, when in a VPC. */
  public readonly securityGroups: ec2.ISecurityGroup[];
  /** The default alarms (empty when switched off). */
  public readonly alarms: cloudwatch.Alarm[];
  /** The model. */
  public readonly cfnModel: sagemaker.CfnModel;
  /** The endpoint configuration. */
  public readonly cfnEndpointConfig: sagemaker.CfnEndpointConfig;
  /** True for an asynchronous endpoint. */
  public readonly asynchronous: boolean;

  /** The rollout given in props; see `rollout` for the one in effect. */
  private readonly givenRollout?: RolloutStrategy;
  private readonly alarmOptions?: EndpointAlarmsOptions;
  private readonly rollbackAlarms: cloudwatch.IAlarm[] = [];
  private readonly scalables = new Map<string, ScalableEndpointVariant>();
  /** The [minCapacity, maxCapacity] of each autoscaled variant, by variant name. */
  private readonly scalingRanges = new Map<string, [number, number]>();
  private readonly resource: sagemaker.CfnEndpoint;
  private readAlarms?: iam.PolicyStatement;

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    super(scope, id, { physicalName: props?.endpointName });
    requireProp(this, 'modelData', props?.modelData, 'object', 'a ModelData (the model artifacts)',
      'pass ModelData.fromAsset(directory) or ModelData.fromBucket(bucket, key)');
    if (props.variants !== undefined && props.variants !== null) {
      requireProp(this, 'variants', props.variants, 'array', 'an array of EndpointVariant', 'pass e.g. [EndpointVariant.instance({ instanceType })]');
    }

    // defaults
    const variants = props.variants ?? [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE })];
    const notVariant = variants.findIndex((v) => !(v instanceof EndpointVariant));
    if (notVariant >= 0) {
      throw new PlatformError(this, `variants[${notVariant}]`, variants[notVariant], 'must be an EndpointVariant',
        'make it with EndpointVariant.instance({ instanceType }) or EndpointVariant.serverless()');
    }
    const endpointName = props.endpointName ?? Names.uniqueResourceName(this, { maxLength: 63 }).toLowerCase();
    const serverless = variants.some((v) => v.isServerless);
    const networkIsolation = props.networkIsolation ?? !serverless;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.givenRollout = props.rollout;
    this.alarmOptions = props.alarms;
    this.asynchronous = props.asyncInference !== undefined;

    // validate
    this.validate(props, variants, endpointName, serverless);

    // children
    const instanceVariants = variants.filter((v) => !v.isServerless);
    instanceVariants.forEach((v) => this.checkAmiFitsInstance(v, variants.indexOf(v)));
    variants.forEach((v, i) => {
      if (v.instanceType && Token.isUnresolved(v.instanceType.name)) {
        Annotations.of(this).addWarningV2('@ai-platform/serving:instanceTypeUnresolved',
          `'variants[${i}].instanceType' is a token, so the construct assumes an x86_64 CPU type without local storage: it applies the encryption key to the storage volume `
          + '(SageMaker refuses a KmsKeyId for types with local NVMe storage, such as ml.g5, ml.p4d or ml.m5d), and the bundled server gets its x86_64 CPU image (no CUDA). '
          + 'Name the type (EndpointInstanceType.of(...) or .gpu(...)), or make sure the value deployed is such a type');
      }
    });
    const volumeKeyApplies = instanceVariants.length > 0 && !instanceVariants.some((v) => v.instanceType!.hasLocalStorage);
    const needsBucket = props.dataCapture !== undefined || props.asyncInference !== undefined;
    const needsKey = props.encryptionKey !== undefined || volumeKeyApplies || (needsBucket && !props.bucket);
    this.encryptionKey = needsKey ? (props.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `Encrypts the storage, captured data and async results of SageMaker endpoint ${endpointName}`,
      enableKeyRotation: true,
      removalPolicy,
    })) : undefined;
    if (instanceVariants.length > 0 && !volumeKeyApplies && this.encryptionKey) {
      Annotations.of(this).addInfo(`encryptionKey is not applied to the storage volume: ${instanceVariants.map((v) => v.instanceType!.name).filter((n) => EndpointInstanceType.of(n).hasLocalStorage).join(', ')} have local NVMe storage, which SageMaker encrypts in hardware (it rejects a KmsKeyId for them)`);
    }

    if (needsBucket) {
      this.bucket = props.bucket ?? this.createBucket(removalPolicy, props.serverAccessLogsBucket);
    } else if (props.bucket) {
      Annotations.of(this).addWarningV2('ai-platform:endpointBucketUnused',
        "'bucket' is unused: it holds captured data and asynchronous inference payloads and results, and the endpoint sets neither dataCapture nor asyncInference. "
        + 'Remove it, or set one of them');
    }
    if (props.serverAccessLogsBucket && (props.bucket || !needsBucket)) {
      Annotations.of(this).addWarningV2('ai-platform:endpointAccessLogsBucketUnused',
        "'serverAccessLogsBucket' is unused: it receives the server access logs of the bucket the endpoint creates, and "
        + (props.bucket ? "with 'bucket' given it creates none (turn on access logging on that bucket where it is defined)"
          : 'the endpoint creates none, as it sets neither dataCapture nor asyncInference. Remove it'));
    }
    if (props.asyncInference) {
      const a = props.asyncInference;
      this.asyncPrefixes = { input: a.inputPrefix ?? 'async-input', output: a.outputPrefix ?? 'async-output', failure: a.failurePrefix ?? 'async-failures' };
    }

    this.role = props.role ?? new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Execution role of SageMaker endpoint ${endpointName}`,
    });
    // Attached through the role, so a role imported with `mutable: false` is left as it is.
    this.executionPolicy = new iam.Policy(this, 'ExecutionPolicy');
    this.role.attachInlinePolicy(this.executionPolicy);

    const logGroupName = `/aws/sagemaker/Endpoints/${endpointName}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });

    const architectures = [...new Set(instanceVariants.map((v) => v.instanceType!.architecture))];
    const chosenImage = props.image ?? ContainerImage.bundled();
    if (chosenImage.isBundledServer && instanceVariants.some((v) => v.instanceType!.gpu?.vendor === AcceleratorVendor.AWS_NEURON)) {
      Annotations.of(this).addWarningV2('ai-platform:bundledServerOnNeuron',
        'the bundled inference server runs ONNX models on the CPU (or CUDA), not on Inferentia or Trainium: on ml.inf*/ml.trn* variants the Neuron devices stay unused. '
        + 'Serve a Neuron-compiled model from a Neuron container (ContainerImage.fromEcrRepository), or pick a CPU or NVIDIA instance type');
    }
    // Accelerator types the catalog lacks (ml.p3, ml.inf1, ...) look like CPU types to the image choice.
    const uncatalogued = [...new Set(instanceVariants.map((v) => v.instanceType!)
      .filter((t) => !t.gpu && ACCELERATOR_FAMILY.test(t.family)).map((t) => t.name))];
    if (chosenImage.isBundledServer && uncatalogued.length > 0) {
      Annotations.of(this).addWarningV2('ai-platform:bundledServerOnUncataloguedAccelerator',
        `${uncatalogued.join(', ')} ${uncatalogued.length > 1 ? 'are accelerator types' : 'is an accelerator type'} the GPU catalog lacks, so the bundled inference server gets the CPU image and `
        + 'computes on the CPU there, leaving the accelerators unused. Describe the type with '
        + 'EndpointInstanceType.gpu(GpuInstanceType.custom({ name, vendor, acceleratorModel, acceleratorCount, ... })) so an NVIDIA type gets the CUDA image, or pick a type from the catalog');
    }
    const image = chosenImage.bind(this, {
      architecture: architectures[0],
      nvidiaGpu: instanceVariants.some((v) => v.instanceType!.gpu?.vendor === AcceleratorVendor.NVIDIA),
    });
    const modelData = props.modelData.bind(this);
    this.grantExecution(image.repositoryArn, modelData.readStatements, props, logGroupName);

    this.securityGroups = [];
    let vpcConfig: sagemaker.CfnModel.VpcConfigProperty | undefined;
    if (props.vpc) {
      // SageMaker's VpcConfig takes 1-5 security groups and 1-16 subnets (VpcConfig, SageMaker API reference).
      if (props.securityGroups && (props.securityGroups.length < 1 || props.securityGroups.length > 5)) {
        throw new PlatformError(this, 'securityGroups', `${props.securityGroups.length} groups`, 'must hold 1 to 5 security groups (SageMaker\'s limit for a model in a VPC)',
          'pass at most five groups (combine their rules), or leave securityGroups unset for one allowing only outbound HTTPS');
      }
      const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
      if (subnets.length < 1 || subnets.length > 16) {
        throw new PlatformError(this, 'vpcSubnets', `${subnets.length} subnets`, 'must select 1 to 16 subnets (SageMaker\'s limit for a model in a VPC)',
          'narrow the selection, e.g. { subnetGroupName } or { availabilityZones }, or pass the subnets');
      }
      this.securityGroups = props.securityGroups ?? [this.createSecurityGroup(props.vpc)];
      vpcConfig = {
        subnets,
        securityGroupIds: this.securityGroups.map((sg) => sg.securityGroupId),
      };
    }

    // Asynchronous inference takes payloads up to 1 GB and runs up to an hour; the bundled server's
    // defaults are sized for real-time calls (6 MiB, 55 s), so raise them unless the caller set them:
    // the body limit to the server's largest, 500 MiB (it reads a body into one string).
    // When the CUDA image runs and every variant is an NVIDIA GPU instance, require CUDA (no CPU
    // fallback): an endpoint that cannot use its GPUs then fails to start instead of serving from the
    // CPU on GPU-priced instances. The CPU image has no CUDA, and variants that mix CPU and GPU instances
    // share one model: they keep the image's default.
    const nonNvidia = variants.filter((v) => v.instanceType?.gpu?.vendor !== AcceleratorVendor.NVIDIA);
    const cudaImage = chosenImage.isBundledServer && image.dockerfile === BUNDLED_GPU_DOCKERFILE;
    const userEnvironment = chosenImage.isBundledServer ? withoutEmptyUnset(props.environment ?? {}) : (props.environment ?? {});
    if (chosenImage.isBundledServer) {
      this.validateProviders(userEnvironment.ORT_EXECUTION_PROVIDERS, cudaImage, image.dockerfile, nonNvidia);
    }
    const added: Record<string, string> = {
      ...(cudaImage && nonNvidia.length === 0 ? { ORT_EXECUTION_PROVIDERS: 'cuda' } : {}),
      ...(props.asyncInference && chosenImage.isBundledServer ? { BODY_LIMIT_BYTES: String(500 * 1024 * 1024), REQUEST_TIMEOUT_MS: '3600000' } : {}),
      // SageMaker sends up to maxConcurrentInvocationsPerInstance requests at once: a queue that holds
      // them all, where the server's own (256 requests) is smaller, so none is refused 503 QUEUE_FULL.
      ...(props.asyncInference && chosenImage.isBundledServer && (props.asyncInference.maxConcurrentInvocationsPerInstance ?? 0) > BUNDLED_SERVER_QUEUE_SIZE
        ? { MAX_QUEUE_SIZE: String(props.asyncInference.maxConcurrentInvocationsPerInstance) } : {}),
    };
    const environment: Record<string, string> = { ...added, ...userEnvironment };
    const envCount = Object.keys(environment).length;
    if (envCount > MAX_ENVIRONMENT) {
      const addedNames = Object.keys(added).filter((name) => !Object.hasOwn(userEnvironment, name));
      throw new PlatformError(this, 'environment', `${Object.keys(userEnvironment).length} variables`,
        `must hold at most ${MAX_ENVIRONMENT} variables${addedNames.length > 0 ? ` together with the ${addedNames.length} the construct adds (${addedNames.join(', ')}): ${envCount} in all` : ''}, SageMaker's limit for a container`,
        'move settings into the model directory (serving.json)');
    }
    // SageMaker also limits the whole map (ContainerDefinition, Environment: "The maximum length of all keys and values
    // in the map, combined, is 32 KB"), which 100 variables of up to 1024 bytes each can pass. Token values are not known.
    const envBytes = Object.entries(environment)
      .reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + (Token.isUnresolved(value) ? 0 : Buffer.byteLength(value)), 0);
    if (envBytes > MAX_ENVIRONMENT_BYTES) {
      const addedNames = Object.keys(added).filter((name) => !Object.hasOwn(userEnvironment, name));
      throw new PlatformError(this, 'environment', `${envBytes} bytes`,
        `must hold at most ${MAX_ENVIRONMENT_BYTES} bytes of names and values in all, SageMaker's limit for a container's environment ("32 KB", held to 32,000 bytes as AWS does not say whether it means 32,768)${addedNames.length > 0 ? `, together with the ${addedNames.length} the construct adds (${addedNames.join(', ')})` : ''}`,
        'move settings into the model directory (serving.json)');
    }
    this.cfnModel = new sagemaker.CfnModel(this, 'Model', {
      executionRoleArn: this.role.roleArn,
      enableNetworkIsolation: serverless ? undefined : networkIsolation,
      vpcConfig,
      primaryContainer: {
        image: image.imageUri,
        environment: Object.keys(environment).length > 0 ? environment : undefined,
        ...(modelData.compressed
          ? { modelDataUrl: modelData.s3Uri }
          : { modelDataSource: { s3DataSource: { s3Uri: modelData.s3Uri, s3DataType: 'S3Prefix', compressionType: 'None' } } }),
      },
    });
    // SageMaker checks that the role can pull the image and read the model when the model is created.
    this.cfnModel.node.addDependency(this.executionPolicy);

    this.cfnEndpointConfig = new sagemaker.CfnEndpointConfig(this, 'Config', {
      productionVariants: variants.map((v, i) => v._render(i, this.cfnModel.attrModelName, cudaImage && CUDA_12_HOST_DEFAULT.test(v.instanceType?.gpu?.acceleratorModel ?? '') ? InferenceAmiVersion.GPU_3_1 : undefined)),
      kmsKeyId: volumeKeyApplies ? this.encryptionKey?.keyArn : undefined,
      dataCaptureConfig: props.dataCapture && this.renderDataCapture(props.dataCapture),
      asyncInferenceConfig: props.asyncInference && this.renderAsync(props.asyncInference),
    });

    this.alarms = this.createAlarms(variants, endpointName, props.alarms);
    const givenAlarms = props.rollout?.rollbackAlarms ?? [];
    givenAlarms.forEach((a) => this.checkRollbackAlarm(a, 'rollout.rollbackAlarms'));
    this.addRollbackAlarms([...this.alarms, ...givenAlarms]);

    this.resource = new sagemaker.CfnEndpoint(this, 'Resource', {
      endpointName,
      endpointConfigName: this.cfnEndpointConfig.attrEndpointConfigName,
      // Once autoscaled, an update keeps each variant's current instance count instead of resetting it to
      // initialInstanceCount (which would drop capacity mid-peak); new weights still apply. DataCaptureConfig,
      // the third VariantPropertyType, is "(Not currently supported.)" in SageMaker's API reference
      // (VariantProperty), so it is not sent: every update of an autoscaled endpoint would depend on it.
      retainAllVariantProperties: Lazy.any({ produce: () => (this.scalables.size > 0 ? true : undefined) }),
      excludeRetainedVariantProperties: Lazy.any({
        produce: () => (this.scalables.size > 0 ? [{ variantPropertyType: 'DesiredWeight' }] : undefined),
      }),
      deploymentConfig: {
        // Rendered at synthesis: the default rollout depends on autoscaling, which can be added later.
        blueGreenUpdatePolicy: Lazy.any({ produce: () => this.rollout._renderBlueGreen() }),
        autoRollbackConfiguration: Lazy.any({
          produce: () => this.rollbackAlarms.length > 0
            ? { alarms: this.rollbackAlarms.map((a) => ({ alarmName: a.alarmName })) }
            : undefined,
        }),
      },
    });
    this.resource.node.addDependency(this.logGroup);

    // attributes
    this.endpointName = endpointName;
    this.endpointArn = this.resource.attrEndpointArn;
    this.variants = variants;
    this.defaultVariantName = variants[0].nameAt(0);

    // lazy validators (alarms can be added after construction)
    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        const rollout = this.rollout;
        const small = this.variantBelowTwoInstances();
        if (small && this.givenRollout && this.givenRollout.type !== 'ALL_AT_ONCE') {
          const type = this.givenRollout.type.toLowerCase();
          errors.push(`'rollout' (${type}) needs at least 2 instances in every variant when an update starts, and 'variants[${small.index}]' ('${small.name}') can have ${small.count} (${small.what}): `
            + `SageMaker's ${type === 'canary' ? 'canary' : 'linear step'} is at most 50% of the variant's instance count, which not even one whole instance is on a one-instance fleet. `
            + `Raise ${small.raise} to 2, or use RolloutStrategy.allAtOnce({ terminationWait }), whose baking period the same alarms watch`);
        }
        this.warnOnShortBake(this.alarmOptions);
        if (this.variants.some((v) => v.instanceType?.family === 'inf1') && rollout.type !== 'ALL_AT_ONCE') {
          Annotations.of(this).addWarningV2('@ai-platform/serving:rolloutFallsBackOnInf1',
            `rollout: SageMaker does not apply deployment guardrails to endpoints on Inf1 instances; the ${rollout.type.toLowerCase()} rollout falls back to all-at-once traffic shifting with no baking period. Use Inf2 (GpuInstanceType.INF2_XLARGE) for guarded rollouts, or RolloutStrategy.allAtOnce() to say so`);
        }
        // "Deployment guardrails only apply to Asynchronous inference and Real-time inference endpoint types"
        // (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails.html): traffic shifting, baking periods
        // and auto-rollback are guardrails, so on a serverless endpoint none of them is documented to apply.
        if (this.variants.some((v) => v.isServerless) && (rollout.type !== 'ALL_AT_ONCE' || rollout._terminationWait !== undefined || this.rollbackAlarms.length > 0)) {
          Annotations.of(this).addWarningV2('@ai-platform/serving:noGuardrailsOnServerless',
            `rollout: the endpoint is serverless, and SageMaker documents deployment guardrails only for real-time and asynchronous endpoints: the ${rollout.type.toLowerCase().replace(/_/g, ' ')} rollout`
            + `${this.rollbackAlarms.length > 0 ? ` and its ${this.rollbackAlarms.length} rollback alarms` : ''} are not documented to apply to its updates, so a bad update may not be rolled back. `
            + 'The default alarms still alarm; watch them (alarms.actions) and roll back by deploying the previous model, or use an instance variant for guarded rollouts');
        }
        if (this.rollbackAlarms.length === 0 && rollout.type !== 'ALL_AT_ONCE') {
          Annotations.of(this).addWarningV2('@ai-platform/serving:rolloutWithoutAlarms',
            `rollout: the ${rollout.type.toLowerCase()} rollout has no alarms to watch, so a bad update is never rolled back; keep the default alarms, pass rollout.rollbackAlarms, or call addRollbackAlarm()`);
        }
        if (this.rollbackAlarms.length > 10) {
          errors.push(`'rollout.rollbackAlarms' (${this.rollbackAlarms.length} alarms) must be at most 10 in all, the default alarms included: pass fewer alarms, or switch off the default alarms with alarms: { enabled: false }`);
        }
        // Checked once autoscaling is known: an update runs at the instance count of that moment.
        const fleets = this.variants.flatMap((v, i): Array<[number, number]> => (v.isServerless ? []
          : [this.scalingRanges.get(v.nameAt(i)) ?? [v.initialInstanceCount, v.initialInstanceCount]]));
        const timeoutError = rollout._linearTimeoutError(fleets);
        if (timeoutError) errors.push(timeoutError);
        return errors;
      },
    });
  }

  /** Adds an alarm that rolls updates back (at most 10 in all, each name once), in the endpoint's account and region. */
  public addRollbackAlarm(alarm: cloudwatch.IAlarm): void {
    this.checkRollbackAlarm(alarm, 'addRollbackAlarm');
    this.addRollbackAlarms([alarm]);
  }

  /**
   * Adds rollback alarms, each name once: CloudFormation's schema for AWS::SageMaker::Endpoint takes
   * `AutoRollbackConfiguration.Alarms` as unique items (SageMaker names an alarm by its name alone), so an alarm
   * given twice (in `rollout.rollbackAlarms` and to `addRollbackAlarm()`, or imported twice by one name) is
   * listed once and counts once towards the 10.
   */
  private addRollbackAlarms(alarms: cloudwatch.IAlarm[]): void {
    const added = alarms.filter((alarm, i) => !this.rollbackAlarms.some((a) => a.alarmName === alarm.alarmName)
      && alarms.findIndex((a) => a.alarmName === alarm.alarmName) === i);
    this.rollbackAlarms.push(...added);
    this.allowReadingAlarms(added);
  }

  /**
   * Turns on autoscaling of a variant's instance count and returns it, to add scaling policies.
   * Not for serverless variants (SageMaker scales them itself) or burstable `ml.t*` instances.
   *
   * SageMaker refuses an update that changes the instance type of an autoscaled variant, or removes one,
   * and CloudFormation deletes the scalable target only after updating the endpoint: deploy once without
   * `autoScale()` for the variant, then change it, then autoscale it again.
   */
  public autoScale(options: EndpointAutoScalingOptions): ScalableEndpointVariant {
    requireProp(this, 'autoScale', options, 'object', 'the scaling options, at least { maxCapacity }', 'call autoScale({ maxCapacity: 4 })');
    const variantName = options.variantName ?? this.defaultVariantName;
    const index = this.variants.findIndex((v, i) => v.nameAt(i) === variantName);
    if (index < 0) {
      throw new PlatformError(this, 'variantName', variantName, `must name a variant of this endpoint (${this.variants.map((v, i) => v.nameAt(i)).join(', ')})`, 'pass one of those names');
    }
    const variant = this.variants[index];
    if (variant.isServerless) {
      throw new PlatformError(this, 'autoScale', variantName, 'cannot scale instances of a serverless variant (SageMaker scales serverless concurrency itself)',
        'tune maxConcurrency and provisionedConcurrency on EndpointVariant.serverless(), or use an instance variant');
    }
    if (variant.instanceType!.isBurstable) {
      throw new PlatformError(this, 'instanceType', variant.instanceType!.name, 'cannot be autoscaled (SageMaker does not autoscale burstable ml.t* instances)', 'use a non-burstable type such as ml.m5.large');
    }
    if (this.scalables.has(variantName)) {
      throw new PlatformError(this, 'autoScale', variantName, 'is already autoscaled', 'add more policies to the object the first autoScale() call returned');
    }
    const min = options.minCapacity ?? 1;
    const max = options.maxCapacity;
    if (!Token.isUnresolved(max) && (!Number.isInteger(max) || max < 1)) {
      throw new PlatformError(this, 'maxCapacity', max, 'must be a whole number >= 1', 'allow at least one instance');
    }
    if (!Token.isUnresolved(min) && (!Number.isInteger(min) || min < 0)) {
      throw new PlatformError(this, 'minCapacity', min, 'must be a whole number >= 0', 'use 1, or 0 for an asynchronous endpoint');
    }
    if (!Token.isUnresolved(min) && !Token.isUnresolved(max) && min > max) {
      throw new PlatformError(this, 'minCapacity', min, `must be <= 'maxCapacity' (${max})`, 'lower minCapacity or raise maxCapacity');
    }
    if (min === 0 && !this.asynchronous) {
      throw new PlatformError(this, 'minCapacity', 0, 'must be >= 1 for a real-time endpoint (only asynchronous endpoints scale instance variants to zero)',
        'use minCapacity: 1, set asyncInference for scale to zero, or use a serverless variant');
    }
    const initial = variant.initialInstanceCount;
    if (!Token.isUnresolved(initial) && !Token.isUnresolved(max) && initial > max) {
      throw new PlatformError(this, 'maxCapacity', max, `must be >= the variant's initialInstanceCount (${initial})`, 'raise maxCapacity or lower initialInstanceCount');
    }
    this.givenRollout?._validateScaling(this, min, max);
    const stack = Stack.of(this);
    const scalable = new ScalableEndpointVariant(this, `Scaling${variantIdPart(variantName, index)}`, {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `endpoint/${this.endpointName}/variant/${variantName}`,
      dimension: 'sagemaker:variant:DesiredInstanceCount',
      role: iam.Role.fromRoleArn(this, `ScalingRole${index}`, stack.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: 'aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint',
      }), { mutable: false }),
      minCapacity: min,
      maxCapacity: max,
      endpoint: this,
      variantName,
      acceleratorCount: variant.instanceType!.acceleratorCount,
      acceleratorVendor: variant.instanceType!.gpu?.vendor,
      instanceTypeName: variant.instanceType!.name,
      asynchronous: this.asynchronous,
    });
    scalable.scalableTarget.node.addDependency(this.resource);
    this.scalables.set(variantName, scalable);
    this.scalingRanges.set(variantName, [min, max]);
    return scalable;
  }

  private validate(props: ModelEndpointProps, variants: EndpointVariant[], endpointName: string, serverless: boolean): void {
    if (!Token.isUnresolved(endpointName) && !ENDPOINT_NAME.test(endpointName)) {
      throw new PlatformError(this, 'endpointName', endpointName, 'must be 1-63 letters, digits or hyphens, starting and ending with a letter or digit', 'rename the endpoint');
    }
    if (variants.length < 1 || variants.length > 10) {
      throw new PlatformError(this, 'variants', `${variants.length} variants`, 'must hold 1 to 10 variants', 'pass at least one and at most ten EndpointVariant');
    }
    variants.forEach((v, i) => v._validate(this, i));
    const names = variants.map((v, i) => v.nameAt(i));
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) {
      throw new PlatformError(this, 'variants', duplicate, 'is used by two variants; variant names must be unique', 'give each variant its own variantName');
    }
    // The variants' alarms and scaling targets are construct children named after the variant with only its
    // letters and digits: two names that differ in nothing else would collide there.
    const idParts = names.map((n, i) => variantIdPart(n, i));
    const clash = idParts.findIndex((p, i) => idParts.indexOf(p) !== i);
    if (clash >= 0) {
      const first = idParts.indexOf(idParts[clash]);
      throw new PlatformError(this, `variants[${clash}].variantName`, names[clash],
        `differs from variants[${first}].variantName ('${names[first]}') only in characters other than letters and digits, which the ids of each variant's alarms and autoscaling leave out ('${idParts[clash]}' for both)`,
        'rename one of the two variants');
    }
    if (variants.length > 1) {
      variants.forEach((v, i) => {
        if (v.hasVariantName) return;
        Annotations.of(this).addWarningV2('@ai-platform/serving:variantNameFromPosition',
          `'variants[${i}].variantName' is not set, so the variant is named '${names[i]}' after its position: adding or removing a variant before it renames it, `
          + 'and a renamed variant cannot be updated blue/green (SageMaker requires the same variant names in the old and new configuration), '
          + 'while its alarms and autoscaling move to whichever variant takes the name. Give every variant a variantName');
      });
    }
    const architectures = [...new Set(variants.filter((v) => !v.isServerless).map((v) => v.instanceType!.architecture))];
    if (architectures.length > 1) {
      throw new PlatformError(this, 'variants', variants.map((v) => v.instanceType?.name ?? 'serverless'),
        'must all run on one CPU architecture (x86_64 or arm64), since one image serves every variant',
        'use only Graviton (ml.c7g, ml.m7g...) or only x86_64 instance types');
    }
    // Summed only when every weight is known: the sum of two tokens is no token, just a large negative number.
    const weights = variants.map((v) => v._instance?.initialWeight ?? 1);
    const totalWeight = weights.reduce((sum, w) => sum + w, 0);
    if (!weights.some((w) => Token.isUnresolved(w)) && !serverless && totalWeight <= 0) {
      throw new PlatformError(this, 'variants[].initialWeight', 0, 'must sum to more than 0 over all variants, or no variant gets traffic', 'give at least one variant a weight above 0');
    }
    if (serverless) {
      if (variants.length > 1) {
        throw new PlatformError(this, 'variants', `${variants.length} variants`, 'must be a single variant when one is serverless (SageMaker does not mix serverless with other variants)', 'use one serverless variant, or only instance variants');
      }
      const excluded: Array<[string, unknown]> = [
        ['dataCapture', props.dataCapture], ['asyncInference', props.asyncInference], ['vpc', props.vpc],
        ['networkIsolation', props.networkIsolation === true ? true : undefined],
      ];
      for (const [prop, value] of excluded) {
        if (value !== undefined) {
          throw new PlatformError(this, prop, value, 'is not supported with a serverless variant (see the Serverless Inference feature exclusions)', `remove ${prop}, or use an instance variant`);
        }
      }
      // The key encrypts the instance storage volume (KmsKeyId), captured data and async results: a serverless
      // endpoint has none of the three, so the key would only be granted to the role and encrypt nothing.
      if (props.encryptionKey) {
        throw new PlatformError(this, 'encryptionKey', props.encryptionKey.keyArn.replace(/\$\{Token\[[^\]]*\]\}/g, '<token>'),
          'has no effect with a serverless variant: SageMaker takes no storage volume key (KmsKeyId) for serverless endpoints, and data capture and asynchronous inference, the key\'s other uses, are not available there',
          'remove encryptionKey, or use an instance variant');
      }
      // The bucket holds captured data and async payloads and results, nothing else (the model artifacts come
      // from `modelData`): on a serverless endpoint, where neither is available, it would be silently unused.
      if (props.bucket) {
        throw new PlatformError(this, 'bucket', props.bucket.bucketName.replace(/\$\{Token\[[^\]]*\]\}/g, '<token>'),
          'has no effect with a serverless variant: it holds captured data and asynchronous inference payloads and results, and neither data capture nor asynchronous inference is available on a serverless endpoint',
          'remove bucket, or use an instance variant');
      }
    }
    if (props.vpcSubnets && !props.vpc) {
      throw new PlatformError(this, 'vpcSubnets', props.vpcSubnets, "needs 'vpc'", 'pass the VPC the subnets belong to');
    }
    if (props.securityGroups && !props.vpc) {
      throw new PlatformError(this, 'securityGroups', `${props.securityGroups.length} groups`, "needs 'vpc'", 'pass the VPC the security groups belong to');
    }
    const env = props.environment ?? {};
    const envNames = Object.keys(env);
    for (const name of envNames) {
      if (name.length > 1024) {
        throw new PlatformError(this, 'environment', `${name.slice(0, 22)}... (${name.length} characters)`,
          'must be a variable name of at most 1024 characters (SageMaker\'s limit for an environment variable name)', 'shorten the name');
      }
      if (!ENV_NAME.test(name)) {
        throw new PlatformError(this, 'environment', name, 'must be a variable name of letters, digits and underscores, not starting with a digit', 'rename the variable');
      }
      const value = env[name];
      // SageMaker counts bytes (ContainerDefinition, Environment): a value of 1024 characters may be more in UTF-8.
      if (!Token.isUnresolved(value) && Buffer.byteLength(value) > 1024) {
        throw new PlatformError(this, `environment.${name}`, `${Buffer.byteLength(value)} bytes`, 'must be at most 1024 bytes (UTF-8), SageMaker\'s limit for an environment value', 'shorten the value or move it into the model directory');
      }
    }
    if ((props.image ?? ContainerImage.bundled()).isBundledServer) {
      // A value the server refuses surfaces only as a failed endpoint, after the startup health-check timeout.
      const sageMakerSets = (what: string) => ({ reason: `is reserved with the bundled server: ${what}`, fix: 'remove it from environment' });
      validateServerEnvironment(this, 'environment', env, {
        reserved: {
          SAGEMAKER_BIND_TO_PORT: sageMakerSets('SageMaker sends requests and health checks to port 8080, where the server listens by default'),
          PORT: sageMakerSets('SageMaker sends requests and health checks to port 8080, where the server listens by default'),
          MODEL_DIR: { ...sageMakerSets('SageMaker puts the model data in /opt/ml/model, where the server reads it'), fix: 'remove it from environment; modelData chooses the model' },
          HOST: {
            allowed: ['0.0.0.0', '::'],
            reason: 'must be 0.0.0.0 or :: (every address), or unset, with the bundled server: SageMaker sends requests and health checks to the container\'s address, so it cannot listen on one address only',
            fix: 'remove it from environment',
          },
        },
        isUnresolved: (value) => Token.isUnresolved(value),
      });
      if (!props.asyncInference) this.validateRequestDeadline(env);
    }
    const capture = props.dataCapture;
    if (capture) {
      const pct = capture.samplingPercentage ?? 20;
      if (!Token.isUnresolved(pct) && (!Number.isInteger(pct) || pct < 0 || pct > 100)) {
        throw new PlatformError(this, 'dataCapture.samplingPercentage', pct, 'must be a whole number from 0 to 100', 'lower it for busy endpoints, e.g. 10');
      }
      if (capture.captureRequests === false && capture.captureResponses === false) {
        throw new PlatformError(this, 'dataCapture.captureRequests', false, "and 'captureResponses' cannot both be false", 'capture at least one side, or remove dataCapture');
      }
      for (const prop of ['jsonContentTypes', 'csvContentTypes'] as const) {
        const types = capture[prop];
        if (types && (types.length < 1 || types.length > 10)) {
          throw new PlatformError(this, `dataCapture.${prop}`, types, 'must hold 1 to 10 content types', `list 1-10 types or leave ${prop} unset`);
        }
        // SageMaker takes each as a bare type/subtype (CaptureContentTypeHeader, SageMaker API reference) and refuses
        // the endpoint configuration otherwise.
        (types ?? []).forEach((type, i) => {
          if (Token.isUnresolved(type)) return;
          if (type.length > 256 || !CONTENT_TYPE.test(type)) {
            throw new PlatformError(this, `dataCapture.${prop}[${i}]`, type,
              'must be a bare MIME type of at most 256 characters: letters and digits with single or repeated "-" between them, a "/", then the same with "." allowed (no parameters such as "; charset=utf-8", no "+" suffix), as SageMaker\'s CaptureContentTypeHeader requires',
              'give the type alone, e.g. "application/json"');
          }
        });
      }
    }
    const async = props.asyncInference;
    // The S3 location is `s3://bucket/<prefix>` and the role may use `<bucket ARN>/<prefix>/*`: with a leading
    // "/" the two name different keys (the location drops it, the permission keeps it), with a trailing one the
    // permission is `<prefix>//*`, which does not cover the keys under `<prefix>/`, and an empty prefix gives the
    // role `<bucket ARN>//*`.
    const prefixes: Array<[string, string | undefined, string]> = [
      ['dataCapture.prefix', capture?.prefix, 'data-capture'],
      ['asyncInference.outputPrefix', async?.outputPrefix, 'async-output'],
      ['asyncInference.failurePrefix', async?.failurePrefix, 'async-failures'],
      ['asyncInference.inputPrefix', async?.inputPrefix, 'async-input'],
    ];
    for (const [prop, prefix, example] of prefixes) {
      if (prefix !== undefined && !Token.isUnresolved(prefix) && (prefix.length === 0 || prefix.startsWith('/') || prefix.endsWith('/'))) {
        throw new PlatformError(this, prop, prefix, 'must be a non-empty S3 key prefix without a leading or trailing "/" (the execution role may write only under it)',
          `use e.g. "${example}", or leave it unset`);
      }
    }
    if (async?.maxConcurrentInvocationsPerInstance !== undefined) {
      const n = async.maxConcurrentInvocationsPerInstance;
      if (!Token.isUnresolved(n) && (!Number.isInteger(n) || n < 1 || n > 1000)) {
        throw new PlatformError(this, 'asyncInference.maxConcurrentInvocationsPerInstance', n, 'must be a whole number from 1 to 1000', 'use a value the container can run at once, or leave it unset');
      }
    }
    const minCount = Math.min(...variants.map((v) => v.initialInstanceCount).filter((c) => c > 0), Number.MAX_SAFE_INTEGER);
    const maxCount = Math.max(...variants.map((v) => v.initialInstanceCount), 0);
    // The default strategies are within SageMaker's limits by construction.
    props.rollout?._validate(this, serverless, minCount, maxCount);
  }

  /**
   * An AMI version made for one kind of accelerator (a `-gpu-` image, NVIDIA; a `-neuron-` image, Inferentia and
   * Trainium) on an instance type the catalog knows to have none or another fails: SageMaker would refuse the
   * endpoint configuration at deployment. Types the catalog lacks, and tokens, are left to SageMaker.
   */
  private checkAmiFitsInstance(v: EndpointVariant, index: number): void {
    const ami = v._instance?.inferenceAmiVersion?.name;
    const type = v.instanceType;
    if (ami === undefined || Token.isUnresolved(ami) || !type || Token.isUnresolved(type.name)) return;
    const wants = /-gpu-/.test(ami) ? AcceleratorVendor.NVIDIA : /-neuron-/.test(ami) ? AcceleratorVendor.AWS_NEURON : undefined;
    if (wants === undefined) return;
    const has = type.gpu?.vendor ?? (ACCELERATOR_FAMILY.test(type.family) ? 'unknown' : 'none');
    if (has === 'unknown' || has === wants) return;
    const kind = wants === AcceleratorVendor.NVIDIA ? 'NVIDIA GPU' : 'Inferentia or Trainium';
    throw new PlatformError(this, `variants[${index}].inferenceAmiVersion`, ami,
      `is a host image for ${kind} instances, and ${type.name} ${has === 'none' ? 'has no accelerator' : `has ${has === AcceleratorVendor.NVIDIA ? 'NVIDIA GPUs' : 'Neuron devices'}`}: SageMaker would refuse the endpoint configuration`,
      `leave inferenceAmiVersion unset for SageMaker's default, or pick an AMI version for ${type.name}`);
  }

  /**
   * With the bundled server, a provider list without `cpu` requires a GPU provider; the server refuses
   * to start where none can load: in the CPU image (no CUDA), on an instance without an NVIDIA GPU, or
   * with `tensorrt` alone in the CUDA image (which installs no TensorRT).
   */
  private validateProviders(value: string | undefined, cudaImage: boolean, dockerfile: string | undefined, nonNvidia: EndpointVariant[]): void {
    if (value === undefined || Token.isUnresolved(value) || listsProvider(value, 'cpu')) return;
    if (!cudaImage) {
      throw new PlatformError(this, 'environment.ORT_EXECUTION_PROVIDERS', value,
        `must list cpu with the bundled server's CPU image (built from ${dockerfile ?? 'Dockerfile'}, which has no CUDA): the server could load none of the listed providers and would refuse to start`,
        `add cpu (e.g. 'cpu'), or run NVIDIA GPU instances with the CUDA image, ContainerImage.bundled({ file: '${BUNDLED_GPU_DOCKERFILE}' })`);
    }
    if (nonNvidia.length > 0) {
      throw new PlatformError(this, 'environment.ORT_EXECUTION_PROVIDERS', value,
        `must list cpu when a variant has no NVIDIA GPU (${nonNvidia.map((v) => v.instanceType?.name ?? 'serverless').join(', ')}): CUDA cannot load there and the server would refuse to start`,
        'add cpu (e.g. \'cuda,cpu\'), or run only NVIDIA GPU instance types');
    }
    if (!listsProvider(value, 'cuda')) {
      throw new PlatformError(this, 'environment.ORT_EXECUTION_PROVIDERS', value,
        `must list cuda or cpu with the bundled server's CUDA image (built from ${dockerfile ?? BUNDLED_GPU_DOCKERFILE}, which installs no TensorRT libraries): tensorrt can never load there and the server would refuse to start`,
        'add cuda after tensorrt (\'tensorrt,cuda\'), or use an image of your own with TensorRT');
    }
  }

  /**
   * Real-time and serverless endpoints give the container 60 s to answer (InvokeEndpoint: "A customer's model
   * containers must respond to requests within 60 seconds"). A bundled server whose request deadline is later
   * keeps queued requests and runs for callers SageMaker has already answered with an error, so a deadline over
   * 60 s fails synthesis: `REQUEST_TIMEOUT_MS` above 60000, or `SAGEMAKER_BATCH=true` without it (the server
   * then waits 595 s, as batch transform does). Asynchronous endpoints wait up to an hour and set their own.
   */
  private validateRequestDeadline(env: Readonly<Record<string, string>>): void {
    const limitMs = 60_000;
    const timeout = env.REQUEST_TIMEOUT_MS;
    const batch = env.SAGEMAKER_BATCH;
    if (timeout !== undefined && timeout !== '') {
      if (!Token.isUnresolved(timeout) && Number(timeout) > limitMs) {
        throw new PlatformError(this, 'environment.REQUEST_TIMEOUT_MS', timeout,
          `must be at most ${limitMs} on a real-time or serverless endpoint, which gives the container 60 s to answer: the bundled server would go on queueing and running requests whose callers SageMaker has already answered with an error`,
          'leave it unset (the server answers within 55 s), or use asyncInference for longer runs');
      }
      return;
    }
    if (batch !== undefined && !Token.isUnresolved(batch) && batch.trim().toLowerCase() === 'true') {
      throw new PlatformError(this, 'environment.SAGEMAKER_BATCH', batch,
        `must not be true on a real-time or serverless endpoint unless REQUEST_TIMEOUT_MS is at most ${limitMs}: it sets the bundled server's request deadline to 595 s, as for batch transform (which sets SAGEMAKER_BATCH itself), and the endpoint gives the container 60 s to answer`,
        'remove it from environment');
    }
  }

  /**
   * Allows `sagemaker:InvokeEndpoint` and `sagemaker:InvokeEndpointAsync` on this endpoint. On an asynchronous
   * endpoint a caller also uploads its request to S3 and reads the result there, so the grant adds
   * `s3:PutObject` under the input prefix, `s3:GetObject` under the output and failure prefixes, `s3:ListBucket`
   * limited to those two prefixes (so that polling for a result not yet written gets 404, not 403), and the use of
   * the keys that encrypt them: the bucket's default key for the upload (`kms:GenerateDataKey`, and
   * `kms:Decrypt` for multipart uploads) and the endpoint key that SageMaker encrypts results with (`kms:Decrypt`).
   */
  public override grantInvoke(grantee: iam.IGrantable): iam.Grant {
    const grant = super.grantInvoke(grantee);
    if (!this.asyncPrefixes || !this.bucket) return grant;
    const p = this.asyncPrefixes;
    let all = grant
      .combine(iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resourceArns: [this.bucket.arnForObjects(`${p.input}/*`)],
      }))
      .combine(iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:GetObject'],
        resourceArns: [...new Set([this.bucket.arnForObjects(`${p.output}/*`), this.bucket.arnForObjects(`${p.failure}/*`)])],
      }))
      // A caller polls for its result before SageMaker has written it. Without s3:ListBucket, S3 answers a
      // GetObject or HeadObject of a missing key with 403 AccessDenied instead of 404, and pollers stop at
      // the first try: boto3's object_exists waiter, which the SageMaker Python SDK's AsyncPredictor uses,
      // treats 403 as a failure and retries only on 404. S3 checks that permission with the missing key
      // as s3:prefix, so listing limited to the two result prefixes is enough.
      .combine(iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:ListBucket'],
        resourceArns: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [...new Set([`${p.output}/*`, `${p.failure}/*`])] } },
      }));
    const bucketKey = this.bucket.encryptionKey;
    if (bucketKey) {
      all = all.combine(iam.Grant.addToPrincipal({ grantee, actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [bucketKey.keyArn] }));
    }
    if (this.encryptionKey && this.encryptionKey !== bucketKey) {
      all = all.combine(iam.Grant.addToPrincipal({ grantee, actions: ['kms:Decrypt'], resourceArns: [this.encryptionKey.keyArn] }));
    }
    return all;
  }

  private createBucket(removalPolicy: RemovalPolicy, accessLogs?: s3.IBucket): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: accessLogs,
      removalPolicy,
    });
    if (!accessLogs) {
      Validations.of(bucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason: 'Only the endpoint execution role writes here (captured data, async results); pass serverAccessLogsBucket to turn on server access logging, or record S3 data events in CloudTrail.',
      });
    }
    return bucket;
  }

  private createSecurityGroup(vpc: ec2.IVpc): ec2.SecurityGroup {
    const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'SageMaker endpoint containers: outbound HTTPS only',
      allowAllOutbound: false,
    });
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to S3, ECR and other AWS endpoints');
    return sg;
  }

  private grantExecution(repositoryArn: string, modelStatements: iam.PolicyStatement[], props: ModelEndpointProps, logGroupName: string): void {
    const policy = this.executionPolicy;
    const stack = Stack.of(this);
    policy.addStatements(
      new iam.PolicyStatement({
        sid: 'PullImage',
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        resources: [repositoryArn],
      }),
      new iam.PolicyStatement({ sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
      ...modelStatements,
      new iam.PolicyStatement({
        sid: 'WriteLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [
          stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${logGroupName}:log-stream:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'PublishMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        // SageMaker's own namespace only: a container that publishes metrics of its own (with networkIsolation
        // off) needs them added to the role.
        conditions: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/Endpoints' } },
      }),
    );
    if (this.encryptionKey) {
      policy.addStatements(new iam.PolicyStatement({
        sid: 'UseKey',
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [this.encryptionKey.keyArn],
      }));
    }
    // A given bucket may encrypt by default with a key of its own: callers' async requests are
    // encrypted with it, and objects written without the endpoint key are too.
    const bucketKey = this.bucket?.encryptionKey;
    if (bucketKey && bucketKey !== this.encryptionKey) {
      policy.addStatements(new iam.PolicyStatement({
        sid: 'UseBucketKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [bucketKey.keyArn],
      }));
    }
    if (this.bucket && props.dataCapture) {
      policy.addStatements(new iam.PolicyStatement({
        sid: 'WriteCapturedData',
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${props.dataCapture.prefix ?? 'data-capture'}/*`)],
      }));
    }
    if (this.bucket && props.asyncInference) {
      const a = props.asyncInference;
      policy.addStatements(
        new iam.PolicyStatement({
          sid: 'WriteAsyncResults',
          actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
          resources: [
            this.bucket.arnForObjects(`${this.asyncPrefixes!.output}/*`),
            this.bucket.arnForObjects(`${this.asyncPrefixes!.failure}/*`),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ReadAsyncRequests',
          actions: ['s3:GetObject'],
          resources: [this.bucket.arnForObjects(`${this.asyncPrefixes!.input}/*`)],
        }),
      );
      const topics = [a.successTopic, a.errorTopic].filter((t): t is sns.ITopic => t !== undefined);
      if (topics.length > 0) {
        policy.addStatements(new iam.PolicyStatement({
          sid: 'NotifyAsync',
          actions: ['sns:Publish'],
          resources: [...new Set(topics.map((t) => t.topicArn))],
        }));
        // An encrypted topic takes messages only from a publisher that may use its key.
        const topicKeys = [...new Set(topics.map((t) => t.masterKey?.keyArn).filter((k): k is string => k !== undefined))];
        if (topicKeys.length > 0) {
          policy.addStatements(new iam.PolicyStatement({
            sid: 'NotifyAsyncEncrypted',
            actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
            resources: topicKeys,
          }));
        }
      }
    }
    if (props.vpc) {
      policy.addStatements(new iam.PolicyStatement({
        sid: 'AttachToVpc',
        actions: [
          'ec2:CreateNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface',
          'ec2:DeleteNetworkInterfacePermission', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs',
          'ec2:DescribeDhcpOptions', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups',
        ],
        resources: ['*'],
      }));
    }
    acknowledgeWildcards(policy, {
      EcrLogin: 'ecr:GetAuthorizationToken takes no resource; the image pull itself is limited to one repository.',
      PublishMetrics: 'cloudwatch:PutMetricData takes no resource; it is limited by the cloudwatch:namespace condition.',
      ReadModel: 'An uncompressed model is every object under the model prefix, which SageMaker copies into /opt/ml/model; the read is limited to that prefix.',
      WriteLogs: 'SageMaker names one log stream per instance and container; the streams are limited to this endpoint\'s own log group.',
      WriteCapturedData: 'SageMaker writes one object per captured batch under this endpoint\'s data-capture prefix only.',
      WriteAsyncResults: 'SageMaker writes one object per request under this endpoint\'s async output and failure prefixes only.',
      ReadAsyncRequests: 'Callers upload one object per request under this endpoint\'s async input prefix; the model reads only there.',
      AttachToVpc: 'SageMaker creates the containers\' network interfaces; these EC2 actions take no resource ARN known before the interfaces exist.',
    });
  }

  /**
   * The rollout in effect: the one given, or the default. SageMaker's canary is at most 50% of a variant's
   * instance count, and a linear step 10-50% (TrafficRoutingConfig, SageMaker API reference:
   * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html). A canary or step is
   * made of whole instances, so on a variant with one instance even the smallest (one instance) is all of it,
   * outside that limit; SageMaker documents no rounding for it. The default is therefore a 10% canary baking
   * 5 minutes only where every instance variant keeps at least two instances when an update starts
   * (`initialInstanceCount`, or once autoscaled, `minCapacity` and any scheduled action's bounds), and otherwise all at once with a 5-minute
   * baking period: `TerminationWaitInSeconds`, the wait after all traffic moved during which the rollback alarms
   * still watch the new fleet before the old one is terminated ("Use all at once traffic shifting",
   * https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green-all-at-once.html).
   */
  private get rollout(): RolloutStrategy {
    if (this.givenRollout) return this.givenRollout;
    return this.variantBelowTwoInstances() ? RolloutStrategy.allAtOnce({ terminationWait: Duration.minutes(5) }) : RolloutStrategy.canary();
  }

  /**
   * The first instance variant that can have fewer than two instances when an update starts: its
   * initialInstanceCount, or once autoscaled its minCapacity (an update keeps the scaled count) or the lowest
   * minCapacity or maxCapacity of its scheduled actions. Token counts are not known and not reported.
   */
  private variantBelowTwoInstances(): { index: number; name: string; count: number; what: string; raise: string } | undefined {
    for (const [index, v] of this.variants.entries()) {
      if (v.isServerless) continue;
      const name = v.nameAt(index);
      const range = this.scalingRanges.get(name);
      const count = range ? range[0] : v.initialInstanceCount;
      if (!Token.isUnresolved(count) && count < 2) {
        return range
          ? { index, name, count, what: "its autoscaling 'minCapacity'", raise: 'minCapacity' }
          : { index, name, count, what: 'its initialInstanceCount', raise: 'initialInstanceCount' };
      }
      // A scheduled action sets the bounds until the next one: off hours the count can be lower than minCapacity.
      const scheduled = this.scalables.get(name)?._scheduledFloor;
      if (scheduled !== undefined && scheduled < 2) {
        return { index, name, count: scheduled, what: "a scheduled scaling action's minCapacity or maxCapacity", raise: "the scheduled actions' minCapacity and maxCapacity" };
      }
    }
    return undefined;
  }

  /**
   * SageMaker watches the rollback alarms only while a canary or linear step bakes. The default alarms
   * fire after `datapointsToAlarm` breaching one-minute datapoints: a shorter bake moves on before they
   * can, and a bad update is never rolled back on them.
   * Not on Inf1: SageMaker updates it all at once with no baking period whatever the rollout says ("Exclusions",
   * https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html), so no bakeTime or
   * terminationWait would help; a canary or linear rollout there gets the Inf1 warning instead.
   */
  private warnOnShortBake(o: EndpointAlarmsOptions = {}): void {
    if (this.variants.some((v) => v.instanceType?.family === 'inf1')) return;
    const rollout = this.rollout;
    const datapoints = o.datapointsToAlarm ?? 2;
    if (rollout.type === 'ALL_AT_ONCE') {
      // All at once has one baking period: terminationWait, after all traffic moved.
      const wait = rollout._terminationWait ?? Duration.seconds(0);
      if (this.alarms.length === 0 || wait.isUnresolved() || Token.isUnresolved(datapoints)) return;
      const needed = datapoints * 60;
      if (wait.toSeconds({ integral: false }) >= needed) return;
      Annotations.of(this).addWarningV2('@ai-platform/serving:bakeTimeShorterThanAlarms',
        `rollout: the terminationWait (${wait.toSeconds({ integral: false })} seconds), all at once's baking period, is shorter than the default alarms need to fire (${datapoints} breaching one-minute datapoints, ${needed} seconds), `
        + 'and SageMaker watches the rollback alarms only while it lasts: the old fleet is terminated before they can roll a bad update back. '
        + `Set terminationWait to at least ${needed} seconds (more, as CloudWatch takes a minute or two to publish SageMaker metrics), or lower alarms.datapointsToAlarm`);
      return;
    }
    const bake = rollout._bakeTime;
    if (this.alarms.length === 0 || !bake || bake.isUnresolved() || Token.isUnresolved(datapoints)) return;
    const needed = datapoints * 60;
    if (bake.toSeconds({ integral: false }) >= needed) return;
    Annotations.of(this).addWarningV2('@ai-platform/serving:bakeTimeShorterThanAlarms',
      `rollout: the bakeTime (${bake.toSeconds({ integral: false })} seconds) is shorter than the default alarms need to fire (${datapoints} breaching one-minute datapoints, ${needed} seconds), `
      + `and SageMaker watches the rollback alarms only while a step bakes: a bad ${rollout.type.toLowerCase()} step moves on before they can roll it back. `
      + `Bake for at least ${needed} seconds (more, as CloudWatch takes a minute or two to publish SageMaker metrics), or lower alarms.datapointsToAlarm`);
  }

  /**
   * SageMaker takes rollback alarms by name only (`AutoRollbackConfiguration.Alarms[].AlarmName`) and looks
   * them up in the endpoint's own account and region: an alarm from another one would be missing there (or
   * another alarm of the same name would be read), so no update would be rolled back on it.
   * (SageMaker API reference, Alarm: only `AlarmName`, "the name of a CloudWatch alarm in your account":
   * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_Alarm.html.)
   *
   * The ARN is split on its colons even when it holds tokens (token placeholders contain none), so a literal
   * region or account next to a token partition or account is still compared. Where the region or account
   * part is itself a token (an `Aws.REGION` pseudo parameter, an alarm created in a stack, an ARN from a
   * parameter), nothing is known at synthesis and it is left unchecked.
   */
  private checkRollbackAlarm(alarm: cloudwatch.IAlarm, prop: string): void {
    // SageMaker's API reference describes rollback alarms as alarms "configured to monitor metrics on an endpoint"
    // and never mentions composite alarms; and CloudWatch's DescribeAlarms returns composite alarms only to callers
    // allowed it on "*" and asking for them, while the execution role may read only the alarms named here. An
    // imported composite alarm cannot be told apart from a metric alarm; the docs say so.
    if (alarm instanceof cloudwatch.CompositeAlarm) {
      throw new PlatformError(this, prop, alarm.node.path,
        'is a composite alarm, which SageMaker is not documented to read as a rollback alarm (its API reference names alarms that monitor metrics, and CloudWatch returns composite alarms only to a DescribeAlarms permission on "*"), so it might never roll an update back',
        'pass the metric alarms it combines instead: any one of them in ALARM rolls the update back');
    }
    const parts = alarm.alarmArn.split(':');
    // arn:partition:cloudwatch:region:account:alarm:name; a whole-ARN token has no colons.
    if (parts.length < 7 || parts[0] !== 'arn') return;
    const [, , , region, account] = parts;
    const stack = Stack.of(this);
    const differs = (theirs: string, ours: string) => theirs !== ''
      && !Token.isUnresolved(theirs) && !Token.isUnresolved(ours) && theirs !== ours;
    if (differs(region, stack.region) || differs(account, stack.account)) {
      // An environment-agnostic account or region is a token: name only what is known.
      const knownAccount = !Token.isUnresolved(stack.account);
      const knownRegion = !Token.isUnresolved(stack.region);
      const where = knownAccount && knownRegion ? `${stack.account}, ${stack.region}` : knownAccount ? `account ${stack.account}` : `region ${stack.region}`;
      throw new PlatformError(this, prop, alarm.alarmArn.replace(/\$\{Token\[[^\]]*\]\}/g, '<token>'),
        `must be an alarm in the endpoint's account and region (${where}): SageMaker takes rollback alarms by name and looks them up there, so this one would never roll an update back`,
        'create the alarm in this account and region (cross-account metrics can feed it), or leave it out');
    }
  }

  /**
   * SageMaker reads the rollback alarms with the execution role (`cloudwatch:DescribeAlarms`) while it
   * rolls an update out; without the permission no alarm can roll the update back.
   */
  private allowReadingAlarms(alarms: cloudwatch.IAlarm[]): void {
    if (alarms.length === 0) return;
    if (!this.readAlarms) {
      this.readAlarms = new iam.PolicyStatement({ sid: 'ReadRollbackAlarms', actions: ['cloudwatch:DescribeAlarms'] });
      this.executionPolicy.addStatements(this.readAlarms);
    }
    this.readAlarms.addResources(...alarms.map((a) => a.alarmArn));
  }

  private renderDataCapture(c: DataCaptureOptions): sagemaker.CfnEndpointConfig.DataCaptureConfigProperty {
    const modes = [
      ...(c.captureRequests === false ? [] : [{ captureMode: 'Input' }]),
      ...(c.captureResponses === false ? [] : [{ captureMode: 'Output' }]),
    ];
    return {
      enableCapture: true,
      initialSamplingPercentage: c.samplingPercentage ?? 20,
      destinationS3Uri: this.bucket!.s3UrlForObject(c.prefix ?? 'data-capture'),
      kmsKeyId: this.encryptionKey?.keyArn,
      captureOptions: modes,
      captureContentTypeHeader: {
        jsonContentTypes: c.jsonContentTypes ?? ['application/json'],
        csvContentTypes: c.csvContentTypes ?? ['text/csv'],
      },
    };
  }

  private renderAsync(a: AsyncInferenceOptions): sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty {
    const notify = a.successTopic || a.errorTopic;
    return {
      outputConfig: {
        s3OutputPath: this.bucket!.s3UrlForObject(this.asyncPrefixes!.output),
        s3FailurePath: this.bucket!.s3UrlForObject(this.asyncPrefixes!.failure),
        kmsKeyId: this.encryptionKey?.keyArn,
        notificationConfig: notify ? { successTopic: a.successTopic?.topicArn, errorTopic: a.errorTopic?.topicArn } : undefined,
      },
      clientConfig: a.maxConcurrentInvocationsPerInstance !== undefined
        ? { maxConcurrentInvocationsPerInstance: a.maxConcurrentInvocationsPerInstance }
        : undefined,
    };
  }

  private createAlarms(variants: EndpointVariant[], endpointName: string, o: EndpointAlarmsOptions = {}): cloudwatch.Alarm[] {
    if (o.enabled === false) return [];
    const errorRate = o.errorRateThreshold ?? 0.01;
    // The alarm fires when the share of 5XX answers is above the threshold: a share is at most 1, so a
    // threshold of 1 would never fire, nor roll an update back.
    if (!Token.isUnresolved(errorRate) && !(errorRate > 0 && errorRate < 1)) {
      throw new PlatformError(this, 'alarms.errorRateThreshold', errorRate,
        'must be a fraction above 0 and below 1 (the alarm fires when the share of requests answered 5XX is above it, and a share of 1 is never exceeded)',
        'use e.g. 0.01 for 1% of requests');
    }
    // Asynchronous requests may run for up to an hour: no latency alarm unless its threshold is given.
    const latency = o.modelLatencyThreshold ?? (this.asynchronous ? undefined : Duration.seconds(1));
    if (latency !== undefined) {
      // ModelLatency is in microseconds: the threshold is converted here, which a token cannot be.
      if (latency.isUnresolved()) {
        throw new PlatformError(this, 'alarms.modelLatencyThreshold', latency.toString(),
          'cannot be a token: it is converted to microseconds (ModelLatency\'s unit) at synthesis', 'pass a fixed duration, e.g. Duration.seconds(1)');
      }
      const ms = latency.toMilliseconds({ integral: false });
      if (!Number.isInteger(ms)) {
        throw new PlatformError(this, 'alarms.modelLatencyThreshold', `${ms} ms`, 'must be a whole number of milliseconds', 'round it, e.g. Duration.millis(250)');
      }
      if (ms <= 0) {
        throw new PlatformError(this, 'alarms.modelLatencyThreshold', `${ms} ms`,
          'must be above 0: the alarm would fire on every request and roll back every update', 'use the p99 latency the model should stay under, e.g. Duration.seconds(1)');
      }
    }
    const evaluationPeriods = o.evaluationPeriods ?? 3;
    const datapointsToAlarm = o.datapointsToAlarm ?? 2;
    // CloudWatch evaluates an alarm whose period is under an hour over one day at most (PutMetricAlarm, Period):
    // 1440 one-minute periods.
    if (!Token.isUnresolved(evaluationPeriods) && (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1 || evaluationPeriods > 1440)) {
      throw new PlatformError(this, 'alarms.evaluationPeriods', evaluationPeriods,
        'must be a whole number from 1 to 1440: the alarms evaluate one-minute periods, and CloudWatch evaluates an alarm with a period under an hour over one day at most',
        'use e.g. 3');
    }
    if (!Token.isUnresolved(datapointsToAlarm) && (!Number.isInteger(datapointsToAlarm) || datapointsToAlarm < 1
      || (!Token.isUnresolved(evaluationPeriods) && datapointsToAlarm > evaluationPeriods))) {
      throw new PlatformError(this, 'alarms.datapointsToAlarm', datapointsToAlarm, `must be a whole number from 1 to 'evaluationPeriods' (${evaluationPeriods})`, 'lower datapointsToAlarm or raise evaluationPeriods');
    }
    // A token cannot be multiplied into a percentage: the description shows it as the fraction it is.
    const errorRateText = Token.isUnresolved(errorRate) ? `a share of ${Tokenization.stringifyNumber(errorRate)}` : `${errorRate * 100}%`;
    const alarms: cloudwatch.Alarm[] = [];
    variants.forEach((v, i) => {
      const variantName = v.nameAt(i);
      const idPart = variantIdPart(variantName, i);
      const common = {
        evaluationPeriods,
        datapointsToAlarm,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      };
      alarms.push(new cloudwatch.Alarm(this, `${idPart}ErrorRateAlarm`, {
        ...common,
        alarmDescription: `More than ${errorRateText} of requests to ${endpointName}/${variantName} answered 5XX`,
        metric: this.metricFor(endpointName, 'Invocation5XXErrors', variantName, 'Average'),
        threshold: errorRate,
      }));
      if (latency === undefined) return;
      alarms.push(new cloudwatch.Alarm(this, `${idPart}ModelLatencyAlarm`, {
        ...common,
        alarmDescription: `p99 model latency of ${endpointName}/${variantName} above ${latency.toMilliseconds()} ms`,
        metric: this.metricFor(endpointName, 'ModelLatency', variantName, 'p99'),
        // ModelLatency is reported in microseconds.
        threshold: latency.toMilliseconds() * 1000,
      }));
    });
    for (const alarm of alarms) {
      for (const action of o.actions ?? []) alarm.addAlarmAction(action);
    }
    return alarms;
  }

  // The endpoint name is known before the endpoint exists, so alarms reference it as a literal and the
  // endpoint can reference the alarms (for rollback) without a dependency cycle.
  private metricFor(endpointName: string, metricName: string, variantName: string, statistic: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/SageMaker',
      metricName,
      dimensionsMap: { EndpointName: endpointName, VariantName: variantName },
      statistic,
      period: Duration.minutes(1),
    });
  }
}
