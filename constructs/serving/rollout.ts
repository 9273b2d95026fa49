import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { IConstruct } from 'constructs';
import { PlatformError } from '../../lib/private/errors';
import { checkSeconds } from './endpoint-variant';

/** A share of a variant's capacity for one traffic-shifting step. */
export class TrafficSize {
  /** A percentage of the new fleet's capacity. */
  public static percent(value: number): TrafficSize {
    return new TrafficSize('CAPACITY_PERCENT', value);
  }

  /** A number of instances of the new fleet. */
  public static instances(value: number): TrafficSize {
    return new TrafficSize('INSTANCE_COUNT', value);
  }

  private constructor(
    /** `CAPACITY_PERCENT` or `INSTANCE_COUNT`. */
    public readonly type: string,
    /** The percentage or the instance count. */
    public readonly value: number,
  ) {}

  /** True for a percentage. */
  public get isPercent(): boolean {
    return this.type === 'CAPACITY_PERCENT';
  }
}

/** What every blue/green rollout accepts. */
export interface RolloutOptions {
  /**
   * How long the old fleet is kept after all traffic moved before it is terminated (`TerminationWaitInSeconds`).
   * The rollback alarms still watch the new fleet during it: for `allAtOnce()` it is the only baking period.
   * 0-3600 seconds.
   * @default - no wait (SageMaker's default, 0); the endpoint's default `allAtOnce` rollout waits 5 minutes
   */
  readonly terminationWait?: Duration;
  /**
   * Upper bound for the whole deployment. 600-28800 seconds, and longer than the waits SageMaker counts
   * against it: `bakeTime` plus `terminationWait`, and for a linear rollout `bakeTime` between each two of
   * its steps (20% steps of ten instances: five steps, four bake times). Synthesis checks it against the fewest
   * steps the instance counts allow, a percentage rounded up to whole instances (20% of six instances: steps of
   * two, three steps).
   * @default - SageMaker's default
   */
  readonly maximumExecutionTimeout?: Duration;
  /**
   * Alarms that roll the deployment back, in addition to the endpoint's default alarms (5XX error rate
   * and model latency per variant). At most 10 alarms in all, each in the endpoint's account and region
   * (SageMaker takes them by name).
   * @default - only the default alarms
   */
  readonly rollbackAlarms?: cloudwatch.IAlarm[];
}

/** Options of a canary rollout. */
export interface CanaryRolloutOptions extends RolloutOptions {
  /**
   * Size of the canary: at most 50% of the new fleet.
   * @default TrafficSize.percent(10)
   */
  readonly canarySize?: TrafficSize;
  /**
   * Baking time: how long the canary serves while the alarms watch, before the rest of the traffic
   * moves. 0-3600 seconds.
   * @default Duration.minutes(5)
   */
  readonly bakeTime?: Duration;
}

/** Options of a linear rollout. */
export interface LinearRolloutOptions extends RolloutOptions {
  /**
   * Size of each step: 10-50% of the new fleet (as an instance count, at least a tenth of the largest
   * variant's initial instance count).
   * @default TrafficSize.percent(20)
   */
  readonly stepSize?: TrafficSize;
  /**
   * Baking time between steps. 0-3600 seconds.
   * @default Duration.minutes(5)
   */
  readonly bakeTime?: Duration;
}

/**
 * How an endpoint update moves traffic from the old fleet to the new one (SageMaker deployment
 * guardrails): blue/green with canary, linear or all-at-once shifting, rolled back automatically
 * when an alarm fires. Applies to updates, not to the first creation.
 *
 * @example
 * RolloutStrategy.canary({ canarySize: TrafficSize.percent(20), bakeTime: Duration.minutes(10) });
 * RolloutStrategy.linear({ stepSize: TrafficSize.percent(25) });
 *
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails.html
 */
export class RolloutStrategy {
  /**
   * A canary step, then the rest (10% canary, 5 minutes baking, by default). Needs at least two instances in
   * every instance variant: the canary is at most half of them. An endpoint's default where it has them.
   */
  public static canary(options: CanaryRolloutOptions = {}): RolloutStrategy {
    return new RolloutStrategy('CANARY', options, options.canarySize ?? TrafficSize.percent(10), options.bakeTime ?? Duration.minutes(5));
  }

  /** Equal steps with baking time between them. */
  public static linear(options: LinearRolloutOptions = {}): RolloutStrategy {
    return new RolloutStrategy('LINEAR', options, options.stepSize ?? TrafficSize.percent(20), options.bakeTime ?? Duration.minutes(5));
  }

  /**
   * All traffic at once to the new fleet, still rolled back by the alarms during `terminationWait` (the baking
   * period, SageMaker's `TerminationWaitInSeconds`). An endpoint's default, with a 5-minute `terminationWait`,
   * where a variant can have a single instance when an update starts.
   */
  public static allAtOnce(options: RolloutOptions = {}): RolloutStrategy {
    return new RolloutStrategy('ALL_AT_ONCE', options, undefined, undefined);
  }

