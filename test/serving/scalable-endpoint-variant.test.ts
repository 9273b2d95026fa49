import { CfnParameter, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { EndpointInstanceType, EndpointVariant, ModelEndpoint, RolloutStrategy, TrafficSize } from '../../constructs/serving';
import { newStack } from '../helpers';
import { newEndpoint } from './util';

const G6_12XL = EndpointInstanceType.gpu(GpuInstanceType.G6_12XLARGE); // 4 GPUs

describe('a real-time GPU endpoint scaled on invocations, GPU utilisation, a custom metric and business hours', () => {
  let template: Template;
  let endpoint: ModelEndpoint;
  beforeAll(() => {
    const { stack } = newStack();
    endpoint = newEndpoint(stack, { variants: [EndpointVariant.instance({ instanceType: G6_12XL, initialInstanceCount: 2 })] });
    const scaling = endpoint.autoScale({ minCapacity: 2, maxCapacity: 8 });
    scaling.scaleOnInvocations('Rps', { maxRequestsPerSecond: 20 });
    scaling.scaleOnGpuUtilization('Gpu', { targetUtilizationPercent: 70, scaleOutCooldown: Duration.minutes(3) });
    scaling.scaleOnCustomMetric('Queue', {
      metric: new cloudwatch.Metric({ namespace: 'AiPlatform/Inference', metricName: 'QueueDepth', dimensionsMap: { EndpointName: endpoint.endpointName }, statistic: 'Average' }),
      targetValue: 8,
    });
    scaling.scaleForBusinessHours('Office', { minCapacity: 4, timeZone: TimeZone.EUROPE_BERLIN });
    template = Template.fromStack(stack);
  });

  test('registers the variant as a scalable target after the endpoint exists', () => {
    template.hasResource('AWS::ApplicationAutoScaling::ScalableTarget', {
      Properties: {
        ServiceNamespace: 'sagemaker',
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        ResourceId: `endpoint/${endpoint.endpointName}/variant/AllTraffic`,
        MinCapacity: 2,
        MaxCapacity: 8,
        RoleARN: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint')])] },
      },
      DependsOn: [Match.stringLikeRegexp('^Endpoint[0-9A-F]{8}$')],
    });
  });

  // The API reference lists DataCaptureConfig as a VariantPropertyType "(Not currently supported.)": it is not sent,
  // so no update of an autoscaled endpoint depends on SageMaker accepting it.
  test('updates keep the scaled instance count but apply new weights, and exclude only the documented variant properties', () => {
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      RetainAllVariantProperties: true,
      ExcludeRetainedVariantProperties: [{ VariantPropertyType: 'DesiredWeight' }],
    });
  });

  test('creates no IAM role for scaling (the service-linked role is used)', () => {
    template.resourceCountIs('AWS::IAM::Role', 1);
  });

  test('tracks 600 invocations per instance per minute (20 rps * 60 * 0.5)', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 600,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        ScaleInCooldown: 300,
        ScaleOutCooldown: 300,
      },
    });
  });

  test('tracks GPU utilisation of 70% per GPU as 280 on a four-GPU instance', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 280,
        ScaleOutCooldown: 180,
        CustomizedMetricSpecification: {
          Namespace: '/aws/sagemaker/Endpoints',
          MetricName: 'GPUUtilization',
          Statistic: 'Average',
          Dimensions: [{ Name: 'EndpointName', Value: endpoint.endpointName }, { Name: 'VariantName', Value: 'AllTraffic' }],
        },
      },
    });
  });

  test('tracks the custom queue-depth metric', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 8,
        CustomizedMetricSpecification: { Namespace: 'AiPlatform/Inference', MetricName: 'QueueDepth' },
      },
    });
  });

  test('raises the floor to 4 at 08:00 and back to 2 at 18:00 on weekdays, Berlin time', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScheduledActions: [
        { ScheduledActionName: 'OfficeStart', Schedule: 'cron(0 8 ? * MON-FRI *)', ScalableTargetAction: { MinCapacity: 4 }, Timezone: 'Europe/Berlin' },
        { ScheduledActionName: 'OfficeEnd', Schedule: 'cron(0 18 ? * MON-FRI *)', ScalableTargetAction: { MinCapacity: 2 }, Timezone: 'Europe/Berlin' },
      ],
    });
  });
});

