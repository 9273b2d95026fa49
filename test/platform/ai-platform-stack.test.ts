import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { App, CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { ContainerImage } from '../../constructs/serving';
import { AiPlatformStack } from '../../lib/ai-platform-stack';
import { TEST_CONTEXT } from '../helpers';
import { FIXTURE_IMAGE_DIR } from '../serving/util';

describe('AiPlatformStack (the reference platform)', () => {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new AiPlatformStack(app, 'Platform');
  // Synthesizing runs aws-cdk's CloudFormation validation: a finding would throw here.
  const template = Template.fromStack(stack);

  test('has a system node group, an on-demand inference group and a spot training group that scales from zero', () => {
    template.resourceCountIs('AWS::EKS::Nodegroup', 3);
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      NodegroupName: Match.absent(),
      CapacityType: 'ON_DEMAND',
      InstanceTypes: ['g5.xlarge'],
      ScalingConfig: { MinSize: 1, DesiredSize: 1, MaxSize: 4 },
      AmiType: 'AL2023_x86_64_NVIDIA',
    });
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      NodegroupName: Match.absent(),
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
    template.resourceCountIs('Custom::NodeTemplateTags', 1);
    template.hasResourceProperties('Custom::NodeTemplateTags', {
      NodegroupName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TrainingNodes'), 'NodegroupName'] },
    });
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
    t.hasResourceProperties('AWS::EKS::Nodegroup', { Labels: Match.objectLike({ 'ai-platform.dev/node-group': 'inference' }), InstanceTypes: ['g6.xlarge'], ScalingConfig: { MinSize: 2, MaxSize: 6, DesiredSize: 2 } });
    t.hasResourceProperties('AWS::EKS::Nodegroup', { Labels: Match.objectLike({ 'ai-platform.dev/node-group': 'training' }), ScalingConfig: Match.objectLike({ MaxSize: 3 }) });
    t.resourceCountIs('AWS::Lambda::LayerVersion', 1); // only the aws-cdk provider's own layer: no bundled kubectl layer
  });
});

describe('AiPlatformStack model endpoint', () => {
  // The published package does not ship the example model (it is generated, never committed), so a user of
  // the package has to be able to give the stack a model of their own.
  test('modelDirectory chooses the model the SageMaker endpoint serves', () => {
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-model-'));
    fs.writeFileSync(path.join(modelDir, 'model.onnx'), 'not really onnx');
    const app = new App({ context: TEST_CONTEXT });
    const stack = new AiPlatformStack(app, 'OwnModel', {
      modelDirectory: modelDir,
      modelEndpointImage: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR }),
    });
    const assembly = app.synth();
    expect(stack.modelEndpoint.node.id).toBe('ModelEndpoint');
    // The model archive is packed from the given directory at synthesis.
    const own = fs.readdirSync(assembly.directory).filter((f) => f.endsWith('.tar.gz'));
    expect(own).toHaveLength(1);
    const tar = zlib.gunzipSync(fs.readFileSync(path.join(assembly.directory, own[0]))).toString('latin1');
    expect(tar).toContain('not really onnx');
    expect(tar).not.toContain('fraud_probability'); // not the example fraud model
  });
});

describe('AiPlatformStack Kubernetes version and kubectl layer', () => {
  const image = ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR });

  test('a Kubernetes version more than one minor version from the default kubectl layer (1.34), with no kubectlLayer, fails synthesis', () => {
    const app = new App({ context: TEST_CONTEXT });
    expect(() => new AiPlatformStack(app, 'Newer', { kubernetesVersion: eks.KubernetesVersion.V1_36, modelEndpointImage: image }))
      .toThrow(/'kubernetesVersion' \("1.36"\) .*kubectl 1.34.*: pass a kubectlLayer/);
    expect(() => new AiPlatformStack(app, 'Older', { kubernetesVersion: eks.KubernetesVersion.V1_32, modelEndpointImage: image }))
      .toThrow(/'kubernetesVersion' \("1.32"\)/);
  });

  test('versions within kubectl\'s skew of one minor version, or any version with a kubectlLayer, synthesize', () => {
    const app = new App({ context: TEST_CONTEXT });
    expect(() => new AiPlatformStack(app, 'Skew', { kubernetesVersion: eks.KubernetesVersion.V1_33, modelEndpointImage: image })).not.toThrow();
    const layer = lambda.LayerVersion.fromLayerVersionArn(new App(), 'L', 'arn:aws:lambda:us-east-1:123456789012:layer:kubectl:3');
    expect(() => new AiPlatformStack(app, 'Own', { kubernetesVersion: eks.KubernetesVersion.V1_36, kubectlLayer: layer, modelEndpointImage: image })).not.toThrow();
  });
});