  private constructor(
    /** `CANARY`, `LINEAR` or `ALL_AT_ONCE`. */
    public readonly type: string,
    private readonly options: RolloutOptions,
    private readonly size: TrafficSize | undefined,
    private readonly bakeTime: Duration | undefined,
  ) {}

  /**
   * The baking time of a canary or linear rollout (undefined for all at once).
   * @internal
   */
  public get _bakeTime(): Duration | undefined {
    return this.bakeTime;
  }

  /**
   * The wait after all traffic moved, before the old fleet is terminated (`TerminationWaitInSeconds`).
   * @internal
   */
  public get _terminationWait(): Duration | undefined {
    return this.options.terminationWait;
  }

  /** Alarms given with the strategy. */
  public get rollbackAlarms(): cloudwatch.IAlarm[] {
    return this.options.rollbackAlarms ?? [];
  }

  /**
   * Checks the strategy against the service limits and the endpoint's variants.
   * @internal
   */
  public _validate(scope: IConstruct, serverless: boolean, minInstanceCount: number, maxInstanceCount: number = minInstanceCount): void {
    const size = this.size;
    if (size && !Token.isUnresolved(size.value)) {
      const prop = this.type === 'CANARY' ? 'rollout.canarySize' : 'rollout.stepSize';
      if (!Number.isInteger(size.value) || size.value < 1) {
        throw new PlatformError(scope, prop, size.value, 'must be a whole number >= 1', 'give a percentage or an instance count');
      }
      if (size.isPercent) {
        const [lo, hi] = this.type === 'CANARY' ? [1, 50] : [10, 50];
        if (size.value < lo || size.value > hi) {
          throw new PlatformError(scope, prop, `${size.value}%`, `must be ${lo}-${hi}% of the new fleet (SageMaker's ${this.type.toLowerCase()} limit)`, `pick a percentage from ${lo} to ${hi}`);
        }
      } else {
        if (serverless) {
          throw new PlatformError(scope, prop, `${size.value} instances`, 'must be a percentage for a serverless variant (it has no instances)', `use TrafficSize.percent(${this.type === 'CANARY' ? 10 : 20})`);
        }
        if (!Token.isUnresolved(minInstanceCount) && size.value * 2 > minInstanceCount) {
          throw new PlatformError(scope, prop, `${size.value} instances`, `must be <= 50% of the smallest variant's initialInstanceCount (${minInstanceCount})`, 'use TrafficSize.percent(...) or more instances');
        }
        // SageMaker: a linear step is 10-50% of the variant's instance count.
        if (this.type === 'LINEAR' && !Token.isUnresolved(maxInstanceCount) && size.value * 10 < maxInstanceCount) {
          throw new PlatformError(scope, prop, `${size.value} instances`, `must be >= 10% of the largest variant's initialInstanceCount (${maxInstanceCount}), SageMaker's linear limit`, 'use TrafficSize.percent(...) or a larger step');
        }
      }
    }
    checkSeconds(scope, 'rollout.bakeTime', this.bakeTime, 0, 3600);
    checkSeconds(scope, 'rollout.terminationWait', this.options.terminationWait, 0, 3600);
    checkSeconds(scope, 'rollout.maximumExecutionTimeout', this.options.maximumExecutionTimeout, 600, 28800);
    // SageMaker: the timeout must be larger than the waits given in TerminationWaitInSeconds and
    // WaitIntervalInSeconds; a shorter one ends every update in a timeout and a rollback. (A linear
    // rollout waits between each two of its steps: see _linearTimeoutError.)
    const timeout = this.options.maximumExecutionTimeout;
    if (timeout && !Token.isUnresolved(timeout.toSeconds())) {
      const bake = this.bakeTime?.toSeconds() ?? 0;
      const termination = this.options.terminationWait?.toSeconds() ?? 0;
      if (!Token.isUnresolved(bake) && !Token.isUnresolved(termination) && timeout.toSeconds() <= bake + termination) {
        throw new PlatformError(scope, 'rollout.maximumExecutionTimeout', `${timeout.toSeconds()} seconds`,
          `must be longer than bakeTime plus terminationWait (${bake} + ${termination} = ${bake + termination} seconds): the deployment waits that long, so it would always time out and roll back`,
          'raise maximumExecutionTimeout, or shorten bakeTime or terminationWait');
      }
    }
  }

