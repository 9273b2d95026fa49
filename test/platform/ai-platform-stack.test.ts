import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { App, CfnElement, CfnWaitConditionHandle, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Testing } from 'cdk8s';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { ContainerImage } from '../../constructs/serving';
import { AiPlatformStack, AiPlatformStackProps } from '../../lib/ai-platform-stack';
import { buildPlatformCharts } from '../../lib/platform-chart';
import { TEST_CONTEXT } from '../helpers';
import { validateManifests } from '../k8s/validate';
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
      // g5.8xlarge and g5.16xlarge would cost 2.0 and 3.4 times as much for the same one GPU.
      InstanceTypes: ['g5.2xlarge', 'g5.4xlarge'],
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

  test('the system nodes keep instance metadata from pods (IMDSv2, hop limit 1) and encrypt their gp3 root volume, as the GPU nodes do', () => {
    const group = Object.values(template.findResources('AWS::EKS::Nodegroup')).find((g) => g.Properties.InstanceTypes?.[0] === 'm7i.large')!;
    expect(group.Properties.DiskSize).toBeUndefined(); // EKS refuses DiskSize beside a launch template
    const ltId = group.Properties.LaunchTemplate.Id.Ref as string;
    expect(group.Properties.LaunchTemplate.Version).toEqual({ 'Fn::GetAtt': [ltId, 'LatestVersionNumber'] });
    const data = template.toJSON().Resources[ltId].Properties.LaunchTemplateData;
    expect(data.MetadataOptions).toEqual({ HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 });
    expect(data.BlockDeviceMappings).toEqual([{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }]);
    // Every node group of the stack has such a template: no pod reads a node role's credentials.
    for (const g of Object.values(template.findResources('AWS::EKS::Nodegroup'))) {
      const lt = template.toJSON().Resources[g.Properties.LaunchTemplate.Id.Ref].Properties.LaunchTemplateData;
      expect(lt.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    }
  });

  test('installs the NVIDIA device plugin exactly once', () => {
    const charts = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart')).map((r) => r.Properties.Chart);
    expect(charts.filter((c) => c === 'nvidia-device-plugin')).toHaveLength(1);
  });

  test('tags only the training group for scale-from-zero', () => {
    template.resourceCountIs('Custom::NodeTemplateTags', 1);
    template.hasResourceProperties('Custom::NodeTemplateTags', {
      NodegroupName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TrainingNodes'), 'NodegroupName'] },
    });
  });

  test('the spot training group stays in one zone, where its EBS checkpoint volume is; inference spans both', () => {
    const subnetsOf = (id: string) => {
      const [group] = Object.entries(template.findResources('AWS::EKS::Nodegroup')).filter(([logicalId]) => logicalId.startsWith(id));
      return group[1].Properties.Subnets as unknown[];
    };
    expect(subnetsOf('TrainingNodes')).toHaveLength(1);
    expect(subnetsOf('InferenceNodes')).toHaveLength(2);
  });

  test('trainingSubnets picks the training group\'s zone, e.g. the one an existing checkpoint volume is in', () => {
    const app = new App({ context: { ...TEST_CONTEXT, 'availability-zones:account=123456789012:region=us-east-1': ['us-east-1a', 'us-east-1b'] } });
    const other = new AiPlatformStack(app, 'Zoned', {
      env: { account: '123456789012', region: 'us-east-1' },
      trainingSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: ['us-east-1b'] },
    });
    const wanted = other.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: ['us-east-1b'] }).subnetIds;
    expect(wanted).toHaveLength(1);
    const t = Template.fromStack(other);
    const [training] = Object.entries(t.findResources('AWS::EKS::Nodegroup')).filter(([id]) => id.startsWith('TrainingNodes'));
    expect(training[1].Properties.Subnets).toEqual(wanted.map((id) => other.resolve(id)));
  });

  test('trainingSubnets that select no subnet fail naming the prop: an environment-agnostic stack knows no zone names', () => {
    const agnostic = new App({ context: TEST_CONTEXT });
    expect(() => new AiPlatformStack(agnostic, 'NoZone', {
      trainingSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: ['us-east-1b'] },
    })).toThrow(/\[NoZone\] 'trainingSubnets' \(.*us-east-1b.*\) must select at least one subnet of the VPC, and selects none.*give the stack an env/);
    // With an env, a zone the VPC does not use: the error lists the zones it has.
    const zoned = new App({ context: { ...TEST_CONTEXT, 'availability-zones:account=123456789012:region=us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c'] } });
    expect(() => new AiPlatformStack(zoned, 'WrongZone', {
      env: { account: '123456789012', region: 'us-east-1' },
      trainingSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: ['us-east-1c'] },
    })).toThrow(/'trainingSubnets' \(.*us-east-1c.*\) must select at least one subnet of the VPC, and selects none \(the VPC's zones: us-east-1a, us-east-1b\)/);
  });

  test('trainingSubnets imported by id alone (no zone given) are accepted', () => {
    const app = new App({ context: TEST_CONTEXT });
    const network = new Stack(app, 'Network');
    new CfnWaitConditionHandle(network, 'Placeholder'); // a stack needs a resource to synthesize
    const imported = ec2.Subnet.fromSubnetId(network, 'Training', 'subnet-0123456789abcdef0');
    const byId = new AiPlatformStack(app, 'ById', { trainingSubnets: { subnets: [imported] } });
    const [training] = Object.entries(Template.fromStack(byId).findResources('AWS::EKS::Nodegroup')).filter(([id]) => id.startsWith('TrainingNodes'));
    expect(training[1].Properties.Subnets).toEqual(['subnet-0123456789abcdef0']);
  });

  test('trainingSubnets spanning several zones warn: a training job\'s checkpoint volume ties its pods to one', () => {
    const spread = new AiPlatformStack(new App({ context: TEST_CONTEXT }), 'Spread', {
      trainingSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });
    Annotations.fromStack(spread).hasWarning('/Spread', Match.stringLikeRegexp("'trainingSubnets' select subnets in 2 availability zones"));
    Annotations.fromStack(stack).hasNoWarning('/Platform', Match.stringLikeRegexp('trainingSubnets'));
  });

  // EKS standard support for 1.34 ends on 2026-12-02 (extended support costs more per cluster hour); 1.35's runs to 2027-03-27.
  test('the cluster runs Kubernetes 1.35 in private subnets', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.35' });
  });

  test('the VPC spans two zones with one NAT gateway (the cost default)', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 4);
  });

  test('S3 traffic from the private subnets (models, ECR image layers) takes a gateway endpoint, not the NAT gateway', () => {
    const endpoints = template.findResources('AWS::EC2::VPCEndpoint');
    expect(Object.values(endpoints).map((e) => e.Properties)).toEqual([expect.objectContaining({
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
    })]);
    const routeTables = (endpoints[Object.keys(endpoints)[0]].Properties.RouteTableIds as Array<{ Ref: string }>).map((r) => r.Ref);
    const privateTables = Object.entries(template.findResources('AWS::EC2::RouteTable'))
      .filter(([, t]) => JSON.stringify(t.Properties.Tags).includes('/private')).map(([id]) => id);
    expect(privateTables).toHaveLength(2);
    expect(routeTables).toEqual(expect.arrayContaining(privateTables));
  });

  test('synthesizes without warnings or errors', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });

  // The README's "What the reference platform costs at rest" lists what bills while the platform serves nothing. Each
  // line is checked against the synthesized stack (and the serving chart), so a default that changes what bills at rest
  // fails here until the README's list says so too.
  describe('what the README says bills at rest', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const heading = '### What the reference platform costs at rest';
    const start = readme.indexOf(heading);
    const section = start < 0 ? '' : readme.slice(start, readme.indexOf('\n## ', start));
    const monthly = (usdPerHour: number) => (usdPerHour * 730).toFixed(2);
    const groups = Object.values(template.findResources('AWS::EKS::Nodegroup')).map((r) => r.Properties);
    const group = (label: string) => groups.find((g) => g.Labels?.['ai-platform.dev/node-group'] === label)!;

    test('the README has the section', () => {
      expect(start).toBeGreaterThan(0);
    });

    test('the inference group\'s minimum of on-demand g5.xlarge nodes, priced from the catalog', () => {
      expect(group('inference')).toMatchObject({ CapacityType: 'ON_DEMAND', InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: 1 } });
      const price = GpuInstanceType.G5_XLARGE.onDemandPrice!.usdPerHour;
      expect(section).toContain(`one on-demand \`g5.xlarge\` ($${price}/h)`);
      expect(section).toContain(`| ${monthly(price)} |`);
    });

    test('the fixed system node group, and the training group that costs nothing at rest', () => {
      expect(group('system')).toMatchObject({ InstanceTypes: ['m7i.large'], ScalingConfig: { MinSize: 2, MaxSize: 2 } });
      expect(section).toContain('2 × `m7i.large`');
      expect(group('training')).toMatchObject({ CapacityType: 'SPOT', ScalingConfig: { MinSize: 0 } });
      expect(section).toMatch(/spot training group[^|\n]*zero nodes at rest/);
    });

    test('one NAT gateway with its public IPv4 address, and no load balancer or interface endpoint', () => {
      template.resourceCountIs('AWS::EC2::NatGateway', 1);
      template.resourceCountIs('AWS::EC2::EIP', 1);
      expect(section).toContain('| NAT gateway | 1,');
      expect(section).toContain('| Public IPv4 address | 1,');
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
      // Interface endpoints bill by the hour; the one gateway endpoint (S3) does not.
      template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' }, 0);
      template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' }, 1);
      expect(section).toContain('no load balancer and no interface VPC endpoint');
    });

    test('the SageMaker endpoint\'s minimum instances', () => {
      template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
        ProductionVariants: [Match.objectLike({ InstanceType: 'ml.c6i.large', InitialInstanceCount: 2 })],
      });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2 });
      expect(section).toContain('2 × `ml.c6i.large`');
    });

    test('the nodes\' root volumes, the KMS key and the alarms', () => {
      const sizes = Object.values(template.findResources('AWS::EC2::LaunchTemplate'))
        .map((r) => r.Properties.LaunchTemplateData.BlockDeviceMappings[0].Ebs.VolumeSize);
      expect(sizes.sort((a, b) => a - b)).toEqual([20, 200, 200]);
      expect(section).toContain('200 GiB gp3 per GPU node');
      expect(section).toContain('20 GiB gp3 per system node');
      template.resourceCountIs('AWS::KMS::Key', 1);
      expect(section).toContain('| KMS key | 1,');
      template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
      expect(section).toContain('| CloudWatch alarms | 2 ');
    });

    test('the log groups\' retention and the captured data kept without expiry', () => {
      template.hasResourceProperties('Custom::LogRetention', { RetentionInDays: 365 });
      expect(section).toContain('kept for a year');
      template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
        DataCaptureConfig: Match.objectLike({ InitialSamplingPercentage: 10 }),
      });
      template.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: Match.absent() });
      expect(section).toContain('10% of requests');
    });

    test('what stays, and bills, after the stack is deleted: the endpoint\'s bucket, key and log groups', () => {
      template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
      template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
      template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ LogGroupName: Match.stringLikeRegexp('^/aws/sagemaker/Endpoints/') }) });
      expect(section).toMatch(/After `cdk destroy`, some of it keeps billing: the stack retains the endpoint's bucket[^]*KMS\s+key[^]*log groups/);
    });

    test('the serving chart\'s minimum replicas, one GPU node each', () => {
      const charts = buildPlatformCharts(Testing.app());
      const hpa = Testing.synth(charts.serving).find((o) => o.kind === 'HorizontalPodAutoscaler');
      expect(hpa.spec.minReplicas).toBe(2);
      expect(section).toContain('keeps 2 serving pods');
    });
  });
});