describe('an asynchronous endpoint scaled to zero on its backlog', () => {
  let template: Template;
  let endpoint: ModelEndpoint;
  beforeAll(() => {
    const { stack } = newStack();
    endpoint = newEndpoint(stack, { asyncInference: {} });
    endpoint.autoScale({ minCapacity: 0, maxCapacity: 4 }).scaleOnBacklog('Backlog', { targetBacklogPerInstance: 10 });
    template = Template.fromStack(stack);
  });

  test('allows zero instances', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0, MaxCapacity: 4 });
  });

  test('tracks ApproximateBacklogSizePerInstance with the EndpointName dimension only', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 10,
        CustomizedMetricSpecification: {
          Namespace: 'AWS/SageMaker', MetricName: 'ApproximateBacklogSizePerInstance', Statistic: 'Average',
          Dimensions: [{ Name: 'EndpointName', Value: endpoint.endpointName }],
        },
      },
    });
  });

  test('adds one instance when requests wait with no capacity (HasBacklogWithoutCapacity >= 1)', () => {
    // Cooldown: the target-tracking policy's scale-out cooldown, 5 minutes by default.
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling', StepScalingPolicyConfiguration: Match.objectLike({ Cooldown: 300 }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ChangeInCapacity',
        StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker', MetricName: 'HasBacklogWithoutCapacity', Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1, EvaluationPeriods: 1,
      Dimensions: [{ Name: 'EndpointName', Value: endpoint.endpointName }],
    });
  });
});

describe('an asynchronous endpoint scheduled down to zero instances', () => {
  const fromZeroSteps = (template: Template) => template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy', { Properties: { PolicyType: 'StepScaling' } });

  test('scaling on the backlog, then an off-hours floor of 0, adds the scale-from-zero step: target tracking alone never leaves zero', () => {
    const { stack } = newStack();
    const scaling = newEndpoint(stack, { asyncInference: {} }).autoScale({ minCapacity: 1, maxCapacity: 4 });
    scaling.scaleOnBacklog('Backlog');
    scaling.scaleForBusinessHours('Office', { minCapacity: 2, offHoursMinCapacity: 0 });
    const template = Template.fromStack(stack);
    expect(Object.keys(fromZeroSteps(template))).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'HasBacklogWithoutCapacity', ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1 });
  });

  test('a scheduled minCapacity of 0 before scaling on the backlog adds the step too', () => {
    const { stack } = newStack();
    const scaling = newEndpoint(stack, { asyncInference: {} }).autoScale({ minCapacity: 1, maxCapacity: 4 });
    scaling.scaleOnSchedule('Night', { schedule: appscaling.Schedule.cron({ hour: '22', minute: '0' }), minCapacity: 0 });
    scaling.scaleOnBacklog('Backlog');
    expect(Object.keys(fromZeroSteps(Template.fromStack(stack)))).toHaveLength(1);
  });

  test('with a floor that stays above 0, no step is added; with minCapacity 0 and a scheduled 0, only one', () => {
    const { stack } = newStack();
    const scaling = newEndpoint(stack, { asyncInference: {} }).autoScale({ minCapacity: 1, maxCapacity: 4 });
    scaling.scaleOnBacklog('Backlog');
    scaling.scaleForBusinessHours('Office', { minCapacity: 2 });
    expect(Object.keys(fromZeroSteps(Template.fromStack(stack)))).toHaveLength(0);
    const { stack: other } = newStack();
    const zero = newEndpoint(other, { asyncInference: {} }).autoScale({ minCapacity: 0, maxCapacity: 4 });
    zero.scaleOnBacklog('Backlog');
    zero.scaleForBusinessHours('Office', { minCapacity: 2, offHoursMinCapacity: 0 });
    expect(Object.keys(fromZeroSteps(Template.fromStack(other)))).toHaveLength(1);
  });
});

