import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import { PlatformError, requireProp } from '../../lib/private/errors';
import { CATALOG, CatalogRow, SOURCES } from '../../lib/private/gpu-catalog-data';
import { acceleratorResourceName, acceleratorTaint, NVIDIA_ACCELERATOR_PREFIX, TaintDefinition } from '../../lib/private/labels';

/** Who makes the accelerator, which decides the AMI, device plugin and extended resource. */
export enum AcceleratorVendor {
  /** NVIDIA GPUs: `nvidia.com/gpu`, NVIDIA AMIs, the NVIDIA device plugin. */
  NVIDIA = 'nvidia',
  /** AWS Inferentia and Trainium: `aws.amazon.com/neuron`, Neuron AMIs, the Neuron device plugin. */
  AWS_NEURON = 'aws-neuron',
}

/** CPU architecture of the instance. */
export enum CpuArchitecture {
  X86_64 = 'x86_64',
  ARM64 = 'arm64',
}

/** An hourly price with where it came from. */
export interface InstancePrice {
  /** USD per hour, us-east-1, Linux, on-demand. */
  readonly usdPerHour: number;
  /** Where the figure came from. */
  readonly source: string;
  /** Date the source was read (or published), ISO 8601. */
  readonly asOf: string;
  /** False when the figure is derived, estimated or known to be out of date. */
  readonly confirmed: boolean;
}

/** Everything the library needs to know about an accelerator instance type. */
export interface GpuInstanceSpec {
  /** EC2 instance type name, e.g. `g5.xlarge` (no `ml.` prefix). */
  readonly name: string;
  /** Accelerator vendor. */
  readonly vendor: AcceleratorVendor;
  /**
   * Accelerator model as marketed, e.g. `A10G`, `H100`, `Inferentia2`. It becomes a node label value (see
   * `acceleratorModelLabel`): at most 56 characters once lower-cased for NVIDIA (63 for Neuron), with a letter or digit.
   */
  readonly acceleratorModel: string;
  /** Number of accelerator devices (GPUs, or Neuron devices). Must be >= 1. */
  readonly acceleratorCount: number;
  /**
   * Memory per accelerator in GiB, as EC2 reports it, which can be less than the vendor's marketed GB
   * figure (an L4 or an A10G sold as "24 GB" has 22,888 MiB, 22.35 GiB).
   */
  readonly acceleratorMemoryGiB: number;
  /** vCPUs. */
  readonly vcpus: number;
  /** Host memory in GiB. */
  readonly memoryGiB: number;
  /**
   * CPU architecture.
   * @default - CpuArchitecture.ARM64 when the name's attributes after the generation hold a `g`
   * (Graviton, as in `g5g`; Grace, as in `p6e-gb200`), else CpuArchitecture.X86_64
   */
  readonly architecture?: CpuArchitecture;
  /**
   * EC2 on-demand price in us-east-1.
   * @default - unknown: cost estimates report the type as unpriced
   */
  readonly onDemandPrice?: InstancePrice;
  /**
   * SageMaker `ml.*` on-demand price in us-east-1.
   * @default - unknown, or not sold on SageMaker
   */
  readonly sageMakerPrice?: InstancePrice;
}

/** How the EKS AMI is chosen for accelerator nodes. */
export enum AcceleratorOs {
  /** Amazon Linux 2023 with the vendor's drivers (the default). */
  AMAZON_LINUX_2023 = 'AL2023',
  /** Bottlerocket with NVIDIA drivers. NVIDIA only. */
  BOTTLEROCKET = 'BOTTLEROCKET',
}

const NAME_PATTERN = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;

/**
 * An instance type name from a token (a CfnParameter, an import) is known only at deployment, while the AMI type, the
 * taint, the device plugin and the node labels are chosen from the type at synthesis: say so, instead of reporting the
 * token's placeholder as a type the catalog lacks.
 */
