// Day-2 updates: each test synthesizes the same app twice with one prop changed and compares the templates.
// CloudFormation replaces an AWS::EKS::Nodegroup when AmiType, CapacityType, ClusterName, DiskSize,
// InstanceTypes, NodegroupName, NodeRole, RemoteAccess or Subnets change; Labels, Taints, ScalingConfig,
// LaunchTemplate (same template, new version), Tags and UpdateConfig update in place. A replaced resource
// that carries a fixed name fails the update ("CloudFormation cannot update a stack when a custom-named
// resource requires replacing").
import { App, CfnElement, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import { Capacity } from '../../constructs/compute/capacity';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { GpuNodeGroup, GpuNodeGroupProps } from '../../constructs/compute/gpu-node-group';
import { ContainerImage } from '../../constructs/serving';
import { AiPlatformStack, AiPlatformStackProps } from '../../lib/ai-platform-stack';
import { newStack, TEST_CONTEXT } from '../helpers';
import { FIXTURE_IMAGE_DIR } from '../serving/util';

/** Properties CloudFormation can only change by replacing the node group. */
const NODEGROUP_REPLACEMENT = ['AmiType', 'CapacityType', 'ClusterName', 'DiskSize', 'InstanceTypes', 'NodegroupName', 'NodeRole', 'RemoteAccess', 'Subnets'];

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

function resourcesOf(template: Template): Resources {
  return template.toJSON().Resources as Resources;
}

/** The replacement properties of `type` whose values differ between the two templates, per logical id. */
function replacedBy(before: Resources, after: Resources, type: string, props: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, r] of Object.entries(before)) {
    if (r.Type !== type || !after[id]) continue;
    const changed = props.filter((p) => JSON.stringify(r.Properties?.[p]) !== JSON.stringify(after[id].Properties?.[p]));
    if (changed.length > 0) out[id] = changed;
  }
  return out;
}

function groupTemplate(props: Partial<GpuNodeGroupProps>): { template: Template; group: GpuNodeGroup; stack: Stack } {
  const { stack } = newStack();
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'prod',
    vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
    }),
  });
  const group = new GpuNodeGroup(stack, 'Gpus', { cluster, ...props });
  return { template: Template.fromStack(stack), group, stack };
}