describe('autoscaling rules', () => {
  const endpointWith = (overrides: Parameters<typeof newEndpoint>[1] = {}) => newEndpoint(newStack().stack, overrides);

  test('minCapacity above maxCapacity fails', () => {
    expect(() => endpointWith().autoScale({ minCapacity: 5, maxCapacity: 2 })).toThrow(/'minCapacity' \(5\) must be <= 'maxCapacity' \(2\): lower minCapacity or raise maxCapacity/);
  });
  test('maxCapacity 0 fails', () => {
    expect(() => endpointWith().autoScale({ minCapacity: 0, maxCapacity: 0 })).toThrow(/'maxCapacity' \(0\) must be a whole number >= 1/);
  });
  test('a negative minCapacity fails', () => {
    expect(() => endpointWith().autoScale({ minCapacity: -1, maxCapacity: 2 })).toThrow(/'minCapacity' \(-1\) must be a whole number >= 0/);
  });
  test('minCapacity 0 on a real-time endpoint fails', () => {
    expect(() => endpointWith().autoScale({ minCapacity: 0, maxCapacity: 2 })).toThrow(/'minCapacity' \(0\) must be >= 1 for a real-time endpoint/);
  });
  test('a serverless variant cannot be autoscaled', () => {
    expect(() => endpointWith({ variants: [EndpointVariant.serverless()] }).autoScale({ maxCapacity: 2 })).toThrow(/'autoScale' \("AllTraffic"\) cannot scale instances of a serverless variant/);
  });
  test('a burstable variant cannot be autoscaled', () => {
    expect(() => endpointWith({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_T2_MEDIUM })] }).autoScale({ maxCapacity: 2 }))
      .toThrow(/'instanceType' \("ml\.t2\.medium"\) cannot be autoscaled/);
  });
  test('maxCapacity below the initial instance count fails', () => {
    expect(() => endpointWith({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE, initialInstanceCount: 3 })] }).autoScale({ maxCapacity: 2 }))
      .toThrow(/'maxCapacity' \(2\) must be >= the variant's initialInstanceCount \(3\)/);
    expect(() => endpointWith({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE, initialInstanceCount: 3 })] }).autoScale({ minCapacity: 3, maxCapacity: 3 }))
      .not.toThrow();
  });
  test('an instance-count canary above half of minCapacity fails: an update keeps the scaled-in count, and SageMaker checks the canary against it', () => {
    const two = [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE, initialInstanceCount: 2 })];
    const canary = RolloutStrategy.canary({ canarySize: TrafficSize.instances(1) });
    expect(() => endpointWith({ variants: two, rollout: canary }).autoScale({ minCapacity: 1, maxCapacity: 4 }))
      .toThrow(/'rollout\.canarySize' \("1 instances"\) must be <= 50% of 'minCapacity' \(1\)/);
    expect(() => endpointWith({ variants: two, rollout: canary }).autoScale({ minCapacity: 2, maxCapacity: 4 })).not.toThrow();
  });
  test('an instance-count linear step below a tenth of maxCapacity fails', () => {
    const two = [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE, initialInstanceCount: 2 })];
    const linear = RolloutStrategy.linear({ stepSize: TrafficSize.instances(1) });
    expect(() => endpointWith({ variants: two, rollout: linear }).autoScale({ minCapacity: 2, maxCapacity: 20 }))
      .toThrow(/'rollout\.stepSize' \("1 instances"\) must be >= 10% of 'maxCapacity' \(20\)/);
    expect(() => endpointWith({ variants: two, rollout: linear }).autoScale({ minCapacity: 2, maxCapacity: 10 })).not.toThrow();
  });
  test('a linear rollout\'s timeout is checked against the steps at the autoscaled instance count, which an update keeps', () => {
    const synth = (endpoint: ModelEndpoint) => () => Template.fromStack(Stack.of(endpoint));
    const ten = [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE, initialInstanceCount: 10 })];
    const linear = RolloutStrategy.linear({ stepSize: TrafficSize.instances(1), bakeTime: Duration.minutes(10), maximumExecutionTimeout: Duration.minutes(30) });
    // Ten instances one at a time: nine waits of 10 minutes, which 30 minutes cannot hold.
    expect(synth(endpointWith({ variants: ten, rollout: linear }))).toThrow(/\(9 x 600 \+ 0 = 5400 seconds\)/);
    // Autoscaled from 2: an update may find two instances (two steps, one wait), so the timeout can hold.
    const scaledFromTwo = endpointWith({ variants: ten, rollout: linear });
    scaledFromTwo.autoScale({ minCapacity: 2, maxCapacity: 10 });
    expect(synth(scaledFromTwo)).not.toThrow();
    // Never fewer than 4 instances: at least three waits of 10 minutes.
    const scaledFromFour = endpointWith({ variants: ten, rollout: linear });
    scaledFromFour.autoScale({ minCapacity: 4, maxCapacity: 10 });
    expect(synth(scaledFromFour)).toThrow(/'rollout\.maximumExecutionTimeout' \(1800 seconds\) must be longer than the waits of the linear rollout: bakeTime between each two of its 4 steps, plus terminationWait \(3 x 600 \+ 0 = 1800 seconds\)/);
  });
  test('an unknown variant name fails, listing the variants', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 2, variantName: 'blue' })).toThrow(/'variantName' \("blue"\) must name a variant of this endpoint \(AllTraffic\)/);
  });
  test('scaling one variant twice fails', () => {
    const endpoint = endpointWith();
    endpoint.autoScale({ maxCapacity: 2 });
    expect(() => endpoint.autoScale({ maxCapacity: 3 })).toThrow(/'autoScale' \("AllTraffic"\) is already autoscaled/);
  });
  test('GPU scaling on a CPU variant fails', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 2 }).scaleOnGpuUtilization('Gpu', { targetUtilizationPercent: 70 })).toThrow(/'scaleOnGpuUtilization' \("Gpu"\) needs an accelerator instance type/);
  });
  test('GPU scaling on an Inferentia or Trainium variant fails: SageMaker publishes GPUUtilization for NVIDIA GPUs only', () => {
    for (const type of [GpuInstanceType.INF2_XLARGE, GpuInstanceType.TRN1_2XLARGE]) {
      const endpoint = endpointWith({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(type) })] });
      expect(() => endpoint.autoScale({ maxCapacity: 2 }).scaleOnGpuUtilization('Gpu', { targetUtilizationPercent: 70 }))
        .toThrow(new RegExp(`'scaleOnGpuUtilization' \\("Gpu"\\) needs an NVIDIA GPU instance type: ml\\.${type.name.replace('.', '\\.')} has AWS Neuron accelerators.*GPUUtilization.*no data.*scaleOnInvocations`));
    }
  });
  test('an inf2 endpoint scaled on invocations has no alarm or policy on GPU metrics', () => {
    const endpoint = endpointWith({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.INF2_XLARGE), initialInstanceCount: 2 })] });
    const scaling = endpoint.autoScale({ minCapacity: 2, maxCapacity: 4 });
    scaling.scaleOnInvocations('Rps', { maxRequestsPerSecond: 20 });
    expect(() => scaling.scaleOnGpuUtilization('Gpu', { targetUtilizationPercent: 70 })).toThrow(/needs an NVIDIA GPU instance type/);
    const json = JSON.stringify(Template.fromStack(Stack.of(endpoint)).toJSON());
    expect(json).not.toMatch(/GPUUtilization|GPUMemoryUtilization/);
    Template.fromStack(Stack.of(endpoint)).resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 1);
  });
  test('a GPU target above 100% fails', () => {
    const endpoint = endpointWith({ variants: [EndpointVariant.instance({ instanceType: G6_12XL })] });
    expect(() => endpoint.autoScale({ maxCapacity: 2 }).scaleOnGpuUtilization('Gpu', { targetUtilizationPercent: 120 })).toThrow(/'targetUtilizationPercent' \(120\) must be from 1 to 100/);
  });
  test('a GPU target of 0% fails', () => {
    const endpoint = endpointWith({ variants: [EndpointVariant.instance({ instanceType: G6_12XL })] });
    expect(() => endpoint.autoScale({ maxCapacity: 2 }).scaleOnGpuUtilization('Gpu', { targetUtilizationPercent: 0 })).toThrow(/'targetUtilizationPercent' \(0\) must be from 1 to 100/);
  });
  test('invocation scaling with both a target and a request rate fails', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 2 }).scaleOnInvocations('R', { targetInvocationsPerInstance: 100, maxRequestsPerSecond: 5 })).toThrow(/'targetInvocationsPerInstance' \(100\) must be given alone/);
  });
  test('invocation scaling with neither a target nor a request rate fails', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 2 }).scaleOnInvocations('R', {})).toThrow(/exactly one of the two is allowed/);
  });
  test('a target of 0 invocations per instance fails', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 2 }).scaleOnInvocations('R', { targetInvocationsPerInstance: 0 })).toThrow(/'targetInvocationsPerInstance' \(0\) must be > 0/);
  });
  test('a safety factor above 1 fails', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 2 }).scaleOnInvocations('R', { maxRequestsPerSecond: 5, safetyFactor: 2 })).toThrow(/'safetyFactor' \(2\) must be above 0 and at most 1/);
  });
  test('invocation scaling on an asynchronous endpoint fails', () => {
    expect(() => endpointWith({ asyncInference: {} }).autoScale({ maxCapacity: 2 }).scaleOnInvocations('R', { maxRequestsPerSecond: 5 })).toThrow(/'scaleOnInvocations' \("R"\) is not available on asynchronous endpoints/);
  });
  test('backlog scaling on a real-time endpoint fails', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 2 }).scaleOnBacklog('B')).toThrow(/'scaleOnBacklog' \("B"\) needs an asynchronous endpoint/);
  });
  test('business hours ending before they start fail', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 4 }).scaleForBusinessHours('O', { minCapacity: 2, startHour: 18, endHour: 8 })).toThrow(/'startHour' \(18\) must be < 'endHour' \(8\)/);
  });
  test('business hours ending when they start fail', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 4 }).scaleForBusinessHours('O', { minCapacity: 2, startHour: 9, endHour: 9 })).toThrow(/'startHour' \(9\) must be < 'endHour' \(9\)/);
  });
  test('an hour outside 0-23 fails', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 4 }).scaleForBusinessHours('O', { minCapacity: 2, endHour: 24 })).toThrow(/'endHour' \(24\) must be a whole hour from 0 to 23/);
  });
  test('a business-hours floor above maxCapacity fails', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 4 }).scaleForBusinessHours('O', { minCapacity: 6 })).toThrow(/'minCapacity' \(6\) must be <= 'maxCapacity' \(4\)/);
  });
  test('an off-hours floor of 0 on a real-time endpoint fails: only asynchronous endpoints scale instance variants to zero', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 4 }).scaleForBusinessHours('O', { minCapacity: 2, offHoursMinCapacity: 0 }))
      .toThrow(/'offHoursMinCapacity' \(0\) must be a whole number >= 1 for a real-time endpoint/);
  });
  test('an off-hours floor of 0 on an asynchronous endpoint is allowed', () => {
    const { stack } = newStack();
    newEndpoint(stack, { asyncInference: {} }).autoScale({ minCapacity: 0, maxCapacity: 4 }).scaleForBusinessHours('O', { minCapacity: 2, offHoursMinCapacity: 0 });
    Template.fromStack(stack).hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScheduledActions: Match.arrayWith([Match.objectLike({ ScheduledActionName: 'OEnd', ScalableTargetAction: { MinCapacity: 0 } })]),
    });
  });
  test('an off-hours floor above maxCapacity fails', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 4 }).scaleForBusinessHours('O', { minCapacity: 2, offHoursMinCapacity: 5 }))
      .toThrow(/'offHoursMinCapacity' \(5\) must be <= 'maxCapacity' \(4\)/);
  });
  test('a business-hours floor that is not a whole number of instances fails', () => {
    expect(() => endpointWith().autoScale({ maxCapacity: 4 }).scaleForBusinessHours('O', { minCapacity: 2.5 }))
      .toThrow(/'minCapacity' \(2\.5\) must be a whole number >= 1/);
  });
  test('a scheduled minCapacity or maxCapacity of 0 on a real-time endpoint fails', () => {
    const schedule = appscaling.Schedule.cron({ hour: '22', minute: '0' });
    expect(() => endpointWith().autoScale({ maxCapacity: 4 }).scaleOnSchedule('Night', { schedule, minCapacity: 0 }))
      .toThrow(/'minCapacity' \(0\) must be a whole number >= 1 for a real-time endpoint/);
    expect(() => endpointWith().autoScale({ maxCapacity: 4 }).scaleOnSchedule('Night', { schedule, minCapacity: 0, maxCapacity: 0 }))
      .toThrow(/must be a whole number >= 1 for a real-time endpoint/);
  });
  test('a scheduled action with minCapacity above its maxCapacity fails', () => {
    const schedule = appscaling.Schedule.cron({ hour: '22', minute: '0' });
    expect(() => endpointWith().autoScale({ maxCapacity: 4 }).scaleOnSchedule('Night', { schedule, minCapacity: 3, maxCapacity: 2 }))
      .toThrow(/'minCapacity' \(3\) must be <= 'maxCapacity' \(2\) of the same scheduled action/);
  });
  test('a scheduled action scaling an asynchronous endpoint to zero is allowed', () => {
    const { stack } = newStack();
    newEndpoint(stack, { asyncInference: {} }).autoScale({ minCapacity: 0, maxCapacity: 4 })
      .scaleOnSchedule('Night', { schedule: appscaling.Schedule.cron({ hour: '22', minute: '0' }), minCapacity: 0, maxCapacity: 0 });
    Template.fromStack(stack).hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScheduledActions: [Match.objectLike({ ScalableTargetAction: { MinCapacity: 0, MaxCapacity: 0 } })],
    });
  });
  test('a custom metric target of 0 fails', () => {
    const metric = new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' });
    expect(() => endpointWith().autoScale({ maxCapacity: 2 }).scaleOnCustomMetric('C', { metric, targetValue: 0 })).toThrow(/'targetValue' \(0\) must be > 0/);
  });
  test('backlog scaling holds 5 requests per instance by default, and passes its cooldowns and disableScaleIn on', () => {
    const { stack } = newStack();
    newEndpoint(stack, { asyncInference: {} }).autoScale({ minCapacity: 0, maxCapacity: 2 })
      .scaleOnBacklog('Backlog', { disableScaleIn: true, scaleOutCooldown: Duration.minutes(2) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 5, DisableScaleIn: true, ScaleOutCooldown: 120, ScaleInCooldown: 300 }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling', StepScalingPolicyConfiguration: Match.objectLike({ Cooldown: 120 }),
    });
  });
  test('scaleOnSchedule passes any schedule through', () => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack);
    endpoint.autoScale({ maxCapacity: 3 }).scaleOnSchedule('Night', { schedule: appscaling.Schedule.cron({ hour: '22', minute: '0' }), maxCapacity: 1 });
    Template.fromStack(stack as Stack).hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScheduledActions: [{ ScheduledActionName: 'Night', Schedule: 'cron(0 22 * * ? *)', ScalableTargetAction: { MaxCapacity: 1 } }],
    });
  });
});

