// Day-2 updates: each test synthesizes the same endpoint twice with one prop changed and compares the
// templates. CloudFormation updates an AWS::SageMaker::Endpoint in place when EndpointConfigName,
// DeploymentConfig or the retained variant properties change (SageMaker's blue/green update with the
// rollout and its rollback alarms), and replaces it only when EndpointName changes. Every property of
// AWS::SageMaker::EndpointConfig and AWS::SageMaker::Model except Tags requires replacement, so neither
// may carry a fixed name. ScalableTarget ResourceId, LogGroupName and AlarmName also require replacement.
import { Duration, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import {
  EndpointInstanceType, EndpointVariant, ModelEndpoint, ModelEndpointProps, RolloutStrategy, TrafficSize,
} from '../../constructs/serving';
import { newStack } from '../helpers';
import { newEndpoint } from './util';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

function synth(props: Partial<ModelEndpointProps>, scale?: (e: ModelEndpoint) => void): { stack: Stack; endpoint: ModelEndpoint; resources: Resources; template: Template } {
  const { stack } = newStack();
  const endpoint = newEndpoint(stack, props);
  scale?.(endpoint);
  const template = Template.fromStack(stack);
  return { stack, endpoint, template, resources: template.toJSON().Resources as Resources };
}

function ofType(resources: Resources, type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(resources).filter(([, r]) => r.Type === type).map(([id, r]) => [id, r.Properties ?? {}]);
}

const autoscaled = (e: ModelEndpoint) => e.autoScale({ minCapacity: 2, maxCapacity: 6 }).scaleOnInvocations('Rps', { maxRequestsPerSecond: 50 });
const base: Partial<ModelEndpointProps> = {
  variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE, initialInstanceCount: 2 })],
  dataCapture: { samplingPercentage: 10 },
  rollout: RolloutStrategy.canary({ canarySize: TrafficSize.instances(1) }),
};

describe('ModelEndpoint: changing a prop of a deployed endpoint', () => {
  const changes: Array<[string, Partial<ModelEndpointProps>]> = [
    ['a new instance count', { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE, initialInstanceCount: 3 })] }],
    ['a new environment', { environment: { MAX_BATCH_SIZE: '16' } }],
    ['a new sampling percentage', { dataCapture: { samplingPercentage: 50 } }],
    ['another rollout', { rollout: RolloutStrategy.linear({ stepSize: TrafficSize.percent(50) }) }],
    ['other alarm thresholds', { alarms: { errorRateThreshold: 0.05, modelLatencyThreshold: Duration.seconds(2) } }],
    ['another log retention', { logRetention: logs.RetentionDays.THREE_MONTHS }],
    ['a startup health-check timeout', { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE, initialInstanceCount: 2, containerStartupHealthCheckTimeout: Duration.minutes(20) })] }],
  ];
  const before = synth(base, autoscaled);

  test.each(changes)('%s updates the same endpoint, under the same name, through a new endpoint configuration', (_name, change) => {
    const after = synth({ ...base, ...change }, autoscaled);
    const [[beforeId, beforeEndpoint]] = ofType(before.resources, 'AWS::SageMaker::Endpoint');
    const [[afterId, afterEndpoint]] = ofType(after.resources, 'AWS::SageMaker::Endpoint');
    expect(afterId).toBe(beforeId);
    expect(afterEndpoint.EndpointName).toEqual(beforeEndpoint.EndpointName);
    // The endpoint follows whatever configuration CloudFormation creates, by its generated name.
    const [[configId]] = ofType(after.resources, 'AWS::SageMaker::EndpointConfig');
    expect(afterEndpoint.EndpointConfigName).toEqual({ 'Fn::GetAtt': [configId, 'EndpointConfigName'] });
    // The scalable target, the log group and the key, bucket and role keep their ids and names.
    for (const type of ['AWS::ApplicationAutoScaling::ScalableTarget', 'AWS::Logs::LogGroup', 'AWS::KMS::Key', 'AWS::S3::Bucket', 'AWS::IAM::Role']) {
      expect(ofType(after.resources, type).map(([id]) => id)).toEqual(ofType(before.resources, type).map(([id]) => id));
    }
    expect(ofType(after.resources, 'AWS::ApplicationAutoScaling::ScalableTarget')[0][1].ResourceId)
      .toEqual(ofType(before.resources, 'AWS::ApplicationAutoScaling::ScalableTarget')[0][1].ResourceId);
    expect(ofType(after.resources, 'AWS::Logs::LogGroup')[0][1].LogGroupName).toEqual(ofType(before.resources, 'AWS::Logs::LogGroup')[0][1].LogGroupName);
  });

  test('the model and the endpoint configuration carry no fixed names, so any change creates new ones beside the running ones', () => {
    for (const [, props] of ofType(before.resources, 'AWS::SageMaker::Model')) expect(props.ModelName).toBeUndefined();
    for (const [, props] of ofType(before.resources, 'AWS::SageMaker::EndpointConfig')) expect(props.EndpointConfigName).toBeUndefined();
  });

  test('the alarms and the role carry no fixed names, so replacing them never collides', () => {
    for (const [, props] of ofType(before.resources, 'AWS::CloudWatch::Alarm')) expect(props.AlarmName).toBeUndefined();
    for (const [, props] of ofType(before.resources, 'AWS::IAM::Role')) expect(props.RoleName).toBeUndefined();
  });

  test('turning autoscaling on later keeps the endpoint, its configuration and its alarms', () => {
    const plain = synth(base);
    const ids = (r: Resources, type: string) => ofType(r, type).map(([id]) => id);
    for (const type of ['AWS::SageMaker::Endpoint', 'AWS::SageMaker::EndpointConfig', 'AWS::SageMaker::Model', 'AWS::CloudWatch::Alarm']) {
      expect(ids(before.resources, type)).toEqual(ids(plain.resources, type));
    }
    expect(ofType(before.resources, 'AWS::SageMaker::EndpointConfig')[0][1]).toEqual(ofType(plain.resources, 'AWS::SageMaker::EndpointConfig')[0][1]);
  });

  test('a new endpointName replaces the endpoint, its scalable target and its log group (documented)', () => {
    const renamed = synth({ ...base, endpointName: 'fraud-v2' }, autoscaled);
    const [, endpoint] = ofType(renamed.resources, 'AWS::SageMaker::Endpoint')[0];
    expect(endpoint.EndpointName).toBe('fraud-v2');
    expect(ofType(renamed.resources, 'AWS::ApplicationAutoScaling::ScalableTarget')[0][1].ResourceId).toBe('endpoint/fraud-v2/variant/AllTraffic');
    expect(ofType(renamed.resources, 'AWS::Logs::LogGroup')[0][1].LogGroupName).toBe('/aws/sagemaker/Endpoints/fraud-v2');
  });
});

