import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GpuNodeGroupsStack } from '../../examples/gpu-node-groups/app';
import { TEST_CONTEXT } from '../helpers';

describe('example: GPU node groups on an existing cluster', () => {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new GpuNodeGroupsStack(app, 'Example', {
    env: { account: '123456789012', region: 'us-east-1' },
    clusterName: 'prod',
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
    privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'],
    kubectlRoleArn: 'arn:aws:iam::123456789012:role/eks-kubectl',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // With the cdk-nag plugin registered, synthesis throws on any unacknowledged AwsSolutions error.
  const template = Template.fromStack(stack);

  test('creates three node groups on the imported cluster and one plugin per vendor', () => {
    template.resourceCountIs('AWS::EKS::Nodegroup', 3);
    template.allResourcesProperties('AWS::EKS::Nodegroup', { ClusterName: 'prod' });
    template.resourceCountIs('Custom::AWSCDK-EKS-HelmChart', 2);
  });

  test('synthesizes without warnings', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

});
