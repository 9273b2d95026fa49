import * as eks from 'aws-cdk-lib/aws-eks';
import { PlatformError } from '../../lib/private/errors';
import { CAPACITY_ON_DEMAND, CAPACITY_SPOT } from '../../lib/private/labels';

/** The default `maxPriceRatio` of spot diversification. */
const DEFAULT_MAX_PRICE_RATIO = 2;

/** Options for spot capacity. */
export interface SpotCapacityOptions {
  /**
   * Add the catalog's interchangeable instance types (same vendor, accelerator model, accelerator
   * count and architecture, at least as many vCPUs and as much memory, within `maxPriceRatio`:
   * `spotAlternatives(maxPriceRatio)`) to the group,
   * up to the 20 types an EKS managed node group takes (a Karpenter `GpuNodePool` takes all of them), so that one
   * spot pool running dry does not stop it.
   * When false, a group of fewer than three types gets them suggested in a synthesis warning.
   * @default false
   */
  readonly diversify?: boolean;

  /**
   * The most a stand-in may cost on demand, as a multiple of the on-demand price of the type it stands in for.
   * Larger sizes of the same GPU cost more (g5.16xlarge is 3.4 times g5.2xlarge), and a one-GPU pod placed on one
   * uses the same GPU at that price: the cap keeps diversification from buying them. At 2, a stand-in bought at
   * half its on-demand price (a common spot discount for GPU types) still costs no more than the requested type on
   * demand. Types without a price (`GpuInstanceType.custom` without `onDemandPrice`) get every stand-in.
   * `Infinity` adds every stand-in. Applies to diversification and to the types the single-pool warning suggests.
   * @default 2
   */
  readonly maxPriceRatio?: number;
}

/**
 * How accelerator nodes are bought: on-demand or spot.
 *
 * @example
 * Capacity.spot({ diversify: true })
 */
export class Capacity {
  /** On-demand instances: never interrupted, full price. */
  public static onDemand(): Capacity {
    return new Capacity(false, false, DEFAULT_MAX_PRICE_RATIO);
  }

  /** Spot instances: up to 90% cheaper, interrupted with two minutes' notice. */
  public static spot(options: SpotCapacityOptions = {}): Capacity {
    // A JavaScript caller may pass null for "no options".
    const ratio = options?.maxPriceRatio ?? DEFAULT_MAX_PRICE_RATIO;
    if (typeof ratio !== 'number' || !(ratio >= 1)) {
      throw new PlatformError(undefined, 'maxPriceRatio', ratio,
        'must be a number >= 1 (a multiple of the requested type\'s on-demand price; Infinity for no cap)', `leave it out for ${DEFAULT_MAX_PRICE_RATIO}`);
    }
    return new Capacity(true, options?.diversify ?? false, ratio);
  }

  /** True for spot capacity. */
  public readonly isSpot: boolean;
  /** True when spot alternatives are added to the group. */
  public readonly diversify: boolean;
  /** The most a spot stand-in may cost on demand, as a multiple of the type it stands in for. */
  public readonly maxPriceRatio: number;

  private constructor(isSpot: boolean, diversify: boolean, maxPriceRatio: number) {
    this.isSpot = isSpot;
    this.diversify = diversify;
    this.maxPriceRatio = maxPriceRatio;
  }

  /** The value of the `ai-platform.dev/capacity-type` label: `spot` or `on-demand`. */
  public get label(): string {
    return this.isSpot ? CAPACITY_SPOT : CAPACITY_ON_DEMAND;
  }

  /** The EKS managed node group capacity type: `SPOT` or `ON_DEMAND`. */
  public get eksCapacityType(): eks.CapacityType {
    return this.isSpot ? eks.CapacityType.SPOT : eks.CapacityType.ON_DEMAND;
  }
}