describe('AiPlatformStack control-plane logs', () => {
  const image = ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR });
  const build = (props: Partial<AiPlatformStackProps>) => {
    const app = new App({ context: TEST_CONTEXT });
    return Template.fromStack(new AiPlatformStack(app, 'Logs', { modelEndpointImage: image, ...props }));
  };
  const clusterId = (t: Template) => Object.keys(t.findResources('AWS::EKS::Cluster'))[0];

  test('by default the audit and authenticator logs go to the cluster\'s log group, kept for a year', () => {
    const t = build({});
    t.hasResourceProperties('AWS::EKS::Cluster', {
      Logging: { ClusterLogging: { EnabledTypes: [{ Type: 'audit' }, { Type: 'authenticator' }] } },
    });
    // EKS names the group after the cluster; the retention is set on exactly that name.
    t.hasResourceProperties('Custom::LogRetention', {
      LogGroupName: { 'Fn::Join': ['', ['/aws/eks/', { Ref: clusterId(t) }, '/cluster']] },
      RetentionInDays: 365,
    });
  });

  test('the log types and retention can be chosen, and [] turns the logs off', () => {
    const t = build({
      controlPlaneLogging: [eks.ClusterLoggingTypes.API, eks.ClusterLoggingTypes.AUDIT, eks.ClusterLoggingTypes.SCHEDULER],
      controlPlaneLogRetention: logs.RetentionDays.THREE_MONTHS,
    });
    t.hasResourceProperties('AWS::EKS::Cluster', {
      Logging: { ClusterLogging: { EnabledTypes: [{ Type: 'api' }, { Type: 'audit' }, { Type: 'scheduler' }] } },
    });
    t.hasResourceProperties('Custom::LogRetention', { RetentionInDays: 90 });

    const off = build({ controlPlaneLogging: [] });
    off.hasResourceProperties('AWS::EKS::Cluster', { Logging: Match.absent() });
    off.resourceCountIs('Custom::LogRetention', 0);
  });

  test('a log type listed twice fails synthesis, naming it', () => {
    expect(() => build({ controlPlaneLogging: [eks.ClusterLoggingTypes.AUDIT, eks.ClusterLoggingTypes.AUDIT] }))
      .toThrow(/'controlPlaneLogging' \(\["audit","audit"\]\) names audit more than once/);
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

  test('budget adds a monthly cost budget with its alerts; without it the stack has none', () => {
    const app = new App({ context: TEST_CONTEXT });
    const stack = new AiPlatformStack(app, 'Budgeted', { budget: { monthlyLimitUsd: 2500, emails: ['finops@example.com'] } });
    expect(stack.budget?.node.id).toBe('Budget');
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Budgets::Budget', 1);
    t.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({ BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 2500, Unit: 'USD' } }),
      NotificationsWithSubscribers: Match.arrayWith([Match.objectLike({
        Subscribers: Match.arrayWith([{ SubscriptionType: 'EMAIL', Address: 'finops@example.com' }]),
      })]),
    });
    const plain = new AiPlatformStack(new App({ context: TEST_CONTEXT }), 'Plain', { modelEndpointImage: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR }) });
    expect(plain.budget).toBeUndefined();
    Template.fromStack(plain).resourceCountIs('AWS::Budgets::Budget', 0);
  });

  test('null props from a JavaScript caller mean the defaults, as no props do', () => {
    const app = new App({ context: TEST_CONTEXT });
    const stack = new AiPlatformStack(app, 'NullProps', null as unknown as AiPlatformStackProps);
    expect(stack.inferenceNodes.node.id).toBe('InferenceNodes');
    expect(stack.trainingNodes.node.id).toBe('TrainingNodes');
    expect(stack.modelEndpoint.node.id).toBe('ModelEndpoint');
  });
});

