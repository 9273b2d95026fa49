import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnParameter, Size, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { Capacity } from '../../constructs/compute/capacity';
import { AcceleratorOs, AcceleratorVendor, CpuArchitecture, GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { GpuNodeGroup, GpuNodeGroupProps } from '../../constructs/compute/gpu-node-group';
import { newStack } from '../helpers';

const HELM = 'Custom::AWSCDK-EKS-HelmChart';
const NODE_TEMPLATE_TAGS = 'Custom::NodeTemplateTags';
const KUBECTL_LAYER_ARN = 'arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1';

function importedVpc(scope: Construct): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
  });
}

/**
 * An existing cluster imported by name: without kubectl access, or with a kubectl role and (unless
 * `kubectlLayer` is false) a kubectl layer, which aws-eks needs to run kubectl and helm.
 */
function importedCluster(scope: Construct, kubectlRoleArn?: string, kubectlLayer = true): eks.ICluster {
  return eks.Cluster.fromClusterAttributes(scope, 'Cluster', {
    clusterName: 'prod', vpc: importedVpc(scope), kubectlRoleArn,
    kubectlLayer: kubectlRoleArn && kubectlLayer ? lambda.LayerVersion.fromLayerVersionArn(scope, 'Layer', KUBECTL_LAYER_ARN) : undefined,
  });
}

/** A cluster created in the stack with aws-eks-v2 and a kubectl provider. */
function v2Cluster(scope: Construct): eksv2.Cluster {
  return new eksv2.Cluster(scope, 'Cluster', {
    version: eksv2.KubernetesVersion.V1_34,
    defaultCapacity: 0,
    defaultCapacityType: eksv2.DefaultCapacityType.NODEGROUP,
    kubectlProviderOptions: { kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(scope, 'Layer', KUBECTL_LAYER_ARN) },
  });
}

function group(props: Partial<GpuNodeGroupProps> = {}) {
  const { stack } = newStack();
  const cluster = props.cluster ?? importedCluster(stack);
  const ng = new GpuNodeGroup(stack, 'Gpus', { ...props, cluster });
  return { stack, ng, template: () => Template.fromStack(stack) };
}

const graviton = GpuInstanceType.custom({
  name: 'g5g.xlarge', vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'T4G', acceleratorCount: 1,
  acceleratorMemoryGiB: 16, vcpus: 4, memoryGiB: 8, architecture: CpuArchitecture.ARM64,
});

describe('GpuNodeGroup on an imported cluster', () => {
  test('joins the cluster by name with the NVIDIA AL2023 AMI, labels, taint and scaling', () => {
    const { template } = group({ instanceTypes: [GpuInstanceType.G5_XLARGE], minSize: 1, maxSize: 3 });
    template().hasResourceProperties('AWS::EKS::Nodegroup', {
      ClusterName: 'prod',
      AmiType: 'AL2023_x86_64_NVIDIA',
      CapacityType: 'ON_DEMAND',
      InstanceTypes: ['g5.xlarge'],
      Subnets: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
      ScalingConfig: { MinSize: 1, DesiredSize: 1, MaxSize: 3 },
      // Node updates replace one node at a time.
      UpdateConfig: { MaxUnavailable: 1 },
      Taints: [{ Key: 'nvidia.com/gpu', Value: 'true', Effect: 'NO_SCHEDULE' }],
      Labels: {
        'ai-platform.dev/accelerator-vendor': 'nvidia',
        'ai-platform.dev/accelerator-model': 'a10g',
        'ai-platform.dev/accelerator-count': '1',
        'ai-platform.dev/capacity-type': 'on-demand',
        'ai-platform.dev/node-group': 'gpus',
        'ai-platform.dev/device-plugin': 'nvidia',
        'k8s.amazonaws.com/accelerator': 'nvidia-a10g',
      },
    });
  });

  test('requires IMDSv2 and gives a 200 GiB encrypted gp3 root volume by default, deleted with the node', () => {
    const { template } = group();
    template().hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 200, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
        // The instances carry the group's name, for cost allocation.
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'ai-platform:node-group', Value: 'gpus' }] }],
      },
    });
    template().hasResourceProperties('AWS::EKS::Nodegroup', {
      LaunchTemplate: { Id: { Ref: Match.stringLikeRegexp('LaunchTemplate') }, Version: { 'Fn::GetAtt': [Match.stringLikeRegexp('LaunchTemplate'), 'LatestVersionNumber'] } },
      DiskSize: Match.absent(),
    });
  });

  test('pods cannot reach the instance metadata service, so they cannot take the node role\'s credentials', () => {
    // With a hop limit of 2, any pod (a model server, training code) could read the node role's
    // credentials: every ECR repository of the account, and the CNI's network-interface actions on all ENIs.
    const { template } = group();
    const [lt] = Object.values(template().findResources('AWS::EC2::LaunchTemplate'));
    expect(lt.Properties.LaunchTemplateData.MetadataOptions).toEqual({ HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 });
  });

  test('the default is one g6.xlarge, scaling 0..2', () => {
    const { template, ng } = group();
    template().hasResourceProperties('AWS::EKS::Nodegroup', { InstanceTypes: ['g6.xlarge'], ScalingConfig: { MinSize: 0, DesiredSize: 0, MaxSize: 2 } });
    expect(ng.acceleratorsPerNode).toBe(1);
  });

  test('the node role has only the worker, CNI and ECR pull-only policies', () => {
    const { template, ng } = group();
    const t = template();
    // AmazonEC2ContainerRegistryPullOnly, the policy EKS names for a node role, not ...ReadOnly: that one also lists and
    // describes every repository and image of the account and reads their repository and lifecycle policies and scan findings.
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] },
      ManagedPolicyArns: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonEKSWorkerNodePolicy']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonEKS_CNI_Policy']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonEC2ContainerRegistryPullOnly']] },
      ],
    });
    // Each managed policy is acknowledged (AwsSolutions-IAM4) with a reason that says why it is there: the CNI policy is
    // EKS's to require only while the VPC CNI gets no role of its own.
    const acks: Record<string, string> = {};
    for (const m of ng.role.node.metadata) {
      if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) Object.assign(acks, m.data);
    }
    const reasons = Object.fromEntries(Object.entries(acks).map(([id, reason]) => [id.replace(/^annotation::/i, '').replace(/^.*aws:policy\/(.*)\]$/, '$1'), reason]));
    expect(Object.keys(reasons).sort()).toEqual(['AmazonEC2ContainerRegistryPullOnly', 'AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy']);
    expect(reasons.AmazonEKS_CNI_Policy).toMatch(/VPC CNI .*no role of its own/);
    // No inline policy is attached to the node role.
    const policies = t.findResources('AWS::IAM::Policy');
    for (const p of Object.values(policies)) {
      expect(JSON.stringify(p.Properties.Roles)).not.toMatch(/GpusNodeRole/);
    }
  });

  test('a role brought by the user is used and none is created', () => {
    const { stack } = newStack();
    const role = iam.Role.fromRoleArn(stack, 'Role', 'arn:aws:iam::123456789012:role/gpu-nodes');
    new GpuNodeGroup(stack, 'Gpus', { cluster: importedCluster(stack), nodeRole: role, minSize: 1 });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::IAM::Role', 0);
    t.hasResourceProperties('AWS::EKS::Nodegroup', { NodeRole: 'arn:aws:iam::123456789012:role/gpu-nodes' });
  });

  test('without kubectl access, no device plugin is installed and a warning says how to get one', () => {
    const { stack } = group({ minSize: 1 });
    Template.fromStack(stack).resourceCountIs(HELM, 0);
    Annotations.fromStack(stack).hasWarning('/TestStack/Gpus', Match.stringLikeRegexp('device plugin is not installed.*DevicePluginDaemonSet'));
  });

  test('with a kubectl role, the device plugin is installed as a Helm release', () => {
    const { stack } = newStack();
    const cluster = importedCluster(stack, 'arn:aws:iam::123456789012:role/kubectl');
    new GpuNodeGroup(stack, 'Gpus', { cluster, minSize: 1 });
    const t = Template.fromStack(stack);
    t.resourceCountIs(HELM, 1);
    t.hasResourceProperties(HELM, { ClusterName: 'prod', Chart: 'nvidia-device-plugin', Namespace: 'kube-system' });
  });

  test('with a kubectl role but no kubectl layer, synthesis fails: aws-eks gives the provider no kubectl or helm', () => {
    const { stack } = newStack();
    const cluster = importedCluster(stack, 'arn:aws:iam::123456789012:role/kubectl', false);
    expect(() => new GpuNodeGroup(stack, 'Gpus', { cluster, minSize: 1 }))
      .toThrow(/\[TestStack\/Gpus\] 'cluster' \("TestStack\/Cluster"\) is imported with a kubectl role but no kubectlLayer.*: pass kubectlLayer/);
    expect(() => new GpuNodeGroup(stack, 'NoPlugin', { cluster, minSize: 1, installDevicePlugin: false })).not.toThrow();
  });

  test('exposes labels, taints and the extended resource for workloads', () => {
    const { ng } = group({ instanceTypes: [GpuInstanceType.G5_12XLARGE], capacity: Capacity.spot() });
    expect(ng.resourceName).toBe('nvidia.com/gpu');
    expect(ng.acceleratorsPerNode).toBe(4);
    expect(ng.capacityType).toBe('spot');
    expect(ng.nodeTaints).toEqual([{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }]);
    expect(ng.taintStrings).toEqual(['nvidia.com/gpu=true:NoSchedule']);
    expect(ng.nodeLabels['ai-platform.dev/accelerator-count']).toBe('4');
    expect(ng.instanceTypeNames).toEqual(['g5.12xlarge']);
    expect(ng.node.defaultChild).toBe(ng.nodegroup);
  });
});