describe('ModelEndpoint: variant names across updates', () => {
  const G5 = EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE);
  const variantNames = (r: Resources) => (ofType(r, 'AWS::SageMaker::EndpointConfig')[0][1].ProductionVariants as Array<{ VariantName: string; InstanceType: string }>)
    .map((v) => `${v.VariantName}=${v.InstanceType}`);

  test('a variant without a name is named after its position, so adding a variant before it renames it', () => {
    const two = synth({ variants: [EndpointVariant.instance({ instanceType: G5 }), EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE })] });
    const three = synth({ variants: [
      EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE }),
      EndpointVariant.instance({ instanceType: G5 }),
      EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE }),
    ] });
    expect(variantNames(two.resources)).toEqual(['AllTraffic=ml.g5.xlarge', 'Variant2=ml.c6i.large']);
    expect(variantNames(three.resources)).toEqual(['AllTraffic=ml.m5.large', 'Variant2=ml.g5.xlarge', 'Variant3=ml.c6i.large']);
  });

  test('with several variants and one without a variantName, synthesis warns that its name follows its position', () => {
    const { stack } = synth({ variants: [
      EndpointVariant.instance({ instanceType: G5, variantName: 'gpu' }),
      EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE }),
    ] });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('variantNameFromPosition'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toMatch(/'variants\[1\]\.variantName' is not set, so the variant is named 'Variant2' after its position/);
  });

  test('with one variant, or every variant named, synthesis does not warn about variant names', () => {
    for (const variants of [
      [EndpointVariant.instance({ instanceType: G5 })],
      [EndpointVariant.serverless({ memorySize: Size.gibibytes(2) })],
      [EndpointVariant.instance({ instanceType: G5, variantName: 'gpu' }), EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE, variantName: 'cpu' })],
    ]) {
      const { stack } = synth({ variants });
      expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('variantNameFromPosition'))).toEqual([]);
    }
  });
});

describe('ModelEndpoint: the key and bucket after data capture is removed', () => {
  const G5 = EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE);
  const stateful = (r: Resources) => Object.entries(r as Record<string, { Type: string; DeletionPolicy?: string }>)
    .filter(([, res]) => res.Type === 'AWS::KMS::Key' || res.Type === 'AWS::S3::Bucket')
    .map(([id, res]) => `${res.Type}:${id}:${res.DeletionPolicy}`);

  test('removing dataCapture, or moving to local-NVMe types that refuse a KmsKeyId, drops the retained key and bucket from the stack, leaving them in the account', () => {
    const capturing = synth({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE })], dataCapture: {} });
    expect(stateful(capturing.resources)).toEqual([
      expect.stringMatching(/^AWS::KMS::Key:EndpointKey[0-9A-F]{8}:Retain$/),
      expect.stringMatching(/^AWS::S3::Bucket:EndpointBucket[0-9A-F]{8}:Retain$/),
    ]);
    // Without capture, the CPU type still encrypts its storage volume with the key; the bucket leaves the stack.
    const cpu = synth({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE })] });
    expect(stateful(cpu.resources)).toEqual([expect.stringMatching(/^AWS::KMS::Key:EndpointKey[0-9A-F]{8}:Retain$/)]);
    // On ml.g5 (local NVMe storage, no KmsKeyId) nothing needs the key: both leave the stack.
    const gpu = synth({ variants: [EndpointVariant.instance({ instanceType: G5 })] });
    expect(stateful(gpu.resources)).toEqual([]);
  });
});