  /**
   * Checks maximumExecutionTimeout against the waits of a linear rollout, which bakes between each two
   * of its steps. The steps follow the instance count at the time of the update, given per instance
   * variant as the range it may have then (`[initialInstanceCount, initialInstanceCount]`, or an
   * autoscaled variant's `[minCapacity, maxCapacity]`). Only a timeout that every count in those ranges
   * would exceed is reported, counting a percentage step as rounded up to whole instances (the fewest
   * steps).
   * @returns the error, or undefined
   * @internal
   */
  public _linearTimeoutError(fleets: Array<[number, number]>): string | undefined {
    const size = this.size;
    const timeout = this.options.maximumExecutionTimeout;
    if (this.type !== 'LINEAR' || !size || Token.isUnresolved(size.value) || !(size.value >= 1)) return undefined;
    if (!timeout || Token.isUnresolved(timeout.toSeconds())) return undefined;
    const bake = this.bakeTime?.toSeconds() ?? 0;
    const termination = this.options.terminationWait?.toSeconds() ?? 0;
    if (Token.isUnresolved(bake) || Token.isUnresolved(termination)) return undefined;
    const stepsAt = (count: number): number => {
      if (count < 1) return 1;
      const perStep = size.isPercent ? Math.max(1, Math.ceil((count * size.value) / 100)) : size.value;
      return Math.ceil(count / perStep);
    };
    let steps = 1;
    for (const [lo, hi] of fleets) {
      if (Token.isUnresolved(lo) || Token.isUnresolved(hi) || !Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) continue;
      let fewest = Number.MAX_SAFE_INTEGER;
      for (let count = Math.max(lo, 0); count <= hi && fewest > 1; count++) fewest = Math.min(fewest, stepsAt(count));
      steps = Math.max(steps, fewest);
    }
    const bakes = steps - 1;
    const waits = bakes * bake + termination;
    if (bakes < 2 || timeout.toSeconds() > waits) return undefined;
    return `'rollout.maximumExecutionTimeout' (${timeout.toSeconds()} seconds) must be longer than the waits of the linear rollout: bakeTime between each two of its ${steps} steps, plus terminationWait `
      + `(${bakes} x ${bake} + ${termination} = ${waits} seconds), or every update times out and rolls back: raise maximumExecutionTimeout, shorten bakeTime or terminationWait, or take larger steps`;
  }

  /**
   * Checks an instance-count step against an autoscaled variant's bounds: once autoscaled, an update
   * keeps the variant's current instance count (anywhere from minCapacity to maxCapacity), and
   * SageMaker checks the step against that count.
   * @internal
   */
  public _validateScaling(scope: IConstruct, minCapacity: number, maxCapacity: number): void {
    const size = this.size;
    if (!size || size.isPercent || Token.isUnresolved(size.value)) return;
    const prop = this.type === 'CANARY' ? 'rollout.canarySize' : 'rollout.stepSize';
    if (!Token.isUnresolved(minCapacity) && size.value * 2 > minCapacity) {
      throw new PlatformError(scope, prop, `${size.value} instances`, `must be <= 50% of 'minCapacity' (${minCapacity}): an update keeps the autoscaled instance count, which can be that low`,
        'use TrafficSize.percent(...) or raise minCapacity');
    }
    if (this.type === 'LINEAR' && !Token.isUnresolved(maxCapacity) && size.value * 10 < maxCapacity) {
      throw new PlatformError(scope, prop, `${size.value} instances`, `must be >= 10% of 'maxCapacity' (${maxCapacity}), SageMaker's linear limit: an update keeps the autoscaled instance count, which can be that high`,
        'use TrafficSize.percent(...), a larger step, or a lower maxCapacity');
    }
  }

  /**
   * The blue/green update policy as CloudFormation wants it.
   * @internal
   */
  public _renderBlueGreen(): sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty {
    const capacity = this.size && { type: this.size.type, value: this.size.value };
    return {
      trafficRoutingConfiguration: {
        type: this.type,
        canarySize: this.type === 'CANARY' ? capacity : undefined,
        linearStepSize: this.type === 'LINEAR' ? capacity : undefined,
        // SageMaker requires WaitIntervalInSeconds with every traffic routing type (the API rejects a
        // TrafficRoutingConfig without it, although CloudFormation's schema marks it optional); all at once
        // has no steps to wait between. It is the canary's baking period and the wait between linear steps
        // ("Use canary traffic shifting", "Use linear traffic shifting"), 0-3600 seconds.
        waitIntervalInSeconds: this.bakeTime?.toSeconds() ?? 0,
      },
      // The final baking period, after all traffic moved and before the old fleet is terminated: for all at once
      // the only one ("Use all at once traffic shifting" sets just TerminationWaitInSeconds:
      // https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green-all-at-once.html).
      // 0-3600 seconds; MaximumExecutionTimeoutInSeconds 600-28800 (BlueGreenUpdatePolicy, SageMaker API reference).
      terminationWaitInSeconds: this.options.terminationWait?.toSeconds(),
      maximumExecutionTimeoutInSeconds: this.options.maximumExecutionTimeout?.toSeconds(),
    };
  }
}