describe('AMI selection', () => {
  test('NVIDIA Graviton instances get the AL2023 ARM NVIDIA AMI', () => {
    const { template } = group({ instanceTypes: [graviton] });
    template().hasResourceProperties('AWS::EKS::Nodegroup', { AmiType: 'AL2023_ARM_64_NVIDIA', InstanceTypes: ['g5g.xlarge'] });
  });

  test('Neuron instances get the AL2023 Neuron AMI, the Neuron taint and labels', () => {
    const { template, ng } = group({ instanceTypes: [GpuInstanceType.INF2_XLARGE] });
    template().hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: 'AL2023_x86_64_NEURON',
      Taints: [{ Key: 'aws.amazon.com/neuron', Value: 'true', Effect: 'NO_SCHEDULE' }],
      Labels: Match.objectLike({ 'ai-platform.dev/accelerator-vendor': 'aws-neuron', 'ai-platform.dev/device-plugin': 'neuron' }),
    });
    expect(ng.nodeLabels['k8s.amazonaws.com/accelerator']).toBeUndefined();
    expect(ng.resourceName).toBe('aws.amazon.com/neuron');
  });

  test('Bottlerocket NVIDIA uses its data volume and needs no device plugin', () => {
    const { stack } = newStack();
    const cluster = v2Cluster(stack);
    new GpuNodeGroup(stack, 'Gpus', { cluster, os: AcceleratorOs.BOTTLEROCKET, minSize: 1 });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: 'BOTTLEROCKET_x86_64_NVIDIA',
      Labels: Match.objectLike({ 'ai-platform.dev/device-plugin': Match.absent() }),
    });
    // Both volumes are listed encrypted: the OS volume (/dev/xvda) left to the AMI's own mapping would be
    // unencrypted unless the account encrypts EBS by default. 4 GiB, as Karpenter's Bottlerocket default.
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 4, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } },
          { DeviceName: '/dev/xvdb', Ebs: { VolumeSize: 200, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } },
        ],
      }),
    });
    t.resourceCountIs(HELM, 0);
  });

  test('Bottlerocket with Neuron instances fails synthesis', () => {
    expect(() => group({ instanceTypes: [GpuInstanceType.INF2_XLARGE], os: AcceleratorOs.BOTTLEROCKET }))
      .toThrow(/'amiOs' \("BOTTLEROCKET"\) is not available for Neuron/);
  });

  test('mixing NVIDIA and Neuron instances fails synthesis', () => {
    expect(() => group({ instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.INF2_XLARGE] }))
      .toThrow(/\[TestStack\/Gpus\] 'instanceTypes' \(\["g5.xlarge","inf2.xlarge"\]\) mixes accelerator vendors \(nvidia, aws-neuron\).*one GpuNodeGroup per vendor/);
  });

  test('mixing x86 and Graviton instances fails synthesis', () => {
    expect(() => group({ instanceTypes: [GpuInstanceType.G4DN_XLARGE, graviton] }))
      .toThrow(/'instanceTypes' \(\["g4dn.xlarge","g5g.xlarge"\]\) mixes CPU architectures \(x86_64, arm64\)/);
  });

  test('an empty instance type list fails synthesis', () => {
    expect(() => group({ instanceTypes: [] })).toThrow(/'instanceTypes' \(\[\]\) must name at least one/);
  });

  test('more than 20 instance types fail synthesis', () => {
    const many = GpuInstanceType.catalogTypes().filter((t) => t.vendor === AcceleratorVendor.NVIDIA).slice(0, 21);
    expect(() => group({ instanceTypes: many })).toThrow(/has 21 types; an EKS managed node group takes at most 20/);
  });

  test('an instance type listed twice fails synthesis naming it', () => {
    expect(() => group({ instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.G5_2XLARGE, GpuInstanceType.G5_XLARGE] }))
      .toThrow(/'instanceTypes' \(\["g5.xlarge","g5.2xlarge","g5.xlarge"\]\) names g5.xlarge more than once/);
    // Spot diversification adds only types not listed, so a diversified group stays free of repeats.
    const { template } = group({ instanceTypes: [GpuInstanceType.G5_2XLARGE], capacity: Capacity.spot({ diversify: true }) });
    const [ng] = Object.values(template().findResources('AWS::EKS::Nodegroup')) as Array<{ Properties: { InstanceTypes: string[] } }>;
    expect(ng.Properties.InstanceTypes.length).toBeGreaterThan(1);
    expect(new Set(ng.Properties.InstanceTypes).size).toBe(ng.Properties.InstanceTypes.length);
  });

  test('mixing accelerator models warns and leaves out the model label', () => {
    const { stack, ng } = group({ instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.G6_XLARGE] });
    expect(ng.nodeLabels['ai-platform.dev/accelerator-model']).toBeUndefined();
    Annotations.fromStack(stack).hasWarning('/TestStack/Gpus', Match.stringLikeRegexp('mix accelerator models \\(A10G, L4\\)'));
  });

  test('mixing accelerator counts warns and labels the smallest count', () => {
    const { stack, ng } = group({ instanceTypes: [GpuInstanceType.G5_12XLARGE, GpuInstanceType.G5_48XLARGE] });
    expect(ng.acceleratorsPerNode).toBe(4);
    expect(ng.nodeLabels['ai-platform.dev/accelerator-count']).toBe('4');
    Annotations.fromStack(stack).hasWarning('/TestStack/Gpus', Match.stringLikeRegexp('different accelerator counts \\(4, 8\\)'));
    // cluster-autoscaler takes a node already in the group as the template of new ones; only a group without
    // nodes is planned from the Auto Scaling group (the node-template tag's smallest count, else the first type's).
    Annotations.fromStack(stack).hasWarning('/TestStack/Gpus',
      Match.stringLikeRegexp('the count of a node already in the group, whichever type it is; with none, the smallest'));
  });
});

