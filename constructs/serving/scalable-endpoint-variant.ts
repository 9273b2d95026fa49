import { Duration, TimeZone, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { PlatformError } from '../../lib/private/errors';
import { AcceleratorVendor } from '../compute/gpu-instance-type';
import { IModelEndpoint } from './model-endpoint-base';

/** Bounds of the instance count of one variant. */
export interface EndpointAutoScalingOptions {
  /**
   * Fewest instances. 0 only for asynchronous endpoints (they scale to zero on an empty queue);
   * real-time instance variants keep at least 1.
   * @default 1
   */
  readonly minCapacity?: number;
  /** Most instances; at least 1. */
  readonly maxCapacity: number;
  /**
   * The variant to scale.
   * @default - the endpoint's first variant
   */
  readonly variantName?: string;
}

/** Cooldowns shared by the target-tracking policies. */
export interface EndpointScalingCooldowns {
  /**
   * Time after a scale-in before another scale-in.
   * @default Duration.minutes(5)
   */
  readonly scaleInCooldown?: Duration;
  /**
   * Time after a scale-out before another scale-out. Instances take minutes to start, so keep it above that.
   * @default Duration.minutes(5)
   */
  readonly scaleOutCooldown?: Duration;
  /**
   * Only scale out; never remove instances for this policy.
   * @default false
   */
  readonly disableScaleIn?: boolean;
}

/** Target tracking on requests per instance (`SageMakerVariantInvocationsPerInstance`). */
export interface InvocationsScalingProps extends EndpointScalingCooldowns {
  /**
   * Requests per instance per minute to hold. Give this, or `maxRequestsPerSecond`.
   * @default - derived from maxRequestsPerSecond
   */
  readonly targetInvocationsPerInstance?: number;
  /**
   * The requests per second one instance sustains (from a load test). The target becomes
   * `maxRequestsPerSecond * 60 * safetyFactor` invocations per minute, computed at synthesis: this and
   * `safetyFactor` cannot be tokens (a CloudFormation parameter can be `targetInvocationsPerInstance`).
   * @default - targetInvocationsPerInstance must be given
   */
  readonly maxRequestsPerSecond?: number;
  /**
   * Share of the measured maximum to run at, above 0 and at most 1.
   * @default 0.5
   */
  readonly safetyFactor?: number;
}

/** Target tracking on GPU utilisation. */
export interface GpuUtilizationScalingProps extends EndpointScalingCooldowns {
  /**
   * Average utilisation per GPU to hold, 1-100 percent. A token only on one-GPU instances (the target is
   * multiplied by the GPU count at synthesis).
   */
  readonly targetUtilizationPercent: number;
}

/** Target tracking on any metric, for example the inference server's queue depth published to CloudWatch. */
export interface CustomMetricScalingProps extends EndpointScalingCooldowns {
  /** The metric; it should fall when instances are added (a per-instance average). */
  readonly metric: cloudwatch.IMetric;
  /** The value to hold. */
  readonly targetValue: number;
}

/** Scheduled capacity for business hours. */
export interface BusinessHoursScalingProps {
  /** Fewest instances during business hours, at most the scalable target's maxCapacity. */
  readonly minCapacity: number;
  /**
   * Fewest instances outside business hours, at most the scalable target's maxCapacity; 0 only for
   * asynchronous endpoints.
   * @default - the scalable target's minCapacity
   */
  readonly offHoursMinCapacity?: number;
  /**
   * Hour (0-23) business starts, Monday to Friday. Not a token: it is written into a cron expression.
   * @default 8
   */
  readonly startHour?: number;
  /**
   * Hour (0-23) business ends.
   * @default 18
   */
  readonly endHour?: number;
  /**
   * Time zone of the hours.
   * @default - UTC
   */
  readonly timeZone?: TimeZone;
}

/** Scaling of an asynchronous endpoint on its queue. */
export interface BacklogScalingProps extends EndpointScalingCooldowns {
  /**
   * Queued requests per instance to hold.
   * @default 5
   */
  readonly targetBacklogPerInstance?: number;
}

/** @internal */
export interface ScalableEndpointVariantProps extends appscaling.BaseScalableAttributeProps {
  readonly endpoint: IModelEndpoint;
  readonly variantName: string;
  readonly acceleratorCount: number;
  /** Vendor of the accelerators; undefined for CPU types. */
  readonly acceleratorVendor?: AcceleratorVendor;
  /** The variant's instance type name, for messages. */
  readonly instanceTypeName: string;
  readonly asynchronous: boolean;
}

/**
 * The instance count of one endpoint variant, under Application Auto Scaling
 * (`sagemaker:variant:DesiredInstanceCount`). Returned by `ModelEndpoint.autoScale()`.
 *
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling.html
 */
export class ScalableEndpointVariant extends appscaling.BaseScalableAttribute {
  /** The variant this scales. */
  public readonly variantName: string;
  private readonly endpoint: IModelEndpoint;
  private readonly acceleratorCount: number;
  private readonly acceleratorVendor?: AcceleratorVendor;
  private readonly instanceTypeName: string;
  private readonly asynchronous: boolean;
  /** The minCapacity and maxCapacity values of the scheduled actions (tokens left out). */
  private readonly scheduledBounds: number[] = [];
  /** The backlog policy's id and props, once scaleOnBacklog() was called (for the scale-from-zero step). */
  private backlog?: { readonly id: string; readonly props: BacklogScalingProps };
  private scalesFromZero = false;

  /** @internal */
  constructor(scope: Construct, id: string, props: ScalableEndpointVariantProps) {
    super(scope, id, props);
    this.endpoint = props.endpoint;
    this.variantName = props.variantName;
    this.acceleratorCount = props.acceleratorCount;
    this.acceleratorVendor = props.acceleratorVendor;
    this.instanceTypeName = props.instanceTypeName;
    this.asynchronous = props.asynchronous;
  }

  /** The scalable target (for `node.addDependency` or overrides). */
  public get scalableTarget(): appscaling.ScalableTarget {
    return this.node.findChild('Target') as appscaling.ScalableTarget;
  }

  /**
   * Holds the requests per instance per minute at a target, with the predefined
   * `SageMakerVariantInvocationsPerInstance` metric. Not published for asynchronous endpoints.
   */
  public scaleOnInvocations(id: string, props: InvocationsScalingProps): void {
    if (this.asynchronous) {
      throw new PlatformError(this, 'scaleOnInvocations', id, 'is not available on asynchronous endpoints (SageMaker does not publish InvocationsPerInstance for them)', 'use scaleOnBacklog(id, { targetBacklogPerInstance })');
    }
    const hasTarget = props.targetInvocationsPerInstance !== undefined;
    const hasRps = props.maxRequestsPerSecond !== undefined;
    if (hasTarget === hasRps) {
      throw new PlatformError(this, 'targetInvocationsPerInstance', props.targetInvocationsPerInstance,
        `must be given alone, or replaced by 'maxRequestsPerSecond' (${props.maxRequestsPerSecond}); exactly one of the two is allowed`,
        'give targetInvocationsPerInstance (per minute), or maxRequestsPerSecond from a load test');
    }
    const safety = props.safetyFactor ?? 0.5;
    // The target is computed here; CloudFormation has no arithmetic to multiply a parameter with.
    for (const [prop, value] of [['maxRequestsPerSecond', props.maxRequestsPerSecond], ['safetyFactor', props.safetyFactor]] as const) {
      if (hasRps && value !== undefined && Token.isUnresolved(value)) {
        throw new PlatformError(this, prop, value,
          'cannot be a token: the target (maxRequestsPerSecond * 60 * safetyFactor invocations per minute) is computed at synthesis',
          'pass numbers, or pass targetInvocationsPerInstance (which may be a token) instead');
      }
    }
    if (!Token.isUnresolved(safety) && !(safety > 0 && safety <= 1)) {
      throw new PlatformError(this, 'safetyFactor', safety, 'must be above 0 and at most 1', 'use 0.5 (SageMaker\'s load-testing guidance) or another fraction');
    }
    const target = props.targetInvocationsPerInstance ?? props.maxRequestsPerSecond! * 60 * safety;
    if (!Token.isUnresolved(target) && !(target > 0)) {
      throw new PlatformError(this, hasTarget ? 'targetInvocationsPerInstance' : 'maxRequestsPerSecond', hasTarget ? target : props.maxRequestsPerSecond, 'must be > 0', 'give the load one instance handles');
    }
    super.doScaleToTrackMetric(id, {
      targetValue: target,
      predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
      ...cooldowns(props),
    });
  }

  /**
   * Holds the average utilisation per GPU at a target. SageMaker sums `GPUUtilization` over an
   * instance's GPUs (0-400% on four GPUs), so the target is multiplied by the GPU count.
   * NVIDIA GPU instances only: not for Inferentia or Trainium (`ml.inf*`, `ml.trn*`).
   */
  public scaleOnGpuUtilization(id: string, props: GpuUtilizationScalingProps): void {
    if (this.acceleratorCount < 1) {
      throw new PlatformError(this, 'scaleOnGpuUtilization', id, 'needs an accelerator instance type (GPUUtilization is only published for them)',
        'use EndpointInstanceType.gpu(...) for the variant, or scale on invocations or a custom metric');
    }
    // SageMaker documents GPUUtilization as "the percentage of GPU units used by the containers on an
    // instance" (Amazon SageMaker AI metrics in CloudWatch, endpoint instance metrics:
    // https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html), and its per-accelerator
    // metrics come from NVIDIA's DCGM exporter (https://docs.aws.amazon.com/sagemaker/latest/dg/inference-monitoring.html);
    // nothing documents it for Inferentia or Trainium, whose utilisation only neuron-monitor reports. On those
    // instances the target-tracking alarms would watch a metric without data, stay INSUFFICIENT_DATA and never scale.
    if (this.acceleratorVendor !== AcceleratorVendor.NVIDIA) {
      throw new PlatformError(this, 'scaleOnGpuUtilization', id,
        `needs an NVIDIA GPU instance type: ${this.instanceTypeName} has AWS Neuron accelerators, for which SageMaker publishes no GPUUtilization, `
        + 'so the policy\'s alarms would have no data and never scale',
        'use scaleOnInvocations, or publish NeuronCore utilisation from the container (neuron-monitor) and use scaleOnCustomMetric');
    }
    const pct = props.targetUtilizationPercent;
    if (!Token.isUnresolved(pct) && !(pct >= 1 && pct <= 100)) {
      throw new PlatformError(this, 'targetUtilizationPercent', pct, 'must be from 1 to 100 (percent per GPU)', 'use a value such as 70');
    }
    // The target is multiplied by the GPU count here; CloudFormation has no arithmetic to do it with a parameter.
    if (Token.isUnresolved(pct) && this.acceleratorCount > 1) {
      throw new PlatformError(this, 'targetUtilizationPercent', pct,
        `cannot be a token on an instance with ${this.acceleratorCount} GPUs: SageMaker sums GPUUtilization over the GPUs, so the target is multiplied by ${this.acceleratorCount} at synthesis`,
        `pass a number, or use scaleOnCustomMetric with metricGpuUtilization() and a target already multiplied by ${this.acceleratorCount}`);
    }
    super.doScaleToTrackMetric(id, {
      targetValue: pct * this.acceleratorCount,
      customMetric: this.endpoint.metricGpuUtilization({ variantName: this.variantName, period: Duration.minutes(1) }),
      ...cooldowns(props),
    });
  }

  /** Holds any metric at a target, e.g. the inference server's queue depth per instance. */
  public scaleOnCustomMetric(id: string, props: CustomMetricScalingProps): void {
    if (!Token.isUnresolved(props.targetValue) && !(props.targetValue > 0)) {
      throw new PlatformError(this, 'targetValue', props.targetValue, 'must be > 0', 'give the per-instance value to hold');
    }
    super.doScaleToTrackMetric(id, { targetValue: props.targetValue, customMetric: props.metric, ...cooldowns(props) });
  }

  /**
   * Sets the bounds on a schedule. A bound of 0 only on asynchronous endpoints: a real-time instance variant
   * keeps at least one instance.
   */
  public scaleOnSchedule(id: string, action: appscaling.ScalingSchedule): void {
    this.checkScheduledBound('minCapacity', action.minCapacity);
    this.checkScheduledBound('maxCapacity', action.maxCapacity);
    const { minCapacity: min, maxCapacity: max } = action;
    if (min !== undefined && max !== undefined && !Token.isUnresolved(min) && !Token.isUnresolved(max) && min > max) {
      throw new PlatformError(this, 'minCapacity', min, `must be <= 'maxCapacity' (${max}) of the same scheduled action`, 'lower minCapacity or raise maxCapacity');
    }
    this.recordScheduledBounds(action.minCapacity, action.maxCapacity);
    super.doScaleOnSchedule(id, action);
  }

  /**
   * The fewest instances a scheduled action lets the variant have: a scheduled action sets the scalable
   * target's bounds until the next one, so the count can go down to the lowest minCapacity or maxCapacity
   * any of them sets. Undefined without scheduled actions (or with token bounds only).
   * @internal
   */
  public get _scheduledFloor(): number | undefined {
    return this.scheduledBounds.length > 0 ? Math.min(...this.scheduledBounds) : undefined;
  }

  /**
   * A scheduled bound is an instance count: a whole number, and at least 1 on a real-time endpoint (SageMaker
   * keeps a real-time instance variant at one instance or more; only asynchronous endpoints scale to zero),
   * the rule autoScale() applies to minCapacity. A scheduled action is checked only when it runs, hours or
   * days after the deployment, and a failed one leaves the bounds as they were.
   */
  private checkScheduledBound(prop: string, value: number | undefined): void {
    if (value === undefined || Token.isUnresolved(value)) return;
    const least = this.asynchronous ? 0 : 1;
    if (!Number.isInteger(value) || value < least) {
      throw new PlatformError(this, prop, value,
        this.asynchronous ? 'must be a whole number >= 0' : 'must be a whole number >= 1 for a real-time endpoint (only asynchronous endpoints scale instance variants to zero)',
        this.asynchronous ? 'give an instance count' : 'keep at least one instance, set asyncInference for scale to zero, or use a serverless variant');
    }
  }

  private recordScheduledBounds(...bounds: Array<number | undefined>): void {
    for (const b of bounds) {
      if (b !== undefined && !Token.isUnresolved(b)) this.scheduledBounds.push(b);
    }
    // An asynchronous variant scheduled down to zero needs the scale-from-zero step as much as one whose
    // minCapacity is 0, whichever of scaleOnBacklog() and the schedule came first.
    this.addScaleFromZeroIfNeeded();
  }

  /** Raises the floor during business hours (Monday to Friday) and lowers it afterwards. */
  public scaleForBusinessHours(id: string, props: BusinessHoursScalingProps): void {
    const start = props.startHour ?? 8;
    const end = props.endHour ?? 18;
    for (const [prop, hour] of [['startHour', start], ['endHour', end]] as const) {
      if (Token.isUnresolved(hour)) {
        throw new PlatformError(this, prop, hour, 'cannot be a token: it is written into the schedule\'s cron expression at synthesis',
          'pass a whole hour from 0 to 23, or use scaleOnSchedule with a schedule of your own');
      }
      if (!Number.isInteger(hour) || hour < 0 || hour > 23) {
        throw new PlatformError(this, prop, hour, 'must be a whole hour from 0 to 23', `set ${prop} to the hour business ${prop === 'startHour' ? 'starts' : 'ends'}`);
      }
    }
    if (start >= end) {
      throw new PlatformError(this, 'startHour', start, `must be < 'endHour' (${end})`, 'business hours must not cross midnight; use scaleOnSchedule for other patterns');
    }
    const offHours = props.offHoursMinCapacity ?? this.props.minCapacity ?? 1;
    const maxCapacity = this.props.maxCapacity;
    this.checkScheduledBound('minCapacity', props.minCapacity);
    this.checkScheduledBound('offHoursMinCapacity', props.offHoursMinCapacity);
    if (!Token.isUnresolved(props.minCapacity) && !Token.isUnresolved(maxCapacity) && props.minCapacity > maxCapacity) {
      throw new PlatformError(this, 'minCapacity', props.minCapacity, `must be <= 'maxCapacity' (${maxCapacity})`, 'lower the business-hours floor or raise maxCapacity');
    }
    if (!Token.isUnresolved(offHours) && !Token.isUnresolved(maxCapacity) && offHours > maxCapacity) {
      throw new PlatformError(this, 'offHoursMinCapacity', offHours, `must be <= 'maxCapacity' (${maxCapacity})`, 'lower the off-hours floor or raise maxCapacity');
    }
    this.recordScheduledBounds(props.minCapacity, offHours);
    super.doScaleOnSchedule(`${id}Start`, {
      schedule: appscaling.Schedule.cron({ minute: '0', hour: String(start), weekDay: 'MON-FRI' }),
      minCapacity: props.minCapacity,
      timeZone: props.timeZone,
    });
    super.doScaleOnSchedule(`${id}End`, {
      schedule: appscaling.Schedule.cron({ minute: '0', hour: String(end), weekDay: 'MON-FRI' }),
      minCapacity: offHours,
      timeZone: props.timeZone,
    });
  }

  /**
   * Asynchronous endpoints: holds the queue per instance at a target, and, when the instance count can reach 0
   * (minCapacity 0 or a token, or a scheduled action's minCapacity or maxCapacity of 0, before or after this
   * call), adds a step policy on `HasBacklogWithoutCapacity` so a request arriving at zero instances starts
   * one (target tracking cannot scale out from zero: no instance publishes the per-instance metric).
   */
  public scaleOnBacklog(id: string, props: BacklogScalingProps = {}): void {
    if (!this.asynchronous) {
      throw new PlatformError(this, 'scaleOnBacklog', id, 'needs an asynchronous endpoint (the backlog metrics exist only there)', 'set asyncInference on the endpoint, or use scaleOnInvocations');
    }
    const target = props.targetBacklogPerInstance ?? 5;
    if (!Token.isUnresolved(target) && !(target > 0)) {
      throw new PlatformError(this, 'targetBacklogPerInstance', target, 'must be > 0', 'use a queue length per instance such as 5');
    }
    super.doScaleToTrackMetric(id, {
      targetValue: target,
      customMetric: this.endpoint.metricBacklogSizePerInstance(),
      ...cooldowns(props),
    });
    this.backlog = { id, props };
    this.addScaleFromZeroIfNeeded();
  }

  /**
   * Adds the step policy on `HasBacklogWithoutCapacity` once the variant scales on its backlog and its instance
   * count can be 0: a token minimum may be 0 at deployment, and a scheduled bound of 0 empties the fleet until
   * the next action. The step does nothing while an instance runs.
   */
  private addScaleFromZeroIfNeeded(): void {
    if (!this.backlog || this.scalesFromZero) return;
    const min = this.props.minCapacity ?? 1;
    if (min !== 0 && !Token.isUnresolved(min) && this._scheduledFloor !== 0) return;
    this.scalesFromZero = true;
    super.doScaleOnMetric(`${this.backlog.id}FromZero`, {
      metric: this.endpoint.metricHasBacklogWithoutCapacity(),
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [{ upper: 0, change: 0 }, { lower: 1, change: 1 }],
      evaluationPeriods: 1,
      cooldown: this.backlog.props.scaleOutCooldown ?? Duration.minutes(5),
    });
  }
}

function cooldowns(props: EndpointScalingCooldowns) {
  return {
    scaleInCooldown: props.scaleInCooldown ?? Duration.minutes(5),
    scaleOutCooldown: props.scaleOutCooldown ?? Duration.minutes(5),
    disableScaleIn: props.disableScaleIn,
  };
}