function refuseToken(prop: string, name: unknown): void {
  if (!Token.isUnresolved(name)) return;
  throw new PlatformError(undefined, prop, '<token>',
    'cannot be a token: the AMI, the accelerator taint, the device plugin and the node labels (vendor, model, count) are chosen from the instance type at synthesis',
    'pass a literal name (from CDK context, e.g. app.node.tryGetContext(\'gpuType\'), rather than a CfnParameter or an imported value), or one of GpuInstanceType\'s constants');
}

/**
 * An accelerator (GPU, Inferentia, Trainium) instance type, with the facts the platform needs:
 * vendor, accelerator model, count and memory, CPU and memory, architecture, and on-demand prices.
 *
 * Use a constant (`GpuInstanceType.G5_XLARGE`), look one up by name (`GpuInstanceType.of('g5.xlarge')`,
 * validated against the catalog), or describe a type the catalog lacks with `custom({...})`.
 *
 * @example
 * const type = GpuInstanceType.of('g6.xlarge');
 * type.sageMakerInstanceType; // 'ml.g6.xlarge'
 * type.resourceName;          // 'nvidia.com/gpu'
 *
 * @see https://aws.amazon.com/ec2/instance-types/#Accelerated_Computing
 */
export class GpuInstanceType {
  // Declared first: the constants below fill it while the class initialises.
  private static cache?: GpuInstanceType[];

  // g4dn: NVIDIA T4
  public static readonly G4DN_XLARGE = GpuInstanceType.fromCatalog('g4dn.xlarge');
  public static readonly G4DN_2XLARGE = GpuInstanceType.fromCatalog('g4dn.2xlarge');
  public static readonly G4DN_4XLARGE = GpuInstanceType.fromCatalog('g4dn.4xlarge');
  public static readonly G4DN_8XLARGE = GpuInstanceType.fromCatalog('g4dn.8xlarge');
  public static readonly G4DN_12XLARGE = GpuInstanceType.fromCatalog('g4dn.12xlarge');
  public static readonly G4DN_16XLARGE = GpuInstanceType.fromCatalog('g4dn.16xlarge');
  // g5: NVIDIA A10G
  public static readonly G5_XLARGE = GpuInstanceType.fromCatalog('g5.xlarge');
  public static readonly G5_2XLARGE = GpuInstanceType.fromCatalog('g5.2xlarge');
  public static readonly G5_4XLARGE = GpuInstanceType.fromCatalog('g5.4xlarge');
  public static readonly G5_8XLARGE = GpuInstanceType.fromCatalog('g5.8xlarge');
  public static readonly G5_12XLARGE = GpuInstanceType.fromCatalog('g5.12xlarge');
  public static readonly G5_16XLARGE = GpuInstanceType.fromCatalog('g5.16xlarge');
  public static readonly G5_24XLARGE = GpuInstanceType.fromCatalog('g5.24xlarge');
  public static readonly G5_48XLARGE = GpuInstanceType.fromCatalog('g5.48xlarge');
  // g6: NVIDIA L4
  public static readonly G6_XLARGE = GpuInstanceType.fromCatalog('g6.xlarge');
  public static readonly G6_2XLARGE = GpuInstanceType.fromCatalog('g6.2xlarge');
  public static readonly G6_4XLARGE = GpuInstanceType.fromCatalog('g6.4xlarge');
  public static readonly G6_8XLARGE = GpuInstanceType.fromCatalog('g6.8xlarge');
  public static readonly G6_12XLARGE = GpuInstanceType.fromCatalog('g6.12xlarge');
  public static readonly G6_16XLARGE = GpuInstanceType.fromCatalog('g6.16xlarge');
  public static readonly G6_24XLARGE = GpuInstanceType.fromCatalog('g6.24xlarge');
  public static readonly G6_48XLARGE = GpuInstanceType.fromCatalog('g6.48xlarge');
  // g6e: NVIDIA L40S
  public static readonly G6E_XLARGE = GpuInstanceType.fromCatalog('g6e.xlarge');
  public static readonly G6E_2XLARGE = GpuInstanceType.fromCatalog('g6e.2xlarge');
  public static readonly G6E_4XLARGE = GpuInstanceType.fromCatalog('g6e.4xlarge');
  public static readonly G6E_8XLARGE = GpuInstanceType.fromCatalog('g6e.8xlarge');
  public static readonly G6E_12XLARGE = GpuInstanceType.fromCatalog('g6e.12xlarge');
  public static readonly G6E_16XLARGE = GpuInstanceType.fromCatalog('g6e.16xlarge');
  public static readonly G6E_24XLARGE = GpuInstanceType.fromCatalog('g6e.24xlarge');
  public static readonly G6E_48XLARGE = GpuInstanceType.fromCatalog('g6e.48xlarge');
  // p4d, p4de: NVIDIA A100
  public static readonly P4D_24XLARGE = GpuInstanceType.fromCatalog('p4d.24xlarge');
  public static readonly P4DE_24XLARGE = GpuInstanceType.fromCatalog('p4de.24xlarge');
  // p5, p5en: NVIDIA H100, H200
  public static readonly P5_48XLARGE = GpuInstanceType.fromCatalog('p5.48xlarge');
  public static readonly P5EN_48XLARGE = GpuInstanceType.fromCatalog('p5en.48xlarge');
  // inf2: AWS Inferentia2
  public static readonly INF2_XLARGE = GpuInstanceType.fromCatalog('inf2.xlarge');
  public static readonly INF2_8XLARGE = GpuInstanceType.fromCatalog('inf2.8xlarge');
  public static readonly INF2_48XLARGE = GpuInstanceType.fromCatalog('inf2.48xlarge');
  // trn1: AWS Trainium
  public static readonly TRN1_2XLARGE = GpuInstanceType.fromCatalog('trn1.2xlarge');
  public static readonly TRN1_32XLARGE = GpuInstanceType.fromCatalog('trn1.32xlarge');