describe('spot capacity', () => {
  test('a single spot pool gets a warning naming interchangeable types', () => {
    const { stack, template } = group({ instanceTypes: [GpuInstanceType.G6_XLARGE], capacity: Capacity.spot() });
    template().hasResourceProperties('AWS::EKS::Nodegroup', {
      CapacityType: 'SPOT',
      InstanceTypes: ['g6.xlarge'],
      Labels: Match.objectLike({ 'ai-platform.dev/capacity-type': 'spot' }),
    });
    // g6.xlarge $0.80/h: g6.2xlarge 1.21x and g6.4xlarge 1.64x are within the default cap of 2; g6.8xlarge (2.50x)
    // and g6.16xlarge (4.22x) are named as left out.
    Annotations.fromStack(stack).hasWarning('/TestStack/Gpus', Match.stringLikeRegexp(
      'Interchangeable types \\(same accelerator model and count\\): g6.2xlarge, g6.4xlarge \\(g6.8xlarge, g6.16xlarge cost more than 2 times as much on demand: raise Capacity.spot\\(\\{ maxPriceRatio \\}\\) to add them\\)'));
  });

  test('diversify adds the interchangeable types that cost at most twice as much on demand', () => {
    const { stack, template } = group({ instanceTypes: [GpuInstanceType.G6_XLARGE], capacity: Capacity.spot({ diversify: true }) });
    template().hasResourceProperties('AWS::EKS::Nodegroup', {
      InstanceTypes: ['g6.xlarge', 'g6.2xlarge', 'g6.4xlarge'],
    });
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Gpus', Match.stringLikeRegexp('Interchangeable'));
  });

  test('maxPriceRatio widens or narrows what diversify adds', () => {
    const names = (maxPriceRatio: number) => group({ instanceTypes: [GpuInstanceType.G6_XLARGE], capacity: Capacity.spot({ diversify: true, maxPriceRatio }) }).ng.instanceTypeNames;
    expect(names(Infinity)).toEqual(['g6.xlarge', 'g6.2xlarge', 'g6.4xlarge', 'g6.8xlarge', 'g6.16xlarge']);
    expect(names(1.3)).toEqual(['g6.xlarge', 'g6.2xlarge']);
    // Each stand-in is held to the price of the type it stands in for.
    const { ng } = group({ instanceTypes: [GpuInstanceType.G6_XLARGE, GpuInstanceType.G6_8XLARGE], capacity: Capacity.spot({ diversify: true, maxPriceRatio: 1.3 }) });
    expect(ng.instanceTypeNames).toEqual(['g6.xlarge', 'g6.8xlarge', 'g6.2xlarge']);
  });

  test('a maxPriceRatio of exactly 1 is allowed: spot stand-ins may cost as much as the type on demand, not more', () => {
    expect(Capacity.spot({ diversify: true, maxPriceRatio: 1 }).maxPriceRatio).toBe(1);
    const { ng } = group({ instanceTypes: [GpuInstanceType.G6_XLARGE], capacity: Capacity.spot({ diversify: true, maxPriceRatio: 1 }) });
    expect(ng.instanceTypeNames).toEqual(['g6.xlarge']);
  });

  test('a maxPriceRatio below 1 or not a number fails, naming it', () => {
    for (const bad of [0.5, NaN, -1]) {
      expect(() => Capacity.spot({ diversify: true, maxPriceRatio: bad })).toThrow(new RegExp(`'maxPriceRatio' \\(${bad}\\) must be a number >= 1`));
    }
  });

  test('stand-ins only above the price cap are named in the warning, diversified or not', () => {
    // inf2.8xlarge is the only stand-in for inf2.xlarge, at 2.6 times its price.
    for (const capacity of [Capacity.spot(), Capacity.spot({ diversify: true })]) {
      const { stack, ng } = group({ instanceTypes: [GpuInstanceType.INF2_XLARGE], capacity });
      expect(ng.instanceTypeNames).toEqual(['inf2.xlarge']);
      Annotations.fromStack(stack).hasWarning('/TestStack/Gpus', Match.stringLikeRegexp(
        'the catalog has no interchangeable type \\(same accelerator model and count, at least as large\\) to add \\(inf2.8xlarge cost more than 2 times'));
    }
    const { ng } = group({ instanceTypes: [GpuInstanceType.INF2_XLARGE], capacity: Capacity.spot({ diversify: true, maxPriceRatio: 3 }) });
    expect(ng.instanceTypeNames).toEqual(['inf2.xlarge', 'inf2.8xlarge']);
  });

  test('a spot pool of two types still gets the warning (three or more pools are advised)', () => {
    const { stack } = group({ instanceTypes: [GpuInstanceType.G6_XLARGE, GpuInstanceType.G6_2XLARGE], capacity: Capacity.spot() });
    Annotations.fromStack(stack).hasWarning('/TestStack/Gpus', Match.stringLikeRegexp('spot capacity with only g6.xlarge, g6.2xlarge.*: g6.4xlarge \\(g6.8xlarge, g6.16xlarge cost more'));
  });

  test('a single spot pool without interchangeable types in the catalog still gets the warning, saying so', () => {
    // p5.48xlarge: no other catalog type has eight H100s. Diversifying cannot add a pool either.
    for (const capacity of [Capacity.spot(), Capacity.spot({ diversify: true })]) {
      const { stack, ng } = group({ instanceTypes: [GpuInstanceType.P5_48XLARGE], capacity, minSize: 0, maxSize: 2 });
      expect(ng.instanceTypeNames).toEqual(['p5.48xlarge']);
      Annotations.fromStack(stack).hasWarning('/TestStack/Gpus', Match.stringLikeRegexp(
        'spot capacity with only p5.48xlarge: when that spot pool runs dry the group cannot grow, and the catalog has no interchangeable type'));
    }
  });

  test('diversified, the group keeps to the 20 instance types EKS allows', () => {
    const custom = Array.from({ length: 17 }, (_, i) => GpuInstanceType.custom({
      name: `a10g${i}.xlarge`, vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'A10G', acceleratorCount: 1, acceleratorMemoryGiB: 22888 / 1024, vcpus: 4, memoryGiB: 16,
      architecture: CpuArchitecture.X86_64,
    }));
    const { ng } = group({ instanceTypes: custom, capacity: Capacity.spot({ diversify: true }) });
    expect(ng.instanceTypeNames).toEqual([...custom.map(String), 'g5.xlarge', 'g5.2xlarge', 'g5.4xlarge']);
  });

  test('on-demand capacity is never diversified', () => {
    const { ng } = group({ instanceTypes: [GpuInstanceType.G6_XLARGE] });
    expect(ng.instanceTypeNames).toEqual(['g6.xlarge']);
  });
});

