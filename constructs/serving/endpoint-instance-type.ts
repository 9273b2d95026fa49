import { Token } from 'aws-cdk-lib';
import { PlatformError } from '../../lib/private/errors';
import { CpuArchitecture, GpuInstanceType } from '../compute/gpu-instance-type';

const ML_NAME = /^ml\.[a-z][a-z0-9-]*\.[a-z0-9]+$/;

/**
 * Accelerator families whose instances carry local NVMe instance storage even though their names lack
 * the `d` attribute. SageMaker encrypts such storage in hardware and rejects an endpoint configuration
 * `KmsKeyId` for them.
 */
const LOCAL_STORAGE_ACCELERATOR_FAMILIES = new Set([
  'dl1', 'g4dn', 'g5', 'g6', 'g6e', 'p3dn', 'p4d', 'p4de', 'p5', 'p5e', 'p5en', 'p6-b200', 'trn1', 'trn1n', 'trn2',
]);

/**
 * The instance type of a real-time or asynchronous SageMaker endpoint variant (`ml.*`).
 *
 * Accelerator types come from the GPU catalog (`EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE)`),
 * so their accelerator count, vendor and price are known. CPU types are named (`EndpointInstanceType.of('ml.c6i.xlarge')`)
 * or taken from the constants below.
 *
 * @example
 * EndpointInstanceType.of('ml.m5.xlarge');
 * EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE).name; // 'ml.g5.xlarge'
 *
 * @see https://aws.amazon.com/sagemaker/pricing/
 */
export class EndpointInstanceType {
  public static readonly ML_T2_MEDIUM = EndpointInstanceType.of('ml.t2.medium');
  public static readonly ML_M5_LARGE = EndpointInstanceType.of('ml.m5.large');
  public static readonly ML_M5_XLARGE = EndpointInstanceType.of('ml.m5.xlarge');
  public static readonly ML_M5_2XLARGE = EndpointInstanceType.of('ml.m5.2xlarge');
  public static readonly ML_M6I_LARGE = EndpointInstanceType.of('ml.m6i.large');
  public static readonly ML_M6I_XLARGE = EndpointInstanceType.of('ml.m6i.xlarge');
  public static readonly ML_C5_LARGE = EndpointInstanceType.of('ml.c5.large');
  public static readonly ML_C5_XLARGE = EndpointInstanceType.of('ml.c5.xlarge');
  public static readonly ML_C6I_LARGE = EndpointInstanceType.of('ml.c6i.large');
  public static readonly ML_C6I_XLARGE = EndpointInstanceType.of('ml.c6i.xlarge');
  public static readonly ML_C7G_LARGE = EndpointInstanceType.of('ml.c7g.large');
  public static readonly ML_C7G_XLARGE = EndpointInstanceType.of('ml.c7g.xlarge');

  /**
   * An `ml.*` instance type by name. Names of accelerator types in the GPU catalog (`ml.g5.xlarge`)
   * return the same value as `gpu()`. A token is accepted as is (nothing can be checked about it).
   */
  public static of(name: string): EndpointInstanceType {
    if (Token.isUnresolved(name)) {
      return new EndpointInstanceType(name);
    }
    if (typeof name !== 'string' || !ML_NAME.test(name)) {
      throw new PlatformError(undefined, 'instanceType', name,
        'must be a SageMaker instance type name like "ml.m5.xlarge" (the "ml." prefix, family, size)',
        'pass the SageMaker name, or use EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE) for accelerators');
    }
    const ec2Name = name.slice(3);
    const gpu = GpuInstanceType.catalogTypes().find((t) => t.name === ec2Name);
    return new EndpointInstanceType(name, gpu);
  }

  /** An accelerator instance type from the GPU catalog, as a SageMaker endpoint type. */
  public static gpu(type: GpuInstanceType): EndpointInstanceType {
    if (!(type instanceof GpuInstanceType)) {
      throw new PlatformError(undefined, 'type', type, 'must be a GpuInstanceType from the catalog, such as GpuInstanceType.G5_XLARGE',
        typeof type === 'string' ? 'pass the catalog constant, or the SageMaker name to EndpointInstanceType.of()' : undefined);
    }
    return new EndpointInstanceType(type.sageMakerInstanceType, type);
  }

  /** The SageMaker name, e.g. `ml.g5.xlarge`. */
  public readonly name: string;
  /** The catalog entry for accelerator types; undefined for CPU types and tokens. */
  public readonly gpu?: GpuInstanceType;

  private constructor(name: string, gpu?: GpuInstanceType) {
    this.name = name;
    this.gpu = gpu;
  }

  /** The family, e.g. `g5` or `m5` (empty for a token). */
  public get family(): string {
    return Token.isUnresolved(this.name) ? '' : this.name.split('.')[1];
  }

  /** Number of accelerators (GPUs or Neuron devices); 0 for CPU types and tokens. */
  public get acceleratorCount(): number {
    return this.gpu?.acceleratorCount ?? 0;
  }

  /** Burstable `ml.t*` types, which SageMaker does not autoscale. */
  public get isBurstable(): boolean {
    return /^t\d/.test(this.family);
  }

  /**
   * True when the instance has local (NVMe) instance storage: the `d` attribute (`m5d`, `c6id`) or an
   * accelerator family that always has it (`g5`, `g6`, `p4d`, `p5`, `trn1`, `dl1`, ...). SageMaker encrypts
   * that storage in hardware and fails `CreateEndpointConfig` when a `KmsKeyId` is given.
   */
  public get hasLocalStorage(): boolean {
    const family = this.family;
    if (!family) return false;
    if (LOCAL_STORAGE_ACCELERATOR_FAMILIES.has(family)) return true;
    const attributes = family.replace(/^[a-z]+\d+/, '');
    return attributes.includes('d');
  }

  /** CPU architecture: Graviton families (`c7g`, `m6gd`) are arm64. */
  public get architecture(): CpuArchitecture {
    if (this.gpu) return this.gpu.architecture;
    const attributes = this.family.replace(/^[a-z]+\d+/, '');
    return attributes.includes('g') ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64;
  }

  public toString(): string {
    return this.name;
  }
}