  /**
   * Looks up a catalog type by name. Accepts the EC2 name (`g5.xlarge`) or the SageMaker name
   * (`ml.g5.xlarge`). An unknown name is an error that lists the known families; describe other
   * types with `GpuInstanceType.custom()`.
   */
  public static of(name: string): GpuInstanceType {
    refuseToken('instanceType', name);
    const ec2Name = typeof name === 'string' ? name.trim().toLowerCase().replace(/^ml\./, '') : name;
    const found = GpuInstanceType.catalogTypes().find((t) => t.name === ec2Name);
    if (!found) {
      const families = [...new Set(CATALOG.map((r) => r.name.split('.')[0]))].join(', ');
      throw new PlatformError(undefined, 'instanceType', name,
        `is not in the accelerator catalog (known families: ${families})`,
        'use one of GpuInstanceType\'s constants, or describe the type with GpuInstanceType.custom({ name, vendor, acceleratorModel, acceleratorCount, ... })');
    }
    return found;
  }

  /** Describes an accelerator type the catalog lacks. Every figure is validated. */
  public static custom(spec: GpuInstanceSpec): GpuInstanceType {
    requireProp(undefined, 'name', spec?.name, 'string', 'an EC2 instance type name like "g5.xlarge"');
    refuseToken('name', spec.name);
    if (typeof spec.name !== 'string' || !NAME_PATTERN.test(spec.name)) {
      throw new PlatformError(undefined, 'name', spec.name, 'must be an EC2 instance type name like "g5.xlarge" (family.size, lower case, no "ml." prefix)', 'pass the EC2 name');
    }
    for (const field of ['acceleratorCount', 'vcpus'] as const) {
      const v = spec[field];
      if (!Number.isInteger(v) || v < 1) {
        throw new PlatformError(undefined, field, v, 'must be a whole number >= 1', `set ${field} from the instance type's specification`);
      }
    }
    for (const field of ['acceleratorMemoryGiB', 'memoryGiB'] as const) {
      const v = spec[field];
      if (typeof v !== 'number' || !(v > 0)) {
        throw new PlatformError(undefined, field, v, 'must be a number > 0', `set ${field} from the instance type's specification`);
      }
    }
    if (!Object.values(AcceleratorVendor).includes(spec.vendor)) {
      throw new PlatformError(undefined, 'vendor', spec.vendor, `must be one of ${Object.values(AcceleratorVendor).join(', ')}`, 'use AcceleratorVendor.NVIDIA or AcceleratorVendor.AWS_NEURON');
    }
    for (const field of ['onDemandPrice', 'sageMakerPrice'] as const) {
      const p = spec[field];
      if (p !== undefined && (typeof p.usdPerHour !== 'number' || !(p.usdPerHour >= 0))) {
        throw new PlatformError(undefined, `${field}.usdPerHour`, p.usdPerHour, 'must be a number >= 0', 'give the hourly on-demand price in USD');
      }
    }
    if (!spec.acceleratorModel || typeof spec.acceleratorModel !== 'string') {
      throw new PlatformError(undefined, 'acceleratorModel', spec.acceleratorModel, 'must be a non-empty string such as "A10G"', 'name the accelerator model');
    }
    // The model becomes a node label value (ai-platform.dev/accelerator-model, and k8s.amazonaws.com/accelerator=nvidia-<model>
    // on NVIDIA nodes): EKS, the kubelet and the API server refuse a value over 63 characters.
    const maxLabel = spec.vendor === AcceleratorVendor.NVIDIA ? 63 - NVIDIA_ACCELERATOR_PREFIX.length : 63;
    const label = modelLabel(spec.acceleratorModel);
    if (label.length === 0 || label.length > maxLabel) {
      throw new PlatformError(undefined, 'acceleratorModel', spec.acceleratorModel,
        `must hold a letter or digit and give a label value of at most ${maxLabel} characters (it gives "${label}"): the nodes are labelled with it`
        + (spec.vendor === AcceleratorVendor.NVIDIA ? ` (ai-platform.dev/accelerator-model, and k8s.amazonaws.com/accelerator with the prefix "${NVIDIA_ACCELERATOR_PREFIX}")` : ' (ai-platform.dev/accelerator-model)'),
        'name the accelerator model as EC2 does, e.g. "H100" or "Trainium2"');
    }
    if (spec.architecture !== undefined && !Object.values(CpuArchitecture).includes(spec.architecture)) {
      throw new PlatformError(undefined, 'architecture', spec.architecture, `must be one of ${Object.values(CpuArchitecture).join(', ')}`,
        'use CpuArchitecture.X86_64 or CpuArchitecture.ARM64');
    }
    // A Graviton type described without its architecture (g5g) would otherwise get the x86_64 AMI,
    // which EKS refuses for it.
    return new GpuInstanceType({ ...spec, architecture: spec.architecture ?? architectureOfName(spec.name) }, false);
  }