describe('taints and labels', () => {
  test('extra labels and taints are merged after the accelerator ones', () => {
    const { template } = group({
      labels: { team: 'search' },
      taints: [{ key: 'dedicated', value: 'ml', effect: 'NoExecute' }],
    });
    template().hasResourceProperties('AWS::EKS::Nodegroup', {
      Labels: Match.objectLike({ team: 'search', 'ai-platform.dev/accelerator-vendor': 'nvidia' }),
      Taints: [
        { Key: 'nvidia.com/gpu', Value: 'true', Effect: 'NO_SCHEDULE' },
        { Key: 'dedicated', Value: 'ml', Effect: 'NO_EXECUTE' },
      ],
    });
  });

  test('the node-group label is a valid label value, whatever the construct id or group name (it begins and ends with a letter or digit)', () => {
    const label = (id: string, nodegroupName?: string) => {
      const { stack } = newStack();
      return new GpuNodeGroup(stack, id, { cluster: importedCluster(stack), nodegroupName }).nodeLabels['ai-platform.dev/node-group'];
    };
    expect(label('Gpu Nodes (spot)')).toBe('gpu-nodes--spot');
    expect(label('Gpus', 'gpu_')).toBe('gpu');
    expect(label(`A${'b'.repeat(61)} c`)).toBe(`a${'b'.repeat(61)}`);
    expect(label('Gpus', 'Inference-A')).toBe('inference-a');
  });

  test('a construct id with no letter or digit, and no groupLabel, fails synthesis naming groupLabel (EKS refuses an empty label value)', () => {
    const { stack } = newStack();
    expect(() => new GpuNodeGroup(stack, 'Ω', { cluster: importedCluster(stack) }))
      .toThrow(/\[TestStack\/Ω\] 'groupLabel' \(undefined\) is required here: the construct id \("Ω"\) gives an empty label value.*set groupLabel/);
    const other = newStack().stack;
    expect(new GpuNodeGroup(other, '--', { cluster: importedCluster(other), groupLabel: 'gpus' }).nodeLabels['ai-platform.dev/node-group']).toBe('gpus');
  });

  test('a label in the reserved vocabulary fails synthesis', () => {
    expect(() => group({ labels: { 'ai-platform.dev/capacity-type': 'cheap' } }))
      .toThrow(/'labels\["ai-platform.dev\/capacity-type"\]' \("cheap"\) uses the reserved prefix/);
  });

  test('a label EKS or Kubernetes would refuse fails synthesis, naming the label', () => {
    // EKS: keys and values of 1-63 characters; Kubernetes: label syntax.
    expect(() => group({ labels: { team: '' } }))
      .toThrow(/'labels\["team"\]' \(""\) must be 1-63 characters \(EKS refuses empty values\)/);
    expect(() => group({ labels: { team: 'search ranking' } }))
      .toThrow(/'labels\["team"\]' \("search ranking"\) must be 1-63 characters/);
    expect(() => group({ labels: { team: 'a'.repeat(64) } })).toThrow(/'labels\["team"\]'/);
    expect(() => group({ labels: { [`example.com/${'k'.repeat(60)}`]: 'x' } }))
      .toThrow(/'labels' \("example.com\/k{60}"\) has a key EKS refuses: a label key is at most 63 characters in all/);
    expect(() => group({ labels: { 'team name': 'search' } })).toThrow(/'labels' \("team name"\) has a key EKS refuses/);
    expect(() => group({ labels: { 'example.com/team': 'search-1.2_a' } })).not.toThrow();
  });

  test('a label key in a domain EKS reserves (kubernetes.io, k8s.io, eks.amazonaws.com) fails synthesis', () => {
    // EKS refuses these prefixes in CreateNodegroup, or the kubelet refuses them and the nodes never join.
    expect(() => group({ labels: { 'node-role.kubernetes.io/gpu': 'true' } }))
      .toThrow(/'labels' \("node-role.kubernetes.io\/gpu"\) is in a domain EKS reserves/);
    expect(() => group({ labels: { 'kubernetes.io/role': 'gpu' } })).toThrow(/'labels' \("kubernetes.io\/role"\)/);
    expect(() => group({ labels: { 'example.k8s.io/team': 'ml' } })).toThrow(/'labels' \("example.k8s.io\/team"\)/);
    expect(() => group({ labels: { 'eks.amazonaws.com/nodegroup': 'x' } })).toThrow(/'labels' \("eks.amazonaws.com\/nodegroup"\)/);
    expect(() => group({ labels: { 'mykubernetes.io/team': 'ml', 'k8s.amazonaws.com/team': 'ml' } })).not.toThrow();
  });

  test('a taint EKS or Kubernetes would refuse fails synthesis, naming the taint', () => {
    expect(() => group({ taints: [{ key: 'dedicated', value: 'ml team', effect: 'NoSchedule' }] }))
      .toThrow(/'taints\["dedicated"\].value' \("ml team"\) must be at most 63 characters/);
    expect(() => group({ taints: [{ key: `example.com/${'k'.repeat(52)}`, value: '', effect: 'NoSchedule' }] }))
      .toThrow(/'taints\[\].key' \("example.com\/k{52}"\) must be at most 63 characters \(EKS's limit\)/);
    expect(() => group({ taints: [{ key: 'dedicated', value: '', effect: 'NoSchedule' }] })).not.toThrow();
    // One taint per key and effect: a second nvidia.com/gpu NoSchedule next to the accelerator taint.
    expect(() => group({ taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] }))
      .toThrow(/'taints' \("nvidia.com\/gpu=present:NoSchedule"\) repeats the key and effect of another taint \(the accelerator taint\)/);
    expect(() => group({ acceleratorTaint: false, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] })).not.toThrow();
    const many = Array.from({ length: 50 }, (_, i) => ({ key: `t${i}`, value: 'x', effect: 'NoSchedule' as const }));
    expect(() => group({ taints: many })).toThrow(/'taints' \("51 taints"\) must be at most 50 in all, the accelerator taint included \(EKS's limit per node group\)/);
    expect(() => group({ taints: many.slice(0, 49), scaleFromZeroHints: false })).not.toThrow();
  });

  test('a taint key in a domain EKS reserves (kubernetes.io, k8s.io, eks.amazonaws.com) fails synthesis', () => {
    // EKS refuses them in CreateNodegroup ("Taint cannot contain reserved prefixes [kubernetes.io/, k8s.io/, eks.amazonaws.com/]"),
    // as it does label keys; Kubernetes reserves taints in kubernetes.io and k8s.io too.
    expect(() => group({ taints: [{ key: 'node.kubernetes.io/gpu', value: 'true', effect: 'NoSchedule' }] }))
      .toThrow(/'taints\[\].key' \("node.kubernetes.io\/gpu"\) is in a domain EKS reserves \(kubernetes.io, k8s.io, eks.amazonaws.com and their subdomains\).*use a taint key in your own domain/);
    expect(() => group({ taints: [{ key: 'kubernetes.io/dedicated', value: 'ml', effect: 'NoSchedule' }] })).toThrow(/'taints\[\].key' \("kubernetes.io\/dedicated"\)/);
    expect(() => group({ taints: [{ key: 'example.k8s.io/team', value: 'ml', effect: 'NoExecute' }] })).toThrow(/'taints\[\].key' \("example.k8s.io\/team"\)/);
    expect(() => group({ taints: [{ key: 'eks.amazonaws.com/compute-type', value: 'x', effect: 'NoSchedule' }] })).toThrow(/'taints\[\].key' \("eks.amazonaws.com\/compute-type"\)/);
    expect(() => group({ taints: [{ key: 'mykubernetes.io/team', value: 'ml', effect: 'NoSchedule' }, { key: 'dedicated', value: 'ml', effect: 'NoSchedule' }] })).not.toThrow();
  });

  test('a taint effect other than NoSchedule, PreferNoSchedule or NoExecute fails synthesis naming it (EKS requires the effect)', () => {
    // From JavaScript, or the EKS API's spelling: CloudFormation would get a taint without its required Effect.
    expect(() => group({ taints: [{ key: 'dedicated', value: 'ml', effect: 'NO_EXECUTE' as 'NoExecute' }] }))
      .toThrow(/'taints\["dedicated"\].effect' \("NO_EXECUTE"\) must be NoSchedule, PreferNoSchedule or NoExecute/);
    expect(() => group({ taints: [{ key: 'dedicated', value: 'ml', effect: 'PreferNoSchedule' }] })).not.toThrow();
  });

  test('turning off the accelerator taint removes it and warns', () => {
    const { stack, template } = group({ acceleratorTaint: false });
    template().hasResourceProperties('AWS::EKS::Nodegroup', { Taints: Match.absent() });
    Annotations.fromStack(stack).hasWarning('/TestStack/Gpus', Match.stringLikeRegexp("'acceleratorTaint' is false"));
  });
});

describe('scaling validation', () => {
  test('minSize above maxSize fails synthesis', () => {
    expect(() => group({ minSize: 5, maxSize: 2 })).toThrow(/'minSize' \(5\) must be <= 'maxSize' \(2\): lower minSize or raise maxSize/);
  });
  test('desiredSize outside min..max fails synthesis', () => {
    expect(() => group({ minSize: 1, desiredSize: 4, maxSize: 3 })).toThrow(/'desiredSize' \(4\) must be between 'minSize' \(1\) and 'maxSize' \(3\)/);
    expect(() => group({ minSize: 2, desiredSize: 1, maxSize: 3 })).toThrow(/'desiredSize' \(1\) must be between 'minSize' \(2\) and 'maxSize' \(3\)/);
  });
  test('a negative minSize fails synthesis', () => {
    expect(() => group({ minSize: -1 })).toThrow(/'minSize' \(-1\) must be a whole number >= 0/);
  });
  test('maxSize 0 fails synthesis', () => {
    expect(() => group({ maxSize: 0 })).toThrow(/'maxSize' \(0\) must be a whole number >= 1/);
  });
  test('a fractional size fails synthesis', () => {
    expect(() => group({ maxSize: 2.5 })).toThrow(/'maxSize' \(2.5\) must be a whole number >= 1/);
  });
  test('a disk under 20 GiB fails synthesis', () => {
    expect(() => group({ diskSize: Size.gibibytes(10) })).toThrow(/'diskSize' \("10 GiB"\) must be between 20 GiB and 16384 GiB/);
  });
  test('a disk over 16 TiB fails synthesis', () => {
    expect(() => group({ diskSize: Size.tebibytes(20) })).toThrow(/'diskSize' \("20480 GiB"\) must be between 20 GiB and 16384 GiB/);
  });
  test('a custom disk size is used, and cluster-autoscaler is told it as the nodes\' ephemeral storage', () => {
    const { template } = group({ diskSize: Size.gibibytes(500) });
    const t = template();
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ VolumeSize: 500 }) })] }),
    });
    t.hasResourceProperties(NODE_TEMPLATE_TAGS, {
      Tags: Match.arrayWith([{ Key: 'k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage', Value: '500Gi' }]),
    });
  });
  test('a disk size that is not a whole number of GiB fails synthesis, naming the prop', () => {
    expect(() => group({ diskSize: Size.mebibytes(204900) })).toThrow(/'diskSize' \("200\.09765625 GiB"\) must be a whole number of GiB/);
  });
  test('a disk size from a parameter is the volume size, and cluster-autoscaler is told it as the ephemeral storage', () => {
    const { stack } = newStack();
    const gib = new CfnParameter(stack, 'DiskGiB', { type: 'Number' }).valueAsNumber;
    new GpuNodeGroup(stack, 'Gpus', { cluster: importedCluster(stack), diskSize: Size.gibibytes(gib) });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ VolumeSize: { Ref: 'DiskGiB' } }) })] }),
    });
    t.hasResourceProperties(NODE_TEMPLATE_TAGS, {
      Tags: Match.arrayWith([{ Key: 'k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage', Value: { 'Fn::Join': ['', [{ Ref: 'DiskGiB' }, 'Gi']] } }]),
    });
  });
  test('a node group name from a parameter leaves the node-group label to the construct id', () => {
    const { stack } = newStack();
    const name = new CfnParameter(stack, 'GroupName').valueAsString;
    const ng = new GpuNodeGroup(stack, 'Gpus', { cluster: importedCluster(stack), nodegroupName: name });
    expect(ng.nodeLabels['ai-platform.dev/node-group']).toBe('gpus');
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::Nodegroup', {
      NodegroupName: { Ref: 'GroupName' },
      Labels: Match.objectLike({ 'ai-platform.dev/node-group': 'gpus' }),
    });
  });
  test('subnets that select no subnet of the VPC fail synthesis, naming the prop (EKS requires at least one)', () => {
    // Otherwise the node group reaches CloudFormation with Subnets: [] and the deployment fails.
    expect(() => group({ subnets: { availabilityZones: ['us-east-1c'] } }))
      .toThrow(/\[TestStack\/Gpus\] 'subnets' \(.*us-east-1c.*\) must select at least one subnet of the cluster's VPC \(EKS requires one\), and selects none \(the VPC's zones: us-east-1a, us-east-1b\)/);
    expect(() => group({ subnets: { subnets: [] } })).toThrow(/'subnets' .* selects none/);
    // A VPC created in an environment-agnostic stack has zones only as tokens.
    const { stack } = newStack();
    expect(() => new GpuNodeGroup(stack, 'Gpus', { cluster: v2Cluster(stack), subnets: { availabilityZones: ['us-east-1a'] } }))
      .toThrow(/'subnets' .* selects none \(an environment-agnostic stack does not know its zone names/);
    const { template } = group({ subnets: { availabilityZones: ['us-east-1b'] } });
    template().hasResourceProperties('AWS::EKS::Nodegroup', { Subnets: ['subnet-0bbbbbbbbbbbbbbb2'] });
  });

  test('an invalid node group name fails synthesis', () => {
    expect(() => group({ nodegroupName: 'gpu nodes!' })).toThrow(/'nodegroupName' \("gpu nodes!"\) must be 1-63 characters/);
  });

  test('with tags EKS refuses (an aws: key, a key over 128 or a value over 256 characters, more than 50), synthesis fails naming them', () => {
    // EKS tag restrictions: at most 50 tags per resource, keys of 1-128 and values of at most 256 characters, no aws: prefix.
    expect(() => group({ tags: { 'AWS:team': 'ml' } }))
      .toThrow(/'tags\["AWS:team"\]' \("ml"\) uses the "aws:" prefix, which AWS reserves \(in any case\): EKS refuses the node group: rename the tag/);
    expect(() => group({ tags: { ['k'.repeat(129)]: 'v' } })).toThrow(/'tags' \("k{129}"\) must be tag keys of 1 to 128 characters/);
    expect(() => group({ tags: { '': 'v' } })).toThrow(/'tags' \(""\) must be tag keys of 1 to 128 characters/);
    expect(() => group({ tags: { team: 'v'.repeat(257) } })).toThrow(/'tags\["team"\]' \("257 characters"\) must be at most 256 characters/);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`tag${i}`, 'x']));
    expect(() => group({ tags: many })).toThrow(/'tags' \("51 tags"\) must be at most 50 tags \(EKS's limit per node group\)/);
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`tag${i}`, 'x']));
    expect(() => group({ tags: { ...fifty } })).not.toThrow();
    expect(() => group({ tags: { ['k'.repeat(128)]: 'v'.repeat(256), 'team:aws': 'ml' } })).not.toThrow();
  });
});