describe('AiPlatformStack node group scaling on a deployed stack', () => {
  // EKS sets a managed node group back to its desired size whenever the scaling configuration changes: a change of
  // inferenceScaling would drop the nodes cluster-autoscaler had added, unless the same change gives the current count.
  const image = ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR });

  test('inferenceScaling.desiredSize sets the inference group\'s desired size, between its minimum and maximum', () => {
    const app = new App({ context: TEST_CONTEXT });
    const stack = new AiPlatformStack(app, 'Desired', { modelEndpointImage: image, inferenceScaling: { minSize: 1, maxSize: 6, desiredSize: 3 } });
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::Nodegroup', {
      Labels: Match.objectLike({ 'ai-platform.dev/node-group': 'inference' }),
      ScalingConfig: { MinSize: 1, DesiredSize: 3, MaxSize: 6 },
    });
  });

  test('a trainingMaxSize below 1 or not whole fails synthesis, naming trainingMaxSize', () => {
    for (const trainingMaxSize of [0, 1.5, -2]) {
      const app = new App({ context: TEST_CONTEXT });
      expect(() => new AiPlatformStack(app, 'NoTraining', { modelEndpointImage: image, trainingMaxSize }))
        .toThrow(`[NoTraining] 'trainingMaxSize' (${trainingMaxSize}) must be a whole number >= 1 (the training group scales from zero to it): set trainingMaxSize to 1 or more`);
    }
  });

  test('an inferenceScaling.desiredSize outside minSize-maxSize fails synthesis, naming desiredSize', () => {
    const app = new App({ context: TEST_CONTEXT });
    expect(() => new AiPlatformStack(app, 'TooMany', { modelEndpointImage: image, inferenceScaling: { minSize: 1, maxSize: 4, desiredSize: 5 } }))
      .toThrow(/'desiredSize' \(5\) must be between 'minSize' \(1\) and 'maxSize' \(4\)/);
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

/** A CloudFormation string value with its Refs written as `${LogicalId}` (Fn::Join flattened), for JSON values holding tokens. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  if (v.Ref) return `\${${String(v.Ref)}}`;
  if (v['Fn::GetAtt']) return `\${${(v['Fn::GetAtt'] as string[]).join('.')}}`;
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

/** A resource of the synthesized template. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TemplateResource = { Properties: Record<string, any>; DependsOn?: string[] };

/** The one resource of this type whose properties match; fails unless there is exactly one. */
function onlyResource(t: Template, type: string, props: Record<string, unknown> = {}): { id: string; resource: TemplateResource } {
  const found = Object.entries(t.findResources(type, { Properties: Match.objectLike(props) }));
  expect(found).toHaveLength(1);
  const [id, resource] = found[0];
  return { id, resource: resource as TemplateResource };
}

describe('AiPlatformStack installs what the platform charts need on the cluster', () => {
  const image = ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR });
  const app = new App({ context: TEST_CONTEXT });
  const stack = new AiPlatformStack(app, 'Platform', { modelEndpointImage: image });
  const t = Template.fromStack(stack);
  const clusterId = stack.getLogicalId(stack.cluster.node.defaultChild as CfnElement);
  const systemNodesId = stack.getLogicalId(stack.systemNodes.node.defaultChild as CfnElement);
  const agent = () => onlyResource(t, 'AWS::EKS::Addon', { AddonName: 'eks-pod-identity-agent' });

  test('the Metrics Server, as the EKS community add-on metrics-server, created once the system nodes exist', () => {
    const { resource } = onlyResource(t, 'AWS::EKS::Addon', { AddonName: 'metrics-server' });
    expect(resource.Properties).toEqual({ AddonName: 'metrics-server', ClusterName: { Ref: clusterId }, PreserveOnDelete: false });
    expect(resource.DependsOn).toContain(systemNodesId);
  });

  test('the EBS CSI driver add-on gets its role through a Pod Identity association it owns, for ebs-csi-controller-sa', () => {
    const { resource } = onlyResource(t, 'AWS::EKS::Addon', { AddonName: 'aws-ebs-csi-driver' });
    const roleId = stack.getLogicalId(stack.ebsCsiDriverRole!.node.defaultChild as CfnElement);
    expect(resource.Properties).toEqual({
      AddonName: 'aws-ebs-csi-driver',
      ClusterName: { Ref: clusterId },
      PodIdentityAssociations: [{ RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] }, ServiceAccount: 'ebs-csi-controller-sa' }],
      PreserveOnDelete: false,
    });
    // Pod Identity credentials come from the agent on the node; the controller runs on the system nodes.
    expect(resource.DependsOn).toEqual(expect.arrayContaining([agent().id, systemNodesId]));
    // The association belongs to the add-on: no separate one for the driver.
    t.resourcePropertiesCountIs('AWS::EKS::PodIdentityAssociation', { ServiceAccount: 'ebs-csi-controller-sa' }, 0);
  });

  // The serving chart ships a NetworkPolicy (ingress only from the client namespaces and the metrics scraper). On EKS
  // the Amazon VPC CNI enforces NetworkPolicies only with enableNetworkPolicy (off by default): without it the policy
  // is accepted and does nothing.
  test('network policy enforcement: the vpc-cni add-on with enableNetworkPolicy, taking over the self-managed CNI and kept when removed', () => {
    const { resource } = onlyResource(t, 'AWS::EKS::Addon', { AddonName: 'vpc-cni' });
    expect(resource.Properties).toEqual({
      AddonName: 'vpc-cni',
      ClusterName: { Ref: clusterId },
      ConfigurationValues: '{"enableNetworkPolicy":"true"}',
      ResolveConflicts: 'OVERWRITE',
      PreserveOnDelete: true,
    });
    expect(stack.vpcCniAddon).toBeDefined();
  });

  test('the EKS Pod Identity agent add-on is installed once, after the system nodes', () => {
    expect(agent().resource.Properties).toEqual({ AddonName: 'eks-pod-identity-agent', ClusterName: { Ref: clusterId } });
    expect(agent().resource.DependsOn).toContain(systemNodesId);
  });

  /** The trust policy EKS Pod Identity needs, for one service account of this cluster. */
  const podIdentityTrust = (serviceAccount: string) => ({
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: {
        StringEquals: {
          'aws:RequestTag/eks-cluster-name': { Ref: clusterId },
          'aws:RequestTag/kubernetes-namespace': 'kube-system',
          'aws:RequestTag/kubernetes-service-account': serviceAccount,
        },
      },
    }],
  });

  test('the EBS CSI driver role holds AmazonEBSCSIDriverPolicy and nothing else, assumable only by the controller\'s service account', () => {
    const roleId = stack.getLogicalId(stack.ebsCsiDriverRole!.node.defaultChild as CfnElement);
    const role = t.toJSON().Resources[roleId];
    expect(role.Properties.AssumeRolePolicyDocument).toEqual(podIdentityTrust('ebs-csi-controller-sa'));
    expect(role.Properties.ManagedPolicyArns).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy']] },
    ]);
    expect(role.Properties.Policies).toBeUndefined();
    // No inline or KMS permissions attached from elsewhere: the default StorageClass uses the account's aws/ebs key.
    const attached = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId));
    expect(attached).toEqual([]);
  });

  test('a default StorageClass gp3: encrypted gp3 volumes from ebs.csi.aws.com, bound where the pod is scheduled', () => {
    const { resource } = onlyResource(t, 'Custom::AWSCDK-EKS-KubernetesResource', { Manifest: Match.stringLikeRegexp('"kind":"StorageClass"') });
    const [storageClass] = JSON.parse(resource.Properties.Manifest);
    validateManifests([storageClass]);
    expect(storageClass).toMatchObject({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'gp3', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true' },
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
      allowVolumeExpansion: true,
    });
    // No kmsKeyId: the account's default EBS key, which the driver's role needs no KMS permissions for.
    expect(storageClass.parameters.kmsKeyId).toBeUndefined();
    expect(resource.DependsOn).toContain(stack.getLogicalId(stack.ebsCsiDriverAddon!.node.defaultChild as CfnElement));
  });

  const autoscaler = () => onlyResource(t, 'Custom::AWSCDK-EKS-HelmChart', { Chart: 'cluster-autoscaler' });

  test('cluster-autoscaler from its Helm chart 9.59.0 (cluster-autoscaler 1.35.0, for Kubernetes 1.35), in kube-system', () => {
    const { resource } = autoscaler();
    expect(resource.Properties).toMatchObject({
      Chart: 'cluster-autoscaler',
      Repository: 'https://kubernetes.github.io/autoscaler',
      Version: '9.59.0',
      Namespace: 'kube-system',
      Release: 'cluster-autoscaler',
    });
    expect(resource.Properties.CreateNamespace).toBeUndefined();
  });

  test('cluster-autoscaler discovers the groups by the cluster\'s name, runs on the system nodes, balances similar groups and wastes least', () => {
    const values = JSON.parse(flatten(autoscaler().resource.Properties.Values));
    expect(values).toEqual({
      cloudProvider: 'aws',
      awsRegion: '${AWS::Region}',
      autoDiscovery: { clusterName: `\${${clusterId}}` },
      rbac: { serviceAccount: { create: true, name: 'cluster-autoscaler' } },
      nodeSelector: { 'ai-platform.dev/node-group': 'system' },
      resources: { requests: { cpu: '100m', memory: '600Mi' } },
      extraArgs: { 'balance-similar-node-groups': true, 'expander': 'least-waste' },
    });
    // The system nodes carry that label; the GPU groups carry their own value of it.
    t.hasResourceProperties('AWS::EKS::Nodegroup', { InstanceTypes: ['m7i.large'], Labels: { 'ai-platform.dev/node-group': 'system' } });
    expect(stack.inferenceNodes.nodeLabels['ai-platform.dev/node-group']).not.toBe('system');
    expect(stack.trainingNodes.nodeLabels['ai-platform.dev/node-group']).not.toBe('system');
  });

  test('cluster-autoscaler\'s role: Pod Identity for kube-system/cluster-autoscaler, the chart installed only after the association', () => {
    const roleId = stack.getLogicalId(stack.clusterAutoscalerRole!.node.defaultChild as CfnElement);
    const association = onlyResource(t, 'AWS::EKS::PodIdentityAssociation', { ServiceAccount: 'cluster-autoscaler' });
    expect(association.resource.Properties).toEqual({
      ClusterName: { Ref: clusterId },
      Namespace: 'kube-system',
      ServiceAccount: 'cluster-autoscaler',
      RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
    expect(t.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument).toEqual(podIdentityTrust('cluster-autoscaler'));
    // EKS injects the credentials when the pod starts: association, permissions and agent must exist by then.
    const policyId = Object.keys(t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }))[0];
    expect(autoscaler().resource.DependsOn).toEqual(expect.arrayContaining([association.id, policyId, agent().id]));
  });

  test('cluster-autoscaler\'s permissions: Describe* on *, its cluster\'s node groups, and scaling only this cluster\'s groups', () => {
    const roleId = stack.getLogicalId(stack.clusterAutoscalerRole!.node.defaultChild as CfnElement);
    const { resource } = onlyResource(t, 'AWS::IAM::Policy', { Roles: [{ Ref: roleId }] });
    expect(resource.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'Describe',
        Effect: 'Allow',
        Action: [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeLaunchConfigurations',
          'autoscaling:DescribeScalingActivities',
          'autoscaling:DescribeTags',
          'ec2:DescribeImages',
          'ec2:DescribeInstanceTypes',
          'ec2:DescribeLaunchTemplateVersions',
          'ec2:GetInstanceTypesFromInstanceRequirements',
        ],
        Resource: '*',
      },
      {
        Sid: 'DescribeNodegroups',
        Effect: 'Allow',
        Action: 'eks:DescribeNodegroup',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':nodegroup/', { Ref: clusterId }, '/*']] },
      },
      {
        Sid: 'ScaleThisClustersGroups',
        Effect: 'Allow',
        Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:ResourceTag/eks:cluster-name': { Ref: clusterId } } },
      },
    ]);
    expect(t.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the stack exposes what it installed', () => {
    expect(stack.metricsServerAddon).toBeDefined();
    expect(stack.ebsCsiDriverAddon).toBeDefined();
    expect(stack.defaultStorageClass).toBeDefined();
    expect(stack.clusterAutoscalerChart).toBeDefined();
  });
});