  /** Every type in the catalog, in catalog order. */
  public static catalogTypes(): GpuInstanceType[] {
    if (!GpuInstanceType.cache) {
      GpuInstanceType.cache = CATALOG.map((row) => new GpuInstanceType(specOf(row), true));
    }
    return GpuInstanceType.cache;
  }

  private static fromCatalog(name: string): GpuInstanceType {
    return GpuInstanceType.of(name);
  }

  /** EC2 name, e.g. `g5.xlarge`. */
  public readonly name: string;
  /** Family, e.g. `g5`. */
  public readonly family: string;
  /** Size, e.g. `xlarge`. */
  public readonly size: string;
  public readonly vendor: AcceleratorVendor;
  public readonly acceleratorModel: string;
  public readonly acceleratorCount: number;
  /** Memory per accelerator in GiB, as EC2 reports it (can be below the marketed GB figure: L4 and A10G 22.35, not 24). */
  public readonly acceleratorMemoryGiB: number;
  public readonly vcpus: number;
  public readonly memoryGiB: number;
  public readonly architecture: CpuArchitecture;
  public readonly onDemandPrice?: InstancePrice;
  public readonly sageMakerPrice?: InstancePrice;
  /** True for catalog types, false for `custom()` ones. */
  public readonly inCatalog: boolean;