describe('scale from zero', () => {
  /** The one resource of a type in the template, as [logical id, resource]. */
  function only(t: Template, type: string): [string, { Properties: Record<string, unknown>; DependsOn?: string[] }] {
    const found = Object.entries(t.findResources(type));
    expect(found).toHaveLength(1);
    return found[0] as [string, { Properties: Record<string, unknown>; DependsOn?: string[] }];
  }

  test('a group with minSize 0 keeps cluster-autoscaler node-template hints on its Auto Scaling group through a custom resource', () => {
    const { template } = group({ instanceTypes: [GpuInstanceType.G5_12XLARGE], minSize: 0, maxSize: 4 });
    const t = template();
    const [functionId] = only(t, 'AWS::Lambda::Function');
    const [policyId] = only(t, 'AWS::IAM::Policy');
    t.resourceCountIs(NODE_TEMPLATE_TAGS, 1);
    t.resourceCountIs('Custom::AWS', 0);
    t.hasResource(NODE_TEMPLATE_TAGS, {
      Properties: {
        ServiceToken: { 'Fn::GetAtt': [functionId, 'Arn'] },
        ServiceTimeout: '300',
        ClusterName: 'prod',
        NodegroupName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Gpus'), 'NodegroupName'] },
        Tags: Match.arrayWith([
          { Key: 'k8s.io/cluster-autoscaler/node-template/label/ai-platform.dev/accelerator-vendor', Value: 'nvidia' },
          { Key: 'k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu', Value: 'true:NoSchedule' },
          { Key: 'k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu', Value: '4' },
          { Key: 'k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage', Value: '200Gi' },
        ]),
      },
      // Created after its permissions, and deleted (removing the tags) before they go.
      DependsOn: Match.arrayWith([policyId]),
    });
  });

  test('the resource carries exactly the group\'s current tags, so a removed taint or label is no longer among them', () => {
    const { ng, template } = group({ minSize: 0, labels: { 'example.com/team': 'ml' }, taints: [{ key: 'example.com/dedicated', value: 'training', effect: 'NoSchedule' }] });
    const [, resource] = only(template(), NODE_TEMPLATE_TAGS);
    expect(resource.Properties.Tags).toEqual(Object.entries(ng.clusterAutoscalerTags()).map(([Key, Value]) => ({ Key, Value })));
    const without = group({ minSize: 0, labels: { 'example.com/team': 'ml' } });
    const keys = (only(without.template(), NODE_TEMPLATE_TAGS)[1].Properties.Tags as Array<{ Key: string }>).map((x) => x.Key);
    expect(keys).toContain('k8s.io/cluster-autoscaler/node-template/label/example.com/team');
    expect(keys).not.toContain('k8s.io/cluster-autoscaler/node-template/taint/example.com/dedicated');
  });

  test('the handler is plain JavaScript on a current Node.js runtime, with a finite log retention', () => {
    const t = group({ minSize: 0 }).template();
    const [logsId] = only(t, 'AWS::Logs::LogGroup');
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 120,
      LoggingConfig: { LogGroup: { Ref: logsId } },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  test('the asset CloudFormation deploys holds the handler as JavaScript that exports it', () => {
    const { stack } = group({ minSize: 0 });
    const assembly = (stack.node.root as App).synth();
    const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    const hash = (fn.Properties.Code.S3Key as string).replace(/\.zip$/, '');
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'));
    const dir = path.join(assembly.directory, manifest.files[hash].source.path);
    expect(fs.readdirSync(dir)).toEqual(['index.js']);
    const staged = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
    expect(staged).toContain('module.exports = { handler');
    expect(staged).not.toMatch(/^\s*import /m);
  });

  test('the handler\'s role may only write its own log group, and the tagging permission is limited to the cluster\'s Auto Scaling groups and node-template keys', () => {
    const t = group({ minSize: 0 }).template();
    const roleId = Object.keys(t.findResources('AWS::IAM::Role')).find((id) => id.startsWith('AiPlatformNodeTemplateTagsHandlerRole'))!;
    const [logsId] = only(t, 'AWS::Logs::LogGroup');
    expect(t.toJSON().Resources[roleId].Properties).toMatchObject({
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }] },
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }),
      ManagedPolicyArns: Match.absent(),
      Policies: [{
        PolicyName: 'Logs',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logsId, 'Arn'] } }],
        },
      }],
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DescribeNodegroup', Effect: 'Allow', Action: 'eks:DescribeNodegroup',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':nodegroup/prod/*']] },
          },
          {
            Sid: 'NodeTemplateTags', Effect: 'Allow',
            Action: ['autoscaling:CreateOrUpdateTags', 'autoscaling:DeleteTags'],
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':autoscaling:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':autoScalingGroup:*']] },
            Condition: {
              'StringEquals': { 'aws:ResourceTag/eks:cluster-name': 'prod' },
              'ForAllValues:StringLike': { 'aws:TagKeys': ['k8s.io/cluster-autoscaler/node-template/*'] },
            },
          },
        ],
      },
    });
  });

  test('two groups in a stack share one handler, each with its own resource and policy', () => {
    const { stack } = newStack();
    const cluster = importedCluster(stack);
    new GpuNodeGroup(stack, 'Inference', { cluster, installDevicePlugin: false });
    new GpuNodeGroup(stack, 'Training', { cluster, installDevicePlugin: false });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Function', 1);
    t.resourceCountIs('AWS::IAM::Policy', 2);
    t.resourceCountIs(NODE_TEMPLATE_TAGS, 2);
    for (const name of ['Inference', 'Training']) {
      const [policyId] = Object.keys(t.findResources('AWS::IAM::Policy')).filter((id) => id.startsWith(name));
      expect(policyId).toBeDefined();
      t.hasResource(NODE_TEMPLATE_TAGS, {
        Properties: Match.objectLike({ NodegroupName: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${name}`), 'NodegroupName'] } }),
        DependsOn: Match.arrayWith([policyId]),
      });
    }
  });

  test('clusterAutoscalerTags() returns what the group writes, its own disk size included', () => {
    const { ng, template } = group({ minSize: 0, diskSize: Size.gibibytes(500) });
    const [, resource] = only(template(), NODE_TEMPLATE_TAGS);
    expect(ng.clusterAutoscalerTags()['k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage']).toBe('500Gi');
    expect(resource.Properties.Tags).toEqual(Object.entries(ng.clusterAutoscalerTags()).map(([Key, Value]) => ({ Key, Value })));
  });

  test('the hints cover labels, taints and the accelerator count', () => {
    const { ng } = group({ instanceTypes: [GpuInstanceType.INF2_48XLARGE] });
    expect(ng.clusterAutoscalerTags()).toMatchObject({
      'k8s.io/cluster-autoscaler/node-template/label/ai-platform.dev/accelerator-model': 'inferentia2',
      'k8s.io/cluster-autoscaler/node-template/taint/aws.amazon.com/neuron': 'true:NoSchedule',
      'k8s.io/cluster-autoscaler/node-template/resources/aws.amazon.com/neuron': '12',
    });
  });

  test('a Neuron group\'s hints also give its NeuronCores (two per Inferentia2 or Trainium device), so pods asking for aws.amazon.com/neuroncore scale it from zero', () => {
    const cores = (instanceTypes: GpuInstanceType[]) => group({ instanceTypes }).ng.clusterAutoscalerTags()['k8s.io/cluster-autoscaler/node-template/resources/aws.amazon.com/neuroncore'];
    expect(cores([GpuInstanceType.INF2_48XLARGE])).toBe('24');
    expect(cores([GpuInstanceType.TRN1_32XLARGE])).toBe('32');
    expect(cores([GpuInstanceType.INF2_8XLARGE, GpuInstanceType.INF2_XLARGE])).toBe('2');
    expect(cores([GpuInstanceType.G5_12XLARGE])).toBeUndefined();
    // A Neuron model the catalog does not know: its core count is not guessed.
    const inf3 = GpuInstanceType.custom({ name: 'inf3.xlarge', vendor: AcceleratorVendor.AWS_NEURON, acceleratorModel: 'Inferentia3', acceleratorCount: 1, acceleratorMemoryGiB: 32, vcpus: 4, memoryGiB: 16, architecture: CpuArchitecture.X86_64 });
    expect(cores([inf3])).toBeUndefined();
  });

  test('a label the group sets itself fails synthesis naming it, rather than being silently replaced', () => {
    expect(() => group({ labels: { 'k8s.amazonaws.com/accelerator': 'nvidia-tesla-t4' } }))
      .toThrow(/'labels' \("k8s\.amazonaws\.com\/accelerator"\) is one of the labels the group sets itself \(.*\); it sets this one to "nvidia-l4", which would replace the value given/);
    // A group of several models sets none: the label is the user's to give.
    expect(() => group({ instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.G6_XLARGE], labels: { 'k8s.amazonaws.com/accelerator': 'nvidia-a10g' } })).not.toThrow();
    expect(() => group({ labels: { 'example.com/role': 'inference' } })).not.toThrow();
  });

  test('a group that never scales to zero gets no hints unless asked', () => {
    const plain = group({ minSize: 1 }).template();
    plain.resourceCountIs(NODE_TEMPLATE_TAGS, 0);
    plain.resourceCountIs('AWS::Lambda::Function', 0);
    group({ minSize: 1, scaleFromZeroHints: true }).template().resourceCountIs(NODE_TEMPLATE_TAGS, 1);
  });

  test('a group whose minSize is a parameter gets the hints, since the parameter may be 0', () => {
    const { stack } = newStack();
    const minSize = new CfnParameter(stack, 'MinSize', { type: 'Number' }).valueAsNumber;
    new GpuNodeGroup(stack, 'Gpus', { cluster: importedCluster(stack), minSize, maxSize: 4 });
    Template.fromStack(stack).resourceCountIs(NODE_TEMPLATE_TAGS, 1);
  });

  test('hints that would not fit in an Auto Scaling group fail synthesis, naming how many to remove', () => {
    // 50 tags per Auto Scaling group, 5 of them EKS's own: 45 node-template tags fit.
    const base = Object.keys(group().ng.clusterAutoscalerTags()).length;
    const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`team.example.com/l${i}`, 'x']));
    group({ minSize: 0, labels: labels(45 - base) }).template().resourceCountIs(NODE_TEMPLATE_TAGS, 1);
    expect(() => group({ minSize: 0, labels: labels(44 - base), taints: [{ key: 'a.example.com/t', value: 'x', effect: 'NoSchedule' }, { key: 'b.example.com/t', value: 'x', effect: 'NoSchedule' }] }))
      .toThrow(/'scaleFromZeroHints' \(true\) would write 46 node-template tags \(\d+ labels, 3 taints, 2 resources\).*at most 45 of them: remove 1 labels or taints, or set scaleFromZeroHints: false/);
    group({ minSize: 0, labels: labels(60), scaleFromZeroHints: false }).template().resourceCountIs(NODE_TEMPLATE_TAGS, 0);
  });

  test('two taints with one key give no warning: cluster-autoscaler reads both from the managed node group, beside the one-per-key tag', () => {
    // cluster-autoscaler (aws_manager.go buildNodeFromTemplate) appends the taints eks:DescribeNodegroup returns
    // to those of the node-template tags, so a template node carries both taints.
    const { stack } = group({ minSize: 0, taints: [{ key: 'team.example.com/ml', value: 'x', effect: 'NoSchedule' }, { key: 'team.example.com/ml', value: 'x', effect: 'NoExecute' }] });
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())
      .filter((w) => /share the key|taint/i.test(String(w.entry.data)))).toEqual([]);
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::Nodegroup', {
      Taints: Match.arrayWith([
        { Key: 'team.example.com/ml', Value: 'x', Effect: 'NO_SCHEDULE' },
        { Key: 'team.example.com/ml', Value: 'x', Effect: 'NO_EXECUTE' },
      ]),
    });
  });

  test('scaleFromZeroHints false on a group scaling to zero creates no tagging resource (removing it deletes the tags)', () => {
    const t = group({ minSize: 0, scaleFromZeroHints: false }).template();
    t.resourceCountIs(NODE_TEMPLATE_TAGS, 0);
    t.resourceCountIs('AWS::Lambda::Function', 0);
  });
});

describe('device plugins on clusters created in the stack', () => {
  test('two NVIDIA groups on an aws-eks-v2 cluster install exactly one device plugin', () => {
    const { stack } = newStack();
    const cluster = v2Cluster(stack);
    new GpuNodeGroup(stack, 'Inference', { cluster, instanceTypes: [GpuInstanceType.G5_XLARGE], minSize: 1 });
    new GpuNodeGroup(stack, 'Training', { cluster, instanceTypes: [GpuInstanceType.G6E_XLARGE], capacity: Capacity.spot({ diversify: true }) });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EKS::Nodegroup', 2);
    t.resourceCountIs(HELM, 1);
    const [chart] = Object.values(t.findResources(HELM));
    expect(chart.Properties).toMatchObject({
      Chart: 'nvidia-device-plugin',
      Repository: 'https://nvidia.github.io/k8s-device-plugin',
      Version: '0.17.4',
      Release: 'nvidia-device-plugin',
      Namespace: 'kube-system',
    });
    // affinity: null removes the chart's default node-feature-discovery affinity, which EKS AMIs never satisfy.
    expect(JSON.parse(chart.Properties.Values)).toEqual({
      affinity: null,
      nodeSelector: { 'ai-platform.dev/device-plugin': 'nvidia' },
      tolerations: [{ operator: 'Exists' }],
      priorityClassName: 'system-node-critical',
    });
  });

  test('an NVIDIA and a Neuron group install one plugin each', () => {
    const { stack } = newStack();
    const cluster = v2Cluster(stack);
    new GpuNodeGroup(stack, 'Gpu', { cluster, minSize: 1 });
    new GpuNodeGroup(stack, 'Neuron', { cluster, instanceTypes: [GpuInstanceType.INF2_XLARGE], minSize: 1 });
    const t = Template.fromStack(stack);
    t.resourceCountIs(HELM, 2);
    t.hasResourceProperties(HELM, { Chart: 'neuron-helm-chart', Repository: 'oci://public.ecr.aws/neuron/neuron-helm-chart', Version: '1.1.2' });
  });

  test('the Neuron release\'s OCI repository is the chart itself, which is what aws-cdk\'s Helm handler pulls', () => {
    // For an oci:// repository, aws-cdk's kubectl handler (custom-resource-handlers aws-eks(-v2)/kubectl-handler/helm)
    // ignores Chart: it runs `helm pull <Repository> --version <Version> --untar` and installs the directory named after the
    // repository's last segment. 'oci://public.ecr.aws/neuron' is the registry namespace, not a chart, so the pull fails and
    // the deployment with it. The chart lives at oci://public.ecr.aws/neuron/neuron-helm-chart (aws-neuron/neuron-helm-charts).
    const { stack } = newStack();
    const cluster = v2Cluster(stack);
    new GpuNodeGroup(stack, 'Neuron', { cluster, instanceTypes: [GpuInstanceType.TRN1_2XLARGE], minSize: 1 });
    const [chart] = Object.values(Template.fromStack(stack).findResources(HELM));
    const repository: string = chart.Properties.Repository;
    expect(repository.startsWith('oci://')).toBe(true);
    expect(repository.split('/').pop()).toBe(chart.Properties.Chart);
  });

  test('the Neuron plugin runs wherever the device-plugin label says, not only on the instance types the chart lists', () => {
    const { stack } = newStack();
    const cluster = v2Cluster(stack);
    const trn2 = GpuInstanceType.custom({
      name: 'trn2.3xlarge', vendor: AcceleratorVendor.AWS_NEURON, acceleratorModel: 'Trainium2', acceleratorCount: 1,
      acceleratorMemoryGiB: 96, vcpus: 12, memoryGiB: 128,
    });
    new GpuNodeGroup(stack, 'Neuron', { cluster, instanceTypes: [trn2], minSize: 1 });
    const [chart] = Object.values(Template.fromStack(stack).findResources(HELM));
    // The chart's default affinity requires node.kubernetes.io/instance-type in its neuronInstances list (no trn2.3xlarge):
    // null removes it, as affinity: null does for the NVIDIA chart, so the label alone decides, like the DaemonSet.
    expect(JSON.parse(chart.Properties.Values)).toEqual({
      npd: { enabled: false },
      scheduler: { enabled: false },
      devicePlugin: {
        enabled: true,
        affinity: null,
        nodeSelector: { 'ai-platform.dev/device-plugin': 'neuron' },
        tolerations: [{ operator: 'Exists' }],
      },
    });
  });

  test('an aws-eks (v1) cluster in the same stack works too', () => {
    const { stack } = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_33,
      defaultCapacity: 0,
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Layer', KUBECTL_LAYER_ARN),
    });
    new GpuNodeGroup(stack, 'Gpus', { cluster, minSize: 1 });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EKS::Nodegroup', { ClusterName: { Ref: Match.stringLikeRegexp('Cluster') }, AmiType: 'AL2023_x86_64_NVIDIA' });
    t.resourceCountIs(HELM, 1);
  });

  test('the device plugin tolerates every taint, so extra taints on a group do not keep it off the nodes', () => {
    const { stack } = newStack();
    const cluster = v2Cluster(stack);
    new GpuNodeGroup(stack, 'Gpus', { cluster, minSize: 1, taints: [{ key: 'dedicated', value: 'training', effect: 'NoSchedule' }] });
    new GpuNodeGroup(stack, 'Neuron', { cluster, instanceTypes: [GpuInstanceType.INF2_XLARGE], minSize: 1, acceleratorTaint: false, taints: [{ key: 'team', value: 'ml', effect: 'NoExecute' }] });
    const t = Template.fromStack(stack);
    const values = Object.values(t.findResources(HELM)).map((r) => JSON.parse(r.Properties.Values));
    const nvidia = values.find((v) => v.tolerations);
    const neuron = values.find((v) => v.devicePlugin);
    // Without a toleration for 'dedicated' (or 'team'), the DaemonSet never runs there and nvidia.com/gpu is never advertised.
    expect(nvidia.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(neuron.devicePlugin.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  test('on an aws-eks (v1) cluster, the node role is mapped in the aws-auth ConfigMap that CDK overwrites', () => {
    const { stack } = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_33,
      defaultCapacity: 0,
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Layer', KUBECTL_LAYER_ARN),
    });
    // Anything that maps a role (a masters role, an aws-cdk Nodegroup) makes CDK own aws-auth (Overwrite: true).
    cluster.awsAuth.addMastersRole(new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() }));
    const ng = new GpuNodeGroup(stack, 'Gpus', { cluster, minSize: 1 });
    const t = Template.fromStack(stack);
    const roleId = stack.getLogicalId(ng.role.node.defaultChild as iam.CfnRole);
    const [awsAuth] = Object.values(t.findResources('Custom::AWSCDK-EKS-KubernetesResource'));
    const manifest = JSON.stringify(awsAuth.Properties.Manifest);
    expect(manifest).toContain(roleId);
    expect(manifest).toContain('system:node:{{EC2PrivateDNSName}}');
    expect(manifest).toContain('system:bootstrappers');
  });

  test('on an aws-eks (v1) cluster with API authentication, aws-auth is left alone', () => {
    const { stack } = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_33,
      defaultCapacity: 0,
      authenticationMode: eks.AuthenticationMode.API,
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Layer', KUBECTL_LAYER_ARN),
    });
    new GpuNodeGroup(stack, 'Gpus', { cluster, minSize: 1 });
    Template.fromStack(stack).resourceCountIs('Custom::AWSCDK-EKS-KubernetesResource', 0);
  });

  test('installDevicePlugin false installs none', () => {
    const { stack } = newStack();
    const cluster = v2Cluster(stack);
    new GpuNodeGroup(stack, 'Gpus', { cluster, minSize: 1, installDevicePlugin: false });
    Template.fromStack(stack).resourceCountIs(HELM, 0);
  });
});

describe('cdk-nag', () => {
  test('a node group scaling from zero in an environment-agnostic stack has no unacknowledged AwsSolutions findings', () => {
    const { app, stack } = newStack();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new GpuNodeGroup(stack, 'Gpus', { cluster: importedCluster(stack), minSize: 0, installDevicePlugin: false });
    // Synthesis throws a ValidationFailed report on any unacknowledged finding.
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

test('a JavaScript caller without a cluster, or with something else, gets an error naming cluster instead of a TypeError', () => {
  const { stack } = newStack();
  expect(() => new GpuNodeGroup(stack, 'NoProps', undefined as unknown as GpuNodeGroupProps))
    .toThrow(/^\[TestStack\/NoProps\] 'cluster' \(undefined\) is required: an EKS cluster \(aws-eks or aws-eks-v2, created or imported\)/);
  expect(() => new GpuNodeGroup(stack, 'Empty', {} as unknown as GpuNodeGroupProps))
    .toThrow(/^\[TestStack\/Empty\] 'cluster' \(undefined\) is required: /);
  expect(() => new GpuNodeGroup(stack, 'Name', { cluster: 'prod' } as unknown as GpuNodeGroupProps))
    .toThrow(/^\[TestStack\/Name\] 'cluster' \("prod"\) must be an EKS cluster /);
  expect(() => new GpuNodeGroup(stack, 'NoVpc', { cluster: { clusterName: 'prod' } } as unknown as GpuNodeGroupProps))
    .toThrow(/^\[TestStack\/NoVpc\] 'cluster.vpc' \(undefined\) is required: an ec2.IVpc/);
});

test('Capacity.spot(null) from a JavaScript caller is spot capacity with the defaults, as Capacity.spot() is', () => {
  expect(Capacity.spot(null as unknown as undefined)).toEqual(Capacity.spot());
  expect(Capacity.spot(null as unknown as undefined).isSpot).toBe(true);
});