describe('AiPlatformStack cluster add-on opt-outs', () => {
  const image = ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR });
  function platform(props: Partial<AiPlatformStackProps>) {
    const app = new App({ context: TEST_CONTEXT });
    const stack = new AiPlatformStack(app, 'Platform', { modelEndpointImage: image, ...props });
    return { stack, t: Template.fromStack(stack) };
  }
  const addonNames = (t: Template) => Object.values(t.findResources('AWS::EKS::Addon')).map((r) => r.Properties.AddonName).sort();
  const manifests = (t: Template) => Object.values(t.findResources('Custom::AWSCDK-EKS-KubernetesResource')).map((r) => flatten(r.Properties.Manifest));
  const charts = (t: Template) => Object.values(t.findResources('Custom::AWSCDK-EKS-HelmChart')).map((r) => r.Properties.Chart);
  const podIdentityRoles = (t: Template) => Object.values(t.findResources('AWS::IAM::Role'))
    .filter((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('pods.eks.amazonaws.com'));

  test('metricsServer: false leaves out the metrics-server add-on, and only it', () => {
    const { stack, t } = platform({ metricsServer: false });
    expect(addonNames(t)).toEqual(['aws-ebs-csi-driver', 'eks-pod-identity-agent', 'vpc-cni']);
    expect(stack.metricsServerAddon).toBeUndefined();
    expect(charts(t)).toContain('cluster-autoscaler');
  });

  test('ebsCsiDriver: false leaves out the driver add-on, its role and the default StorageClass', () => {
    const { stack, t } = platform({ ebsCsiDriver: false });
    expect(addonNames(t)).toEqual(['eks-pod-identity-agent', 'metrics-server', 'vpc-cni']);
    expect(manifests(t).filter((m) => m.includes('"kind":"StorageClass"'))).toEqual([]);
    expect(JSON.stringify(t.toJSON())).not.toContain('AmazonEBSCSIDriverPolicy');
    expect(podIdentityRoles(t)).toHaveLength(1); // cluster-autoscaler's
    expect(stack.ebsCsiDriverAddon ?? stack.ebsCsiDriverRole ?? stack.defaultStorageClass).toBeUndefined();
  });

  test('clusterAutoscaler: false leaves out the chart, its role, policy and Pod Identity association', () => {
    const { stack, t } = platform({ clusterAutoscaler: false });
    expect(charts(t)).toEqual(['nvidia-device-plugin']);
    t.resourceCountIs('AWS::EKS::PodIdentityAssociation', 0);
    expect(JSON.stringify(t.toJSON())).not.toContain('autoscaling:SetDesiredCapacity');
    expect(podIdentityRoles(t)).toHaveLength(1); // the EBS CSI driver's
    expect(stack.clusterAutoscalerChart ?? stack.clusterAutoscalerRole).toBeUndefined();
    expect(addonNames(t)).toEqual(['aws-ebs-csi-driver', 'eks-pod-identity-agent', 'metrics-server', 'vpc-cni']);
  });

  test('networkPolicy: false leaves out the vpc-cni add-on, and only it', () => {
    const { stack, t } = platform({ networkPolicy: false });
    expect(addonNames(t)).toEqual(['aws-ebs-csi-driver', 'eks-pod-identity-agent', 'metrics-server']);
    expect(stack.vpcCniAddon).toBeUndefined();
  });

  test('with all four off, no add-on, Pod Identity agent or role is added', () => {
    const { t } = platform({ metricsServer: false, ebsCsiDriver: false, clusterAutoscaler: false, networkPolicy: false });
    t.resourceCountIs('AWS::EKS::Addon', 0);
    t.resourceCountIs('AWS::EKS::PodIdentityAssociation', 0);
    expect(podIdentityRoles(t)).toEqual([]);
    expect(charts(t)).toEqual(['nvidia-device-plugin']);
    expect(manifests(t).filter((m) => m.includes('"kind":"StorageClass"'))).toEqual([]);
  });

  test('on a Kubernetes version other than 1.35, synthesis warns that cluster-autoscaler 1.35.0 is not its release', () => {
    const { stack } = platform({ kubernetesVersion: eks.KubernetesVersion.V1_34 });
    Annotations.fromStack(stack).hasWarning('/Platform', Match.stringLikeRegexp(
      'cluster-autoscaler 1\\.35\\.0 \\(chart 9\\.59\\.0\\) is the release for Kubernetes 1\\.35, and the cluster runs 1\\.34.*Set clusterAutoscaler: false'));
    expect(Annotations.fromStack(platform({}).stack).findWarning('*', Match.stringLikeRegexp('cluster-autoscaler'))).toEqual([]);
    const off = platform({ kubernetesVersion: eks.KubernetesVersion.V1_34, clusterAutoscaler: false });
    expect(Annotations.fromStack(off.stack).findWarning('*', Match.stringLikeRegexp('cluster-autoscaler'))).toEqual([]);
  });

  test('the add-ons add no unacknowledged cdk-nag AwsSolutions finding, and each acknowledgement is granular', () => {
    const errors = (stack: AiPlatformStack) => new Set(new AwsSolutionsChecks().validateScope(stack).violations
      .filter((v) => v.severity === 'error')
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)));
    const all = platform({}).stack;
    const none = platform({ metricsServer: false, ebsCsiDriver: false, clusterAutoscaler: false, networkPolicy: false }).stack;
    const before = errors(none);
    expect([...errors(all)].filter((e) => !before.has(e))).toEqual([]);
    // The findings the add-ons acknowledge are named one by one, each with its reason.
    const acknowledged: string[] = [];
    for (const c of all.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && /EbsCsiDriver|ClusterAutoscaler/.test(c.node.path)) {
          for (const [key, reason] of Object.entries(m.data as Record<string, string>)) {
            const id = key.replace(/^annotation::/i, '');
            expect(id).toMatch(/^AwsSolutions-IAM[45]\[.+\]$/);
            expect(reason.length).toBeGreaterThan(40);
            acknowledged.push(id);
          }
        }
      }
    }
    expect(acknowledged.sort()).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:<AWS::Region>:<AWS::AccountId>:nodegroup/<ClusterEB0386A7>/*]',
    ].sort());
  });
});

describe('AiPlatformStack cluster access', () => {
  // The cluster authenticates with access entries only, and EKS makes only the cluster's creator an admin: here
  // CloudFormation's execution role, which no person can assume. Without an entry of their own, nobody could run
  // `kubectl apply -k dist/k8s` or install Argo CD or Flux on the reference platform.
  const image = ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR });

  test('clusterAdminRoles get an access entry with the cluster admin policy on the whole cluster, once per role', () => {
    const app = new App({ context: TEST_CONTEXT });
    const stack = new AiPlatformStack(app, 'Admins', { modelEndpointImage: image });
    const admin = iam.Role.fromRoleArn(stack, 'Admin', 'arn:aws:iam::123456789012:role/platform/Admin');
    const gitops = iam.Role.fromRoleArn(stack, 'GitOps', 'arn:aws:iam::123456789012:role/ArgoCD');
    stack.grantClusterAdmin(admin);
    stack.grantClusterAdmin(gitops);
    stack.grantClusterAdmin(admin); // a principal can be in one access entry only: a second grant adds none
    const t = Template.fromStack(stack);
    for (const arn of ['arn:aws:iam::123456789012:role/platform/Admin', 'arn:aws:iam::123456789012:role/ArgoCD']) {
      t.resourcePropertiesCountIs('AWS::EKS::AccessEntry', { PrincipalArn: arn }, 1);
      t.hasResourceProperties('AWS::EKS::AccessEntry', {
        PrincipalArn: arn,
        ClusterName: { Ref: Match.stringLikeRegexp('^Cluster') },
        AccessPolicies: [{
          AccessScope: { Type: 'cluster' },
          PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy']] },
        }],
      });
    }
  });

  test('the clusterAdminRoles prop grants the same access', () => {
    const app = new App({ context: TEST_CONTEXT });
    // A role imported in another stack's scope, with a literal ARN.
    const roles = new Stack(app, 'Roles');
    new CfnWaitConditionHandle(roles, 'NotEmpty'); // CloudFormation refuses a template without resources
    const admin = iam.Role.fromRoleArn(roles, 'Admin', 'arn:aws:iam::123456789012:role/Admin');
    const stack = new AiPlatformStack(app, 'AdminsProp', { modelEndpointImage: image, clusterAdminRoles: [admin] });
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: 'arn:aws:iam::123456789012:role/Admin',
      AccessPolicies: [Match.objectLike({ AccessScope: { Type: 'cluster' } })],
    });
    // The kubectl provider's entry, and the admin's.
    Template.fromStack(stack).resourceCountIs('AWS::EKS::AccessEntry', 2);
  });

  test('by default the API server endpoint is public, from any address, and private (what the README says)', () => {
    const app = new App({ context: TEST_CONTEXT });
    const t = Template.fromStack(new AiPlatformStack(app, 'PublicEndpoint', { modelEndpointImage: image }));
    t.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: true, EndpointPrivateAccess: true, PublicAccessCidrs: Match.absent() }),
    });
  });

  test('endpointAccess keeps the API server endpoint inside the VPC, or limits its public side to given addresses', () => {
    const privateOnly = Template.fromStack(new AiPlatformStack(new App({ context: TEST_CONTEXT }), 'PrivateEndpoint', { modelEndpointImage: image, endpointAccess: eks.EndpointAccess.PRIVATE }));
    privateOnly.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: false, EndpointPrivateAccess: true }),
    });
    const limited = Template.fromStack(new AiPlatformStack(new App({ context: TEST_CONTEXT }), 'LimitedEndpoint', {
      modelEndpointImage: image, endpointAccess: eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom('203.0.113.0/24'),
    }));
    limited.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: true, EndpointPrivateAccess: true, PublicAccessCidrs: ['203.0.113.0/24'] }),
    });
  });

  test('outputs the cluster name and the command that writes a kubeconfig for it', () => {
    const app = new App({ context: TEST_CONTEXT });
    const stack = new AiPlatformStack(app, 'Outputs', { modelEndpointImage: image });
    const t = Template.fromStack(stack);
    t.hasOutput('ClusterName', { Value: { Ref: Match.stringLikeRegexp('^Cluster') } });
    const command = flatten(t.findOutputs('KubeconfigCommand').KubeconfigCommand.Value);
    expect(command).toMatch(/^aws eks update-kubeconfig --name \$\{Cluster[A-Z0-9]+\} --region \$\{AWS::Region\}$/);
  });
});