  private constructor(spec: GpuInstanceSpec, inCatalog: boolean) {
    this.name = spec.name;
    [this.family, this.size] = spec.name.split('.');
    this.vendor = spec.vendor;
    this.acceleratorModel = spec.acceleratorModel;
    this.acceleratorCount = spec.acceleratorCount;
    this.acceleratorMemoryGiB = spec.acceleratorMemoryGiB;
    this.vcpus = spec.vcpus;
    this.memoryGiB = spec.memoryGiB;
    this.architecture = spec.architecture ?? CpuArchitecture.X86_64;
    this.onDemandPrice = spec.onDemandPrice;
    this.sageMakerPrice = spec.sageMakerPrice;
    this.inCatalog = inCatalog;
  }

  /** The SageMaker instance type name, e.g. `ml.g5.xlarge`. */
  public get sageMakerInstanceType(): string {
    return `ml.${this.name}`;
  }

  /** The Kubernetes extended resource the device plugin advertises: `nvidia.com/gpu` or `aws.amazon.com/neuron`. */
  public get resourceName(): string {
    return acceleratorResourceName(this.vendor);
  }

  /** The default taint for nodes of this type (`nvidia.com/gpu=true:NoSchedule` or the Neuron equivalent). */
  public get defaultTaint(): TaintDefinition {
    return acceleratorTaint(this.vendor);
  }

  /** Total accelerator memory on the instance, GiB. */
  public get totalAcceleratorMemoryGiB(): number {
    return this.acceleratorMemoryGiB * this.acceleratorCount;
  }

  /**
   * Lower-case accelerator model for labels (`a10g`, `inferentia2`): other characters than letters, digits, `.` and `-`
   * become `-`, and what cannot begin or end a label value is trimmed (`H100 (SXM)` -> `h100--sxm`).
   */
  public get acceleratorModelLabel(): string {
    return modelLabel(this.acceleratorModel);
  }

  /**
   * The EKS managed node group AMI type that fits this instance:
   * NVIDIA x86 → `AL2023_X86_64_NVIDIA`, NVIDIA Graviton → `AL2023_ARM_64_NVIDIA`,
   * Neuron → `AL2023_X86_64_NEURON`; with `AcceleratorOs.BOTTLEROCKET`, the Bottlerocket NVIDIA AMIs.
   */
  public eksAmiType(os: AcceleratorOs = AcceleratorOs.AMAZON_LINUX_2023): eks.NodegroupAmiType {
    const arm = this.architecture === CpuArchitecture.ARM64;
    if (this.vendor === AcceleratorVendor.AWS_NEURON) {
      if (os === AcceleratorOs.BOTTLEROCKET) {
        // EKS itself runs Inferentia and Trainium on its Bottlerocket AMIs as well ("When using the EKS-optimized AL2023
        // or Bottlerocket AMIs with AWS Inferentia or Trainium, you must install the Neuron Kubernetes device plugin":
        // https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-k8s-device-plugin.html); it is this construct that
        // sets Neuron nodes up only on the AL2023 Neuron AMI.
        throw new PlatformError(undefined, 'amiOs', 'BOTTLEROCKET',
          `is not available for Neuron instance ${this.name}: this library sets up Neuron nodes only as AL2023_X86_64_NEURON `
          + '(EKS also runs them on Bottlerocket, which GpuNodeGroup does not set up; a Karpenter GpuNodePool does, with KarpenterAmi.bottlerocket())',
          'use AcceleratorOs.AMAZON_LINUX_2023');
      }
      if (arm) {
        throw new PlatformError(undefined, 'amiOs', 'arm64',
          `is not available for Neuron instance ${this.name}: EKS offers Neuron nodes only as AL2023_X86_64_NEURON`,
          'use AcceleratorOs.AMAZON_LINUX_2023');
      }
      return eks.NodegroupAmiType.AL2023_X86_64_NEURON;
    }
    if (os === AcceleratorOs.BOTTLEROCKET) {
      return arm ? eks.NodegroupAmiType.BOTTLEROCKET_ARM_64_NVIDIA : eks.NodegroupAmiType.BOTTLEROCKET_X86_64_NVIDIA;
    }
    return arm ? eks.NodegroupAmiType.AL2023_ARM_64_NVIDIA : eks.NodegroupAmiType.AL2023_X86_64_NVIDIA;
  }

