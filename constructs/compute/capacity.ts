import * as eks from 'aws-cdk-lib/aws-eks';
import { CAPACITY_ON_DEMAND, CAPACITY_SPOT } from '../../lib/private/labels';

/** Options for spot capacity. */
export interface SpotCapacityOptions {
  /**
   * Add the catalog's interchangeable instance types (same vendor, accelerator model, accelerator
   * count and architecture, at least as many vCPUs and as much memory: `spotAlternatives()`) to the group,
   * up to the 20 types an EKS managed node group takes (a Karpenter `GpuNodePool` takes all of them), so that one
   * spot pool running dry does not stop it.
   * When false, a group of fewer than three types gets them suggested in a synthesis warning.
   * @default false
   */
  readonly diversify?: boolean;
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
    return new Capacity(false, false);
  }

  /** Spot instances: up to 90% cheaper, interrupted with two minutes' notice. */
  public static spot(options: SpotCapacityOptions = {}): Capacity {
    return new Capacity(true, options.diversify ?? false);
  }

  /** True for spot capacity. */
  public readonly isSpot: boolean;
  /** True when spot alternatives are added to the group. */
  public readonly diversify: boolean;

  private constructor(isSpot: boolean, diversify: boolean) {
    this.isSpot = isSpot;
    this.diversify = diversify;
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
