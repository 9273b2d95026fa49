import { Duration, Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { IConstruct } from 'constructs';
import { PlatformError, requireProp } from '../../lib/private/errors';
import { EndpointInstanceType } from './endpoint-instance-type';

/**
 * The host image (AMI) of a variant's instances, which fixes the NVIDIA driver (and so the newest CUDA
 * a container can use) or the Neuron driver. SageMaker's default depends on the instance type: NVIDIA
 * driver 470 (CUDA 11.4) on ml.g4dn, ml.g5 and ml.p4d, 535 (CUDA 12.2) on ml.g6 and ml.p5. The constants are
 * the values of the API's `ProductionVariantInferenceAmiVersion` enum; which instance families accept each
 * one is SageMaker's to say (see the GPU drivers page).
 *
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/inference-gpu-drivers.html
 * @see https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html
 */
export class InferenceAmiVersion {
  /** NVIDIA driver 535, CUDA 12.2. */
  public static readonly GPU_2 = new InferenceAmiVersion('al2-ami-sagemaker-inference-gpu-2');
  /** NVIDIA driver 535, CUDA 12.2; the NVIDIA Container Toolkit does not mount CUDA compatibility libraries. */
  public static readonly GPU_2_1 = new InferenceAmiVersion('al2-ami-sagemaker-inference-gpu-2-1');
  /**
   * NVIDIA driver 550, CUDA 12.4; the NVIDIA Container Toolkit does not mount CUDA compatibility
   * libraries. The bundled CUDA image's default (it is built on CUDA 12.8, which runs on a 550 driver
   * through CUDA's minor version compatibility, and not on SageMaker's default 470 driver).
   */
  public static readonly GPU_3_1 = new InferenceAmiVersion('al2-ami-sagemaker-inference-gpu-3-1');
  /**
   * Amazon Linux 2023, NVIDIA driver 580, CUDA 13.0; the NVIDIA Container Toolkit does not mount CUDA
   * compatibility libraries. For images built on CUDA 13, which the 550 driver of `GPU_3_1` cannot run.
   */
  public static readonly AL2023_GPU_4_1 = new InferenceAmiVersion('al2023-ami-sagemaker-inference-gpu-4-1');
  /** Neuron driver 2.19 (Inferentia2 and Trainium). */
  public static readonly NEURON_2 = new InferenceAmiVersion('al2-ami-sagemaker-inference-neuron-2');

  /** Another AMI version by name (one SageMaker added after this library was released). */
  public static of(name: string): InferenceAmiVersion {
    return new InferenceAmiVersion(name);
  }

  private constructor(public readonly name: string) {}
}

/** Options of a variant that runs on instances you choose (real-time or asynchronous). */
export interface InstanceVariantOptions {
  /** The instance type, e.g. `EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE)` or `EndpointInstanceType.ML_M5_LARGE`. */
  readonly instanceType: EndpointInstanceType;
  /**
   * Instances at creation. Autoscaling, when turned on, moves the count within its bounds.
   * @default 1
   */
  readonly initialInstanceCount?: number;
  /**
   * Relative share of traffic (this weight divided by the sum of all weights). 0 sends this variant no
   * traffic unless a request targets it by name.
   * @default 1
   */
  readonly initialWeight?: number;
  /**
   * Variant name (1-63 characters: letters, digits, hyphens). Blue/green updates require the same name
   * in the old and new configuration, so keep it stable; the default follows the variant's position, so
   * with several variants, name each one (synthesis warns otherwise).
   * @default 'AllTraffic' for the first variant, 'Variant<n>' for the others
   */
  readonly variantName?: string;
  /**
   * How long the container may take to pass `/ping` after start. 60-3600 seconds.
   * @default - SageMaker's default (600 seconds for most types)
   */
  readonly containerStartupHealthCheckTimeout?: Duration;
  /**
   * How long downloading the model artifacts may take. 60-3600 seconds.
   * @default - SageMaker's default
   */
  readonly modelDataDownloadTimeout?: Duration;
  /**
   * The host image of the instances: it fixes the NVIDIA or Neuron driver the container finds.
   * @default - `InferenceAmiVersion.GPU_3_1` (NVIDIA driver 550) for NVIDIA T4, A10G, L4, L40S, A100,
   * H100 and H200 types serving the bundled CUDA image, which needs a CUDA 12 driver: on SageMaker's
   * default 470 driver of ml.g4dn, ml.g5 and ml.p4d its CUDA 12.8 libraries cannot run. Otherwise
   * SageMaker's default for the instance type.
   */
  readonly inferenceAmiVersion?: InferenceAmiVersion;
}

/** Options of a serverless variant (CPU only; SageMaker provisions and scales the compute). */
export interface ServerlessVariantOptions {
  /**
   * Memory per invocation environment: 1024 to 6144 MiB in 1024 MiB steps (a whole number of MiB; a token only
   * as `Size.mebibytes(token)`). vCPUs scale with it.
   * @default Size.mebibytes(2048)
   */
  readonly memorySize?: Size;
  /**
   * Most concurrent invocations: 1-200 (the account quota for all serverless endpoints may be lower).
   * @default 5
   */
  readonly maxConcurrency?: number;
  /**
   * Environments kept warm, avoiding cold starts: 1 to `maxConcurrency`. Billed while provisioned.
   * @default - none (scale to zero between requests)
   */
  readonly provisionedConcurrency?: number;
  /**
   * Variant name.
   * @default 'AllTraffic'
   */
  readonly variantName?: string;
}

const VARIANT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const AMI_VERSION = /^[a-z0-9](-*[a-z0-9]){0,62}$/;

/**
 * A production variant of a model endpoint: instances (real-time, or asynchronous with
 * `asyncInference`) or serverless.
 *
 * @example
 * EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE), initialInstanceCount: 2 });
 * EndpointVariant.serverless({ memorySize: Size.gibibytes(4), maxConcurrency: 20 });
 *
 * @see https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html
 */
export class EndpointVariant {
  /** A variant on instances of the given type. */
  public static instance(options: InstanceVariantOptions): EndpointVariant {
    requireProp(undefined, 'instanceType', options?.instanceType, 'object',
      'an EndpointInstanceType, e.g. EndpointInstanceType.ML_M5_LARGE or EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE)');
    return new EndpointVariant(options, undefined);
  }

  /** A serverless variant. It cannot be combined with other variants, VPC, data capture or async inference. */
  public static serverless(options: ServerlessVariantOptions = {}): EndpointVariant {
    return new EndpointVariant(undefined, options);
  }

  /** @internal */
  public readonly _instance?: InstanceVariantOptions;
  /** @internal */
  public readonly _serverless?: ServerlessVariantOptions;

  private constructor(instance?: InstanceVariantOptions, serverless?: ServerlessVariantOptions) {
    this._instance = instance;
    this._serverless = serverless;
  }

  /** True for a serverless variant. */
  public get isServerless(): boolean {
    return this._serverless !== undefined;
  }

  /** The instance type; undefined for serverless. */
  public get instanceType(): EndpointInstanceType | undefined {
    return this._instance?.instanceType;
  }

  /** Instances at creation (0 for serverless). */
  public get initialInstanceCount(): number {
    return this._instance ? (this._instance.initialInstanceCount ?? 1) : 0;
  }

  /** True when the variant was given a `variantName` (else it is named after its position). */
  public get hasVariantName(): boolean {
    return (this._instance?.variantName ?? this._serverless?.variantName) !== undefined;
  }

  /** The variant name this variant gets at the given position. */
  public nameAt(index: number): string {
    const given = this._instance?.variantName ?? this._serverless?.variantName;
    return given ?? (index === 0 ? 'AllTraffic' : `Variant${index + 1}`);
  }

  /**
   * Checks the variant against the service limits.
   * @internal
   */
  public _validate(scope: IConstruct, index: number): void {
    const prefix = `variants[${index}]`;
    const name = this.nameAt(index);
    if (!Token.isUnresolved(name) && !VARIANT_NAME.test(name)) {
      throw new PlatformError(scope, `${prefix}.variantName`, name, 'must be 1-63 letters, digits or hyphens, starting and ending with a letter or digit', 'rename the variant');
    }
    if (this._instance) {
      const o = this._instance;
      const count = o.initialInstanceCount ?? 1;
      if (!Token.isUnresolved(count) && (!Number.isInteger(count) || count < 1)) {
        throw new PlatformError(scope, `${prefix}.initialInstanceCount`, count, 'must be a whole number >= 1', 'start with at least one instance (asynchronous endpoints scale to zero with autoScale({ minCapacity: 0 }))');
      }
      const weight = o.initialWeight ?? 1;
      if (!Token.isUnresolved(weight) && !(typeof weight === 'number' && weight >= 0 && Number.isFinite(weight))) {
        throw new PlatformError(scope, `${prefix}.initialWeight`, weight, 'must be a number >= 0', 'give a relative traffic share such as 1, or 0 for a variant reached only by name');
      }
      checkSeconds(scope, `${prefix}.containerStartupHealthCheckTimeout`, o.containerStartupHealthCheckTimeout, 60, 3600);
      checkSeconds(scope, `${prefix}.modelDataDownloadTimeout`, o.modelDataDownloadTimeout, 60, 3600);
      const ami = o.inferenceAmiVersion?.name;
      if (ami !== undefined && !Token.isUnresolved(ami) && !AMI_VERSION.test(ami)) {
        throw new PlatformError(scope, `${prefix}.inferenceAmiVersion`, ami, 'must be a SageMaker inference AMI version name such as al2-ami-sagemaker-inference-gpu-3-1 (lower-case letters, digits and hyphens, at most 63)',
          'use one of the InferenceAmiVersion constants, or a name from the ProductionVariant API reference');
      }
    }
    if (this._serverless) {
      const o = this._serverless;
      const size = o.memorySize;
      // Size converts a token only from mebibytes, and a fraction of a MiB not at all: both would fail with
      // CDK's conversion error, which names neither the prop nor the sizes allowed.
      if (size?.isUnresolved()) {
        try {
          size.toMebibytes();
        } catch {
          throw new PlatformError(scope, `${prefix}.memorySize`, size.toHumanString(),
            'must be given in mebibytes when it is a token (it is rendered as MemorySizeInMB, and a token cannot be converted)', 'use Size.mebibytes(token)');
        }
      }
      const memory = size?.toMebibytes({ rounding: SizeRoundingBehavior.NONE }) ?? 2048;
      if (!Token.isUnresolved(memory) && (memory < 1024 || memory > 6144 || memory % 1024 !== 0)) {
        throw new PlatformError(scope, `${prefix}.memorySize`, Number.isInteger(memory) ? `${memory} MiB` : size!.toString(),
          'must be 1024, 2048, 3072, 4096, 5120 or 6144 MiB (serverless memory is 1-6 GiB in 1 GiB steps)', 'pick one of those sizes, e.g. Size.gibibytes(2)');
      }
      const max = o.maxConcurrency ?? 5;
      if (!Token.isUnresolved(max) && (!Number.isInteger(max) || max < 1 || max > 200)) {
        throw new PlatformError(scope, `${prefix}.maxConcurrency`, max, 'must be a whole number from 1 to 200 (the serverless limit per endpoint)', 'lower maxConcurrency, or use an instance variant for more concurrency');
      }
      const provisioned = o.provisionedConcurrency;
      if (provisioned !== undefined && !Token.isUnresolved(provisioned)) {
        if (!Number.isInteger(provisioned) || provisioned < 1) {
          throw new PlatformError(scope, `${prefix}.provisionedConcurrency`, provisioned, 'must be a whole number >= 1', 'leave it unset to scale to zero, or keep at least one environment warm');
        }
        if (!Token.isUnresolved(max) && provisioned > max) {
          throw new PlatformError(scope, `${prefix}.provisionedConcurrency`, provisioned, `must be <= 'maxConcurrency' (${max})`, 'lower provisionedConcurrency or raise maxConcurrency');
        }
      }
    }
  }

  /**
   * The production variant as CloudFormation wants it.
   * @internal
   */
  public _render(index: number, modelName: string, defaultAmi?: InferenceAmiVersion): sagemaker.CfnEndpointConfig.ProductionVariantProperty {
    const variantName = this.nameAt(index);
    if (this._serverless) {
      const o = this._serverless;
      return {
        variantName,
        modelName,
        serverlessConfig: {
          memorySizeInMb: o.memorySize?.toMebibytes() ?? 2048,
          maxConcurrency: o.maxConcurrency ?? 5,
          provisionedConcurrency: o.provisionedConcurrency,
        },
      };
    }
    const o = this._instance!;
    return {
      variantName,
      modelName,
      instanceType: o.instanceType.name,
      initialInstanceCount: o.initialInstanceCount ?? 1,
      initialVariantWeight: o.initialWeight ?? 1,
      containerStartupHealthCheckTimeoutInSeconds: o.containerStartupHealthCheckTimeout?.toSeconds(),
      modelDataDownloadTimeoutInSeconds: o.modelDataDownloadTimeout?.toSeconds(),
      inferenceAmiVersion: (o.inferenceAmiVersion ?? defaultAmi)?.name,
    };
  }
}

/**
 * Throws when a duration is not a whole number of seconds from min to max (CloudFormation wants whole
 * seconds). A token passes when given in seconds; in another unit it cannot be converted.
 */
export function checkSeconds(scope: IConstruct, prop: string, value: Duration | undefined, min: number, max: number): void {
  if (value === undefined) return;
  const field = prop.split('.').pop();
  if (value.isUnresolved()) {
    if (value.unitLabel() !== 'seconds') {
      throw new PlatformError(scope, prop, `Duration.${value.unitLabel()}(<token>)`, 'must be given in seconds when it is a token: CloudFormation wants seconds, and a token cannot be converted',
        `use Duration.seconds(...) for ${field}`);
    }
    return;
  }
  const s = value.toSeconds({ integral: false });
  if (!Number.isInteger(s)) {
    throw new PlatformError(scope, prop, `${s} seconds`, 'must be a whole number of seconds (CloudFormation takes whole seconds)', `round ${field} to whole seconds`);
  }
  if (s < min || s > max) {
    throw new PlatformError(scope, prop, `${s} seconds`, `must be from ${min} to ${max} seconds`, `set ${field} within that range`);
  }
}