describe('autoscaling targets given as tokens (CloudFormation parameters)', () => {
  test('a GPU target from a parameter on a one-GPU instance is passed as the parameter', () => {
    const { stack } = newStack();
    const pct = new CfnParameter(stack, 'GpuTarget', { type: 'Number' }).valueAsNumber;
    const endpoint = newEndpoint(stack, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE) })] });
    endpoint.autoScale({ maxCapacity: 2 }).scaleOnGpuUtilization('Gpu', { targetUtilizationPercent: pct });
    Template.fromStack(stack).hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: { Ref: 'GpuTarget' } }),
    });
  });
  test('a GPU target from a parameter on a four-GPU instance fails, since it cannot be multiplied by the GPU count at synthesis', () => {
    const { stack } = newStack();
    const pct = new CfnParameter(stack, 'GpuTarget', { type: 'Number' }).valueAsNumber;
    const endpoint = newEndpoint(stack, { variants: [EndpointVariant.instance({ instanceType: G6_12XL })] });
    expect(() => endpoint.autoScale({ maxCapacity: 2 }).scaleOnGpuUtilization('Gpu', { targetUtilizationPercent: pct }))
      .toThrow(/'targetUtilizationPercent' \(.*\) cannot be a token on an instance with 4 GPUs/);
  });
  test('a target of invocations per instance from a parameter is passed as the parameter', () => {
    const { stack } = newStack();
    const target = new CfnParameter(stack, 'Target', { type: 'Number' }).valueAsNumber;
    newEndpoint(stack).autoScale({ maxCapacity: 2 }).scaleOnInvocations('R', { targetInvocationsPerInstance: target });
    Template.fromStack(stack).hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: { Ref: 'Target' } }),
    });
  });
  test('a request rate from a parameter fails naming maxRequestsPerSecond and pointing to targetInvocationsPerInstance', () => {
    const { stack } = newStack();
    const rps = new CfnParameter(stack, 'Rps', { type: 'Number' }).valueAsNumber;
    expect(() => newEndpoint(stack).autoScale({ maxCapacity: 2 }).scaleOnInvocations('R', { maxRequestsPerSecond: rps }))
      .toThrow(/'maxRequestsPerSecond' \(.*\) cannot be a token.*pass targetInvocationsPerInstance/);
  });
  test('a safety factor from a parameter fails naming safetyFactor', () => {
    const { stack } = newStack();
    const factor = new CfnParameter(stack, 'Factor', { type: 'Number' }).valueAsNumber;
    expect(() => newEndpoint(stack).autoScale({ maxCapacity: 2 }).scaleOnInvocations('R', { maxRequestsPerSecond: 10, safetyFactor: factor }))
      .toThrow(/'safetyFactor' \(.*\) cannot be a token/);
  });
  test('backlog scaling with a minCapacity from a parameter adds the scale-from-zero step, since the parameter may be 0', () => {
    const { stack } = newStack();
    const min = new CfnParameter(stack, 'Min', { type: 'Number' }).valueAsNumber;
    newEndpoint(stack, { asyncInference: {} }).autoScale({ minCapacity: min, maxCapacity: 4 }).scaleOnBacklog('Backlog');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: { Ref: 'Min' } });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { PolicyType: 'StepScaling' });
  });
  test('business hours from a parameter fail naming the prop: the hour is written into a cron expression at synthesis', () => {
    const { stack } = newStack();
    const start = new CfnParameter(stack, 'Start', { type: 'Number' }).valueAsNumber;
    expect(() => newEndpoint(stack).autoScale({ maxCapacity: 4 }).scaleForBusinessHours('O', { minCapacity: 2, startHour: start }))
      .toThrow(/'startHour' \(.*\) cannot be a token: it is written into the schedule's cron expression/);
  });
});