  /** This type as an `ec2.InstanceType`. */
  public toEc2InstanceType(): ec2.InstanceType {
    return new ec2.InstanceType(this.name);
  }

  /**
   * Types in the catalog that could stand in for this one in a spot pool: same vendor, same
   * accelerator model, same accelerator count and architecture, at least as much accelerator memory,
   * and at least as many vCPUs and as much memory. Sorted by on-demand price. Does not include this type.
   * @param maxPriceRatio only types whose on-demand price is at most this multiple of this type's (ignored when
   *   this type has no price)
   */
  public spotAlternatives(maxPriceRatio: number = Infinity): GpuInstanceType[] {
    const own = this.onDemandPrice?.usdPerHour;
    // A small tolerance, so that a type at exactly the ratio (g4dn.16xlarge is twice g4dn.8xlarge) is kept.
    const limit = own === undefined ? Infinity : own * maxPriceRatio * (1 + 1e-9);
    return GpuInstanceType.catalogTypes()
      .filter((t) => t.name !== this.name
        && (limit === Infinity || (t.onDemandPrice !== undefined && t.onDemandPrice.usdPerHour <= limit))
        && t.vendor === this.vendor
        && t.acceleratorModel === this.acceleratorModel
        && t.acceleratorCount === this.acceleratorCount
        && t.architecture === this.architecture
        && t.acceleratorMemoryGiB >= this.acceleratorMemoryGiB
        && t.vcpus >= this.vcpus
        && t.memoryGiB >= this.memoryGiB)
      .sort((a, b) => (a.onDemandPrice?.usdPerHour ?? Infinity) - (b.onDemandPrice?.usdPerHour ?? Infinity));
  }

  public toString(): string {
    return this.name;
  }
}

/**
 * The accelerator model as a Kubernetes label value: lower case, characters other than letters, digits, `.` and `-`
 * replaced by `-`, and what cannot begin or end a label value trimmed (`H100 (SXM)` -> `h100--sxm`).
 */
function modelLabel(model: string): string {
  return model.toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
}

/** arm64 when the family's attributes after the generation hold a `g` (Graviton: `g5g`; Grace: `p6e-gb200`), else x86_64. */
function architectureOfName(name: string): CpuArchitecture {
  const attributes = name.split('.')[0].replace(/^[a-z]+\d+/, '');
  return attributes.includes('g') ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64;
}

function specOf(row: CatalogRow): GpuInstanceSpec {
  const price = (p: CatalogRow['ec2'] | undefined): InstancePrice | undefined => p && ({
    usdPerHour: p[0],
    source: SOURCES[p[1]].source,
    asOf: SOURCES[p[1]].asOf,
    confirmed: p[2],
  });
  return {
    name: row.name,
    vendor: row.vendor === 'nvidia' ? AcceleratorVendor.NVIDIA : AcceleratorVendor.AWS_NEURON,
    acceleratorModel: row.model,
    acceleratorCount: row.count,
    acceleratorMemoryGiB: row.memGiB,
    vcpus: row.vcpus,
    memoryGiB: row.ramGiB,
    architecture: row.arch === 'arm64' ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64,
    onDemandPrice: price(row.ec2),
    sageMakerPrice: price(row.sm),
  };
}
