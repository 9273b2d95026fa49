import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ContainerImage } from '../../constructs/serving';
import { addReferenceEndpoint } from '../../lib/reference-endpoint';
import { newStack } from '../helpers';
import { FIXTURE_IMAGE_DIR } from './util';

describe('the reference platform endpoint', () => {
  const { stack } = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const endpoint = addReferenceEndpoint(stack, { image: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR }), vpc });
  const template = Template.fromStack(stack);

  test('serves the example fraud model on two CPU instances in the VPC', () => {
    expect(endpoint.node.id).toBe('ModelEndpoint');
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InstanceType: 'ml.c6i.large', InitialInstanceCount: 2 })],
      DataCaptureConfig: Match.objectLike({ InitialSamplingPercentage: 10 }),
    });
    template.hasResourceProperties('AWS::SageMaker::Model', {
      EnableNetworkIsolation: true,
      PrimaryContainer: Match.objectLike({ Environment: { MAX_BATCH_SIZE: '32', MAX_QUEUE_DELAY_MS: '2' } }),
      VpcConfig: Match.objectLike({ Subnets: Match.arrayWith([{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet1') }]) }),
    });
  });

  test('autoscales 2-6 on requests and rolls out with a one-instance canary', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 6 });
    // 200 requests per second per instance, at the default safety factor 0.5: 6000 a minute.
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 6000, PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      }),
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: Match.objectLike({
        BlueGreenUpdatePolicy: Match.objectLike({ TrafficRoutingConfiguration: Match.objectLike({ Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 } }) }),
      }),
    });
  });

  test('a missing model directory fails, naming the fix', () => {
    const { stack: other } = newStack();
    expect(() => addReferenceEndpoint(other, { image: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR }), modelDirectory: '/nonexistent' }))
      .toThrow(/'modelData' \("\/nonexistent"\) must be an existing directory/);
  });
});
