import { App, CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { AiPlatformStack } from '../../lib/ai-platform-stack';
import { TEST_CONTEXT } from '../helpers';

describe('AiPlatformStack (the reference platform)', () => {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new AiPlatformStack(app, 'Platform');
  // Synthesizing runs aws-cdk's CloudFormation validation: a finding would throw here.
  const template = Template.fromStack(stack);

  test('has a system node group, an on-demand inference group and a spot training group that scales from zero', () => {
    template.resourceCountIs('AWS::EKS::Nodegroup', 3);
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      NodegroupName: 'inference',
      CapacityType: 'ON_DEMAND',
      InstanceTypes: ['g5.xlarge'],
      ScalingConfig: { MinSize: 1, DesiredSize: 1, MaxSize: 4 },
      AmiType: 'AL2023_x86_64_NVIDIA',
    });
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      NodegroupName: 'training',
      CapacityType: 'SPOT',
      InstanceTypes: ['g5.2xlarge', 'g5.4xlarge', 'g5.8xlarge', 'g5.16xlarge'],
      ScalingConfig: { MinSize: 0, DesiredSize: 0, MaxSize: 8 },
      Labels: Match.objectLike({ 'ai-platform.dev/capacity-type': 'spot', 'ai-platform.dev/node-group': 'training' }),
    });
  });

  test('the system node group runs Amazon Linux 2023 (EKS has no AL2 AMIs for Kubernetes 1.33 and later)', () => {
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      InstanceTypes: ['m7i.large'],
      AmiType: 'AL2023_x86_64_STANDARD',
      ScalingConfig: { MinSize: 2, DesiredSize: 2, MaxSize: 2 },
    });
    // Same logical id as before, so the group is updated in place rather than added beside the old one.
    expect(stack.getLogicalId(stack.systemNodes.node.defaultChild as CfnElement)).toBe('ClusterNodegroupDefaultCapacityDA0920A3');
    for (const [, group] of Object.entries(template.findResources('AWS::EKS::Nodegroup'))) {
      expect(String(group.Properties.AmiType)).not.toMatch(/^AL2_/);
    }
  });

  test('installs the NVIDIA device plugin exactly once', () => {
    template.resourceCountIs('Custom::AWSCDK-EKS-HelmChart', 1);
  });

  test('tags only the training group for scale-from-zero', () => {
    template.resourceCountIs('Custom::AWS', 2);
  });

  test('the cluster runs Kubernetes 1.34 in private subnets', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.34' });
  });

  test('the VPC spans two zones with one NAT gateway (the cost default)', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 4);
  });

  test('synthesizes without warnings or errors', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });
});

describe('AiPlatformStack options', () => {
  test('instance types, sizes and a kubectl layer can be chosen', () => {
    const app = new App({ context: TEST_CONTEXT });
    const stack = new AiPlatformStack(app, 'Custom', {
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(new App(), 'L', 'arn:aws:lambda:us-east-1:123456789012:layer:kubectl:3'),
      inferenceInstanceTypes: [GpuInstanceType.G6_XLARGE],
      inferenceScaling: { minSize: 2, maxSize: 6 },
      trainingMaxSize: 3,
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EKS::Nodegroup', { NodegroupName: 'inference', InstanceTypes: ['g6.xlarge'], ScalingConfig: { MinSize: 2, MaxSize: 6, DesiredSize: 2 } });
    t.hasResourceProperties('AWS::EKS::Nodegroup', { NodegroupName: 'training', ScalingConfig: Match.objectLike({ MaxSize: 3 }) });
    t.resourceCountIs('AWS::Lambda::LayerVersion', 1); // only the aws-cdk provider's own layer: no bundled kubectl layer
  });
});