describe('GpuNodeGroup: changing a prop of a deployed group', () => {
  test('changing the instance types, capacity or disk keeps the logical ids of the group, its role and its launch template', () => {
    const base = groupTemplate({});
    for (const change of [
      { instanceTypes: [GpuInstanceType.G5_XLARGE] },
      { capacity: Capacity.spot({ diversify: true }) },
      { diskSize: Size.gibibytes(400) },
      { maxSize: 6 },
    ]) {
      const next = groupTemplate(change);
      expect(Object.keys(resourcesOf(next.template)).sort()).toEqual(Object.keys(resourcesOf(base.template)).sort());
      expect(next.stack.getLogicalId(next.group.nodegroup)).toBe(base.stack.getLogicalId(base.group.nodegroup));
      expect(next.stack.getLogicalId(next.group.launchTemplate)).toBe(base.stack.getLogicalId(base.group.launchTemplate));
    }
  });

  test('a larger disk is a new launch template version, not a new node group', () => {
    const before = resourcesOf(groupTemplate({}).template);
    const after = resourcesOf(groupTemplate({ diskSize: Size.gibibytes(400) }).template);
    expect(replacedBy(before, after, 'AWS::EKS::Nodegroup', NODEGROUP_REPLACEMENT)).toEqual({});
  });

  test('without a nodegroupName, a change EKS cannot make in place replaces the group under a new generated name', () => {
    const before = resourcesOf(groupTemplate({}).template);
    const after = resourcesOf(groupTemplate({ instanceTypes: [GpuInstanceType.G5_XLARGE] }).template);
    const replaced = replacedBy(before, after, 'AWS::EKS::Nodegroup', NODEGROUP_REPLACEMENT);
    expect(Object.values(replaced)).toEqual([['InstanceTypes']]);
    const [id] = Object.keys(replaced);
    expect(after[id].Properties?.NodegroupName).toBeUndefined();
  });

  test('the scale-from-zero tags handler\'s permissions do not name the node group, so they still cover the old group after a replacement', () => {
    // A replaced group gets a new name and ARN. CloudFormation updates the handler's policy before it sends
    // the old group's Delete (after the update) and, on a rollback, an Update back to the old group: a
    // policy naming the group by its attributes would deny DescribeNodegroup and DeleteTags there.
    const { template, stack, group } = groupTemplate({ minSize: 0 });
    const nodegroupId = stack.getLogicalId(group.nodegroup);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(JSON.stringify(policy.Properties.PolicyDocument)).not.toContain(nodegroupId);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DescribeNodegroup', Action: 'eks:DescribeNodegroup',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':nodegroup/prod/*']] },
          }),
          Match.objectLike({
            Sid: 'NodeTemplateTags',
            Condition: {
              'StringEquals': { 'aws:ResourceTag/eks:cluster-name': 'prod' },
              'ForAllValues:StringLike': { 'aws:TagKeys': ['k8s.io/cluster-autoscaler/node-template/*'] },
            },
          }),
        ]),
      },
    });
  });

  test('the node-group label can be set apart from the EKS name, so a group can keep its label without a fixed name', () => {
    const { group, template } = groupTemplate({ groupLabel: 'inference' });
    expect(group.nodeLabels['ai-platform.dev/node-group']).toBe('inference');
    const [ng] = Object.values(template.findResources('AWS::EKS::Nodegroup'));
    expect(ng.Properties.NodegroupName).toBeUndefined();
    expect(ng.Properties.Labels['ai-platform.dev/node-group']).toBe('inference');
  });

  test('with a groupLabel that is not a valid label value, synthesis fails', () => {
    expect(() => groupTemplate({ groupLabel: 'Inference nodes' })).toThrow(/'groupLabel' \("Inference nodes"\) must be 1-63 characters/);
  });
});

describe('AiPlatformStack: changing a prop of a deployed platform', () => {
  function platform(props: AiPlatformStackProps = {}) {
    const app = new App({ context: TEST_CONTEXT });
    const stack = new AiPlatformStack(app, 'Platform', {
      modelEndpointImage: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR }),
      ...props,
    });
    return { stack, resources: resourcesOf(Template.fromStack(stack)) };
  }

  test('new inference or training instance types replace the GPU node groups, which therefore carry no fixed name', () => {
    const before = platform();
    const after = platform({
      inferenceInstanceTypes: [GpuInstanceType.G6_XLARGE],
      trainingInstanceTypes: [GpuInstanceType.G6_2XLARGE],
    });
    const replaced = replacedBy(before.resources, after.resources, 'AWS::EKS::Nodegroup', NODEGROUP_REPLACEMENT);
    const ids = [before.stack.inferenceNodes, before.stack.trainingNodes].map((g) => before.stack.getLogicalId(g.nodegroup as CfnElement));
    expect(Object.keys(replaced).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      // A replaced node group with a fixed name fails the update.
      expect(before.resources[id].Properties?.NodegroupName).toBeUndefined();
      expect(after.resources[id].Properties?.NodegroupName).toBeUndefined();
    }
  });

  test('the GPU node groups keep the node-group labels the platform chart selects them by', () => {
    const { stack } = platform();
    expect(stack.inferenceNodes.nodeLabels['ai-platform.dev/node-group']).toBe('inference');
    expect(stack.trainingNodes.nodeLabels['ai-platform.dev/node-group']).toBe('training');
  });

  test('a larger training group or other inference scaling updates the node groups in place', () => {
    const before = platform();
    const after = platform({ trainingMaxSize: 16, inferenceScaling: { minSize: 2, maxSize: 8 } });
    expect(replacedBy(before.resources, after.resources, 'AWS::EKS::Nodegroup', NODEGROUP_REPLACEMENT)).toEqual({});
  });
});
