import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { CostEstimate, CostEstimateOptions, CostStatus } from '../../constructs/cost';
import { PlatformError } from '../../lib/private/errors';
import { TEST_CONTEXT } from '../helpers';
import { cents, H, line, nodegroup } from './helpers';

// Hand-written templates, one concern each: what the estimate reads from plain CloudFormation JSON.
type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

function estimate(resources: Resources, parameters: Record<string, unknown> = {}): CostEstimate {
  return CostEstimate.fromTemplates([{ stackName: 'S', template: { Parameters: parameters, Resources: resources } }]);
}

const G5_XLARGE = GpuInstanceType.G5_XLARGE.onDemandPrice!.usdPerHour;
const G5_2XLARGE = GpuInstanceType.G5_2XLARGE.onDemandPrice!.usdPerHour;
const G5_4XLARGE = GpuInstanceType.G5_4XLARGE.onDemandPrice!.usdPerHour;
const ML_G5_XLARGE = GpuInstanceType.G5_XLARGE.sageMakerPrice!.usdPerHour;


describe('CostEstimate: EKS', () => {
  test('a cluster bills $0.10 an hour in standard support, and the note gives the extended-support rate', () => {
    const e = estimate({ C: { Type: 'AWS::EKS::Cluster', Properties: { Version: '1.35' } } });
    const c = line(e, 'C');
    expect(c).toMatchObject({ status: CostStatus.PRICED, quantityAtRest: 1, monthlyUsdAtRest: 73, monthlyUsdAtMost: 73, unitPrice: { usd: 0.1, per: 'hour' } });
    expect(c.description).toContain('Kubernetes 1.35');
    expect(c.note).toMatch(/\$0\.60\/h \(\$438\.00\/month\) once Kubernetes 1\.35 leaves standard support/);
    expect(c.unitPrice!.source).toMatch(/eks_cluster_test/);
  });

  test('an aws-eks v1 cluster (Custom::AWSCDK-EKS-Cluster) is priced as a cluster', () => {
    const e = estimate({ C: { Type: 'Custom::AWSCDK-EKS-Cluster', Properties: { Config: { version: '1.34' } } } });
    expect(line(e, 'C')).toMatchObject({ status: CostStatus.PRICED, monthlyUsdAtRest: 73, description: expect.stringContaining('1.34') });
  });

  test('an on-demand node group: MinSize nodes at rest, MaxSize at most, and EKS\'s default 20 GiB gp2 disk per node', () => {
    const e = estimate({ N: nodegroup({ InstanceTypes: ['g5.xlarge'], CapacityType: 'ON_DEMAND', ScalingConfig: { MinSize: 1, DesiredSize: 1, MaxSize: 4 } }) });
    expect(line(e, 'N', /node group,/)).toMatchObject({
      status: CostStatus.PRICED, quantityAtRest: 1, quantityAtMost: 4, unit: 'node',
      monthlyUsdAtRest: cents(G5_XLARGE * H), monthlyUsdAtMost: cents(4 * G5_XLARGE * H),
    });
    expect(line(e, 'N', /EBS/)).toMatchObject({
      status: CostStatus.PRICED, quantityAtRest: 20, quantityAtMost: 80, unit: 'GB', monthlyUsdAtRest: 2, monthlyUsdAtMost: 8,
      unitPrice: { usd: 0.1, per: 'GB-month' },
    });
    expect(e.monthlyUsdAtRest).toBe(cents(G5_XLARGE * H + 2));
  });

  test('a spot node group is priced at the on-demand rate as an upper bound: the cheapest type at rest, the dearest at most', () => {
    const e = estimate({ N: nodegroup({ InstanceTypes: ['g5.4xlarge', 'g5.2xlarge'], CapacityType: 'SPOT', ScalingConfig: { MinSize: 1, MaxSize: 8 } }) });
    const n = line(e, 'N', /node group,/);
    expect(n).toMatchObject({
      monthlyUsdAtRest: cents(G5_2XLARGE * H), monthlyUsdAtMost: cents(8 * G5_4XLARGE * H),
      unitPrice: { usd: G5_2XLARGE }, unitPriceAtMost: { usd: G5_4XLARGE },
    });
    expect(n.description).toContain('spot');
    expect(n.note).toMatch(/on-demand rate, as an upper bound: the price tables hold no spot prices/);
    expect(n.note).toMatch(/at rest priced as g5\.2xlarge, the cheapest.*g5\.4xlarge, the dearest/);
    expect(n.spot).toBe(true);
    // The report's headline says how much of the figure at most is that upper bound; an on-demand group adds nothing to it.
    const both = estimate({
      N: nodegroup({ InstanceTypes: ['g5.4xlarge', 'g5.2xlarge'], CapacityType: 'SPOT', ScalingConfig: { MinSize: 1, MaxSize: 8 } }),
      O: nodegroup({ InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: 1, MaxSize: 2 } }),
    });
    expect(line(both, 'O', /node group,/).spot).toBeUndefined();
    const spotAtMost = cents(8 * G5_4XLARGE * H).toLocaleString('en-US', { minimumFractionDigits: 2 });
    expect(both.toMarkdown()).toContain(`Of the figure at most, $${spotAtMost} is spot capacity priced at the on-demand rate, an upper bound: spot usually costs less.`);
    expect(estimate({ O: nodegroup({ InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: 1, MaxSize: 2 } }) }).toMarkdown()).not.toContain('spot capacity priced');
  });

  test('root volumes come from the launch template the node group references (Ref to its Id), per node, gp3 IOPS above 3,000 included', () => {
    const e = estimate({
      LT: { Type: 'AWS::EC2::LaunchTemplate', Properties: { LaunchTemplateData: { BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 200, VolumeType: 'gp3' } },
        { DeviceName: '/dev/xvdb', Ebs: { VolumeSize: 100, VolumeType: 'gp3', Iops: 4000 } },
      ] } } },
      N: nodegroup({ InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: 2, MaxSize: 3 }, LaunchTemplate: { Id: { Ref: 'LT' }, Version: '1' } }),
    });
    const perNode = 300 * 0.08 + 1000 * 0.005;
    expect(line(e, 'N', /EBS/)).toMatchObject({
      status: CostStatus.PRICED, quantityAtRest: 600, quantityAtMost: 900, monthlyUsdAtRest: cents(2 * perNode), monthlyUsdAtMost: cents(3 * perNode),
      description: expect.stringContaining('200 GiB gp3 + 100 GiB gp3 per node'),
    });
    expect(line(e, 'LT').status).toBe(CostStatus.NOT_BILLED);
  });

  test('a launch template named by its LaunchTemplateName is found too; DiskSize is gp2; no InstanceTypes means t3.medium', () => {
    const byName = estimate({
      LT: { Type: 'AWS::EC2::LaunchTemplate', Properties: { LaunchTemplateName: 'nodes', LaunchTemplateData: { InstanceType: 'm7i.large', BlockDeviceMappings: [{ Ebs: { VolumeSize: 50, VolumeType: 'gp3' } }] } } },
      N: nodegroup({ ScalingConfig: { MinSize: 1, MaxSize: 1 }, LaunchTemplate: { Name: 'nodes' } }),
    });
    expect(line(byName, 'N', /EBS/)).toMatchObject({ monthlyUsdAtRest: 4 });
    expect(line(byName, 'N', /node group,/)).toMatchObject({ description: expect.stringContaining('m7i.large'), monthlyUsdAtRest: cents(0.1008 * H) });

    const e = estimate({ N: nodegroup({ DiskSize: 50, ScalingConfig: { MinSize: 1, MaxSize: 2 } }) });
    expect(line(e, 'N', /EBS/)).toMatchObject({ quantityAtRest: 50, monthlyUsdAtRest: 5, description: expect.stringContaining('50 GiB gp2') });
    const n = line(e, 'N', /node group,/);
    expect(n).toMatchObject({ status: CostStatus.PRICED, description: expect.stringContaining('t3.medium'), monthlyUsdAtRest: cents(0.0416 * H) });
    expect(n.note).toMatch(/no InstanceTypes: EKS launches t3\.medium/);
  });

  test('a DesiredSize above MinSize is noted: the group comes down to MinSize only with an autoscaler', () => {
    const e = estimate({ N: nodegroup({ InstanceTypes: ['m7i.large'], ScalingConfig: { MinSize: 1, DesiredSize: 3, MaxSize: 3 } }) });
    expect(line(e, 'N', /node group,/).note).toMatch(/starts with DesiredSize 3 nodes and comes down to MinSize only with an autoscaler/);
  });

  test('an instance type in neither price table is unpriced and listed, never priced at zero', () => {
    const e = estimate({
      N: nodegroup({ InstanceTypes: ['x9.huge'], ScalingConfig: { MinSize: 2, MaxSize: 5 } }),
      M: nodegroup({ InstanceTypes: ['g5.xlarge', 'x9.huge'], ScalingConfig: { MinSize: 1, MaxSize: 1 } }),
    });
    const n = line(e, 'N', /node group,/);
    expect(n).toMatchObject({ status: CostStatus.UNPRICED, quantityAtRest: 2, quantityAtMost: 5 });
    expect(n.monthlyUsdAtRest).toBeUndefined();
    expect(n.note).toMatch(/no price for x9\.huge/);
    // One unknown type among known ones: the range is unknown, so the line is unpriced too.
    expect(line(e, 'M', /node group,/).status).toBe(CostStatus.UNPRICED);
    expect(e.unpriced.map((i) => i.logicalId).sort()).toEqual(['M', 'N']);
    // Only the disks are in the totals.
    expect(e.monthlyUsdAtRest).toBe(6);
    expect(e.toMarkdown()).toMatch(/\*\*Unpriced\*\*[^]*`N` \(AWS::EKS::Nodegroup\).*x9\.huge.*\(2 nodes at rest, 5 nodes at most\): no price for x9\.huge/);
  });

  test('a token in the scaling config or the instance types makes the line unpriced with a note, and does not throw', () => {
    const e = estimate({
      N: nodegroup({ InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: { Ref: 'Min' }, MaxSize: 4 } }),
      T: nodegroup({ InstanceTypes: { 'Fn::Split': [',', { Ref: 'Types' }] }, ScalingConfig: { MinSize: 1, MaxSize: 1 } }),
      L: nodegroup({ InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: 1, MaxSize: 1 }, LaunchTemplate: { Id: 'lt-0123' } }),
    }, { Min: { Type: 'Number', Default: 3 } });
    const n = line(e, 'N', /node group,/);
    expect(n.status).toBe(CostStatus.UNPRICED);
    expect(n.note).toBe('ScalingConfig.MinSize is a Ref to the parameter Min (default 3), known only at deployment');
    expect(line(e, 'N', /EBS/).status).toBe(CostStatus.UNPRICED);
    expect(line(e, 'T', /node group,/).note).toMatch(/InstanceTypes is an Fn::Split this estimate does not resolve/);
    // The instances are priced; the disks of a launch template outside the template are not.
    expect(line(e, 'L', /node group,/).status).toBe(CostStatus.PRICED);
    expect(line(e, 'L', /EBS/)).toMatchObject({ status: CostStatus.UNPRICED, note: expect.stringMatching(/launch template \(Id "lt-0123"\) is not in this template/) });
  });
});

describe('CostEstimate: SageMaker endpoints', () => {
  const config = (variants: unknown[]) => ({ Type: 'AWS::SageMaker::EndpointConfig', Properties: { ProductionVariants: variants } });
  const endpoint = (props: Record<string, unknown> = {}) => ({
    Type: 'AWS::SageMaker::Endpoint', Properties: { EndpointConfigName: { 'Fn::GetAtt': ['Config', 'EndpointConfigName'] }, ...props },
  });
  const target = (resourceId: unknown, min: unknown = 1, max: unknown = 3) => ({
    Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
    Properties: { ServiceNamespace: 'sagemaker', ScalableDimension: 'sagemaker:variant:DesiredInstanceCount', ResourceId: resourceId, MinCapacity: min, MaxCapacity: max },
  });
  const variant = { VariantName: 'AllTraffic', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 2, ModelName: 'm' };

  test('without a scalable target, the variant bills InitialInstanceCount instances at the catalog\'s SageMaker price', () => {
    const e = estimate({ Config: config([variant]), Endpoint: endpoint() });
    expect(line(e, 'Config')).toMatchObject({
      status: CostStatus.PRICED, quantityAtRest: 2, quantityAtMost: 2, unit: 'instance', unitPrice: { usd: ML_G5_XLARGE },
      monthlyUsdAtRest: cents(2 * ML_G5_XLARGE * H), note: expect.stringContaining('no autoscaling'),
    });
  });

  test('the variant\'s scalable target (ResourceId an Fn::Join of endpoint/, a Ref to the endpoint, /variant/<name>) gives min and max', () => {
    const e = estimate({
      Config: config([variant]),
      Endpoint: endpoint(),
      Target: target({ 'Fn::Join': ['', ['endpoint/', { 'Fn::GetAtt': ['Endpoint', 'EndpointName'] }, '/variant/AllTraffic']] }, 1, 5),
      // A target of another variant and one of another service do not apply.
      Other: target({ 'Fn::Join': ['', ['endpoint/', { Ref: 'Endpoint' }, '/variant/Shadow']] }, 9, 9),
      Ddb: { Type: 'AWS::ApplicationAutoScaling::ScalableTarget', Properties: { ServiceNamespace: 'dynamodb', ResourceId: 'table/t', MinCapacity: 7, MaxCapacity: 7 } },
    });
    expect(line(e, 'Config')).toMatchObject({
      quantityAtRest: 1, quantityAtMost: 5, monthlyUsdAtRest: cents(ML_G5_XLARGE * H), monthlyUsdAtMost: cents(5 * ML_G5_XLARGE * H),
      note: expect.stringContaining('autoscaled by Target'),
    });
  });

  test('a Ref in an Fn::Sub, and a literal ResourceId naming the endpoint\'s EndpointName, link the target too', () => {
    const sub = estimate({ Config: config([variant]), Endpoint: endpoint(), T: target({ 'Fn::Sub': 'endpoint/${Endpoint.EndpointName}/variant/AllTraffic' }, 3, 4) });
    expect(line(sub, 'Config')).toMatchObject({ quantityAtRest: 3, quantityAtMost: 4 });
    const literal = estimate({ Config: config([variant]), Endpoint: endpoint({ EndpointName: 'fraud' }), T: target('endpoint/fraud/variant/AllTraffic', 2, 6) });
    expect(line(literal, 'Config')).toMatchObject({ quantityAtRest: 2, quantityAtMost: 6 });
    // A target of an endpoint by another name does not apply.
    const other = estimate({ Config: config([variant]), Endpoint: endpoint({ EndpointName: 'fraud' }), T: target('endpoint/other/variant/AllTraffic', 5, 6) });
    expect(line(other, 'Config')).toMatchObject({ quantityAtRest: 2, quantityAtMost: 2 });
  });

  test('a serverless variant bills per use: listed as usage-based, nothing at rest', () => {
    const e = estimate({ Config: config([{ VariantName: 'S', ModelName: 'm', ServerlessConfig: { MaxConcurrency: 5, MemorySizeInMB: 2048 } }]), Endpoint: endpoint() });
    const s = line(e, 'Config');
    expect(s.status).toBe(CostStatus.USAGE_BASED);
    expect(s.monthlyUsdAtRest).toBeUndefined();
    expect(e.monthlyUsdAtRest).toBe(0);
    expect(e.toMarkdown()).toMatch(/\*\*Usage-based\*\*[^]*AWS::SageMaker::EndpointConfig × 1: SageMaker endpoint variant S .*serverless/);
  });

  test('a CPU ml. type is unpriced (no checkable SageMaker rate), with its instance counts; a token instance type too', () => {
    const e = estimate({
      Config: config([{ ...variant, InstanceType: 'ml.c6i.large' }, { ...variant, VariantName: 'B', InstanceType: { Ref: 'Type' } }]),
      Endpoint: endpoint(),
      T: target({ 'Fn::Join': ['', ['endpoint/', { Ref: 'Endpoint' }, '/variant/AllTraffic']] }, 2, 6),
    }, { Type: { Type: 'String' } });
    const [c6i, token] = e.items.filter((i) => i.logicalId === 'Config');
    expect(c6i).toMatchObject({ status: CostStatus.UNPRICED, quantityAtRest: 2, quantityAtMost: 6, note: expect.stringMatching(/^no SageMaker price for ml\.c6i\.large/) });
    expect(token).toMatchObject({ status: CostStatus.UNPRICED, note: 'InstanceType is a Ref to the parameter Type, known only at deployment' });
  });

  test('instancePrices price what the tables lack (a CPU ml. type) and replace what they have (a negotiated EC2 rate), named as given in the report', () => {
    const resources: Resources = {
      Config: config([{ ...variant, InstanceType: 'ml.c6i.large' }]),
      Endpoint: endpoint(),
      T: target({ 'Fn::Join': ['', ['endpoint/', { Ref: 'Endpoint' }, '/variant/AllTraffic']] }, 2, 6),
      N: nodegroup({ InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: 1, MaxSize: 2 } }),
    };
    const e = CostEstimate.fromTemplates([{ stackName: 'S', template: { Resources: resources } }], {
      instancePrices: { 'ml.c6i.large': 0.119, 'g5.xlarge': { usdPerHour: 0.8, source: 'our rate card', asOf: '2026-12-01' } },
    });
    expect(line(e, 'Config')).toMatchObject({
      status: CostStatus.PRICED, quantityAtRest: 2, quantityAtMost: 6, monthlyUsdAtRest: cents(2 * 0.119 * H), monthlyUsdAtMost: cents(6 * 0.119 * H),
      unitPrice: { usd: 0.119, per: 'hour', source: 'given by the caller (instancePrices)', asOf: 'not given' },
    });
    expect(line(e, 'N', /node group,/)).toMatchObject({ monthlyUsdAtRest: cents(0.8 * H), unitPrice: { usd: 0.8, source: 'our rate card', asOf: '2026-12-01' } });
    expect(e.unpriced).toEqual([]);
    expect(e.toMarkdown()).toContain('| $0.119/h | `Config` | given by the caller (instancePrices) | not given |');
    // Without them, the ml. type is unpriced and says where a price can be given.
    expect(line(estimate(resources), 'Config').note).toMatch(/give it in instancePrices/);
  });

  test('instancePrices that are not positive hourly prices by instance type name fail, naming the entry', () => {
    const prices = (instancePrices: unknown) => () => CostEstimate.fromTemplates([], { instancePrices } as CostEstimateOptions);
    expect(prices({ 'ml.c6i.large': 0 })).toThrow(/^'instancePrices\["ml.c6i.large"\]' \(0\) must be a positive number of USD per hour/);
    expect(prices({ 'm5.large': '0.096' })).toThrow(/^'instancePrices\["m5.large"\]' \("0.096"\) must be a positive number/);
    expect(prices({ 'm5.large': { usdPerHour: Infinity } })).toThrow(/'instancePrices\["m5.large"\]'/);
    expect(prices({ 'm5.large': null })).toThrow(/'instancePrices\["m5.large"\]' \(null\)/);
    expect(prices({ 'M5 large': 0.1 })).toThrow(/^'instancePrices' \("M5 large"\) must be keyed by instance type names/);
    expect(prices([0.1])).toThrow(/^'instancePrices' \(\[0.1\]\) must be an object of instance type names to USD per hour/);
    expect(() => CostEstimate.fromCloudAssembly('/nonexistent', { instancePrices: { 'm5.large': -1 } })).toThrow(/'instancePrices\["m5.large"\]' \(-1\)/);
  });

  test('a configuration no endpoint of the template uses is still priced, and says so', () => {
    const e = estimate({ Config: config([variant]) });
    expect(line(e, 'Config').note).toMatch(/no endpoint in this template uses this configuration/);
  });
});

describe('CostEstimate: networking, keys, alarms, volumes', () => {
  test('NAT gateway, Elastic IP, interface endpoint per subnet, load balancer, KMS key', () => {
    const e = estimate({
      Nat: { Type: 'AWS::EC2::NatGateway', Properties: { SubnetId: 's' } },
      Ip: { Type: 'AWS::EC2::EIP', Properties: { Domain: 'vpc' } },
      Iface: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ecr.api', SubnetIds: ['a', 'b'] } },
      Gw: { Type: 'AWS::EC2::VPCEndpoint', Properties: { ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] } } },
      Lb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Type: 'network', Scheme: 'internal', Subnets: ['a', 'b'] } },
      Key: { Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } },
    });
    expect(line(e, 'Nat')).toMatchObject({ monthlyUsdAtRest: 32.85, note: expect.stringContaining('$0.045 per GB') });
    expect(line(e, 'Ip')).toMatchObject({ monthlyUsdAtRest: 3.65 });
    expect(line(e, 'Iface')).toMatchObject({ status: CostStatus.PRICED, quantityAtRest: 2, monthlyUsdAtRest: 14.6 });
    expect(line(e, 'Gw')).toMatchObject({ status: CostStatus.NOT_BILLED, description: expect.stringContaining('Gateway, s3') });
    expect(line(e, 'Lb')).toMatchObject({ status: CostStatus.PRICED, description: expect.stringContaining('Network load balancer') });
    expect(line(e, 'Lb').monthlyUsdAtRest).toBeCloseTo(0.0225 * H, 1);
    expect(line(e, 'Key')).toMatchObject({ monthlyUsdAtRest: 1 });
  });

  test('an interface endpoint whose subnets are a token is unpriced', () => {
    const e = estimate({ I: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface', SubnetIds: { Ref: 'Subnets' } } } }, { Subnets: { Type: 'List<String>' } });
    expect(line(e, 'I')).toMatchObject({ status: CostStatus.UNPRICED, note: expect.stringContaining('a Ref to the parameter Subnets') });
  });

  test('alarms: standard $0.10, high resolution $0.30, a metric-math alarm pays per metric it reads', () => {
    const stat = (period: number) => ({ MetricStat: { Metric: { MetricName: 'm', Namespace: 'n' }, Period: period, Stat: 'Sum' } });
    const e = estimate({
      Std: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'm', Namespace: 'n', Period: 60 } },
      High: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'm', Namespace: 'n', Period: 10 } },
      Math: { Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [{ Id: 'e', Expression: 'a/b' }, { Id: 'a', ...stat(60) }, { Id: 'b', ...stat(60) }] } },
    });
    expect(line(e, 'Std').monthlyUsdAtRest).toBe(0.1);
    expect(line(e, 'High').monthlyUsdAtRest).toBe(0.3);
    expect(line(e, 'Math')).toMatchObject({ quantityAtRest: 2, monthlyUsdAtRest: 0.2 });
  });

  test('EBS volumes by type and size; a type without a price is unpriced', () => {
    const e = estimate({
      Gp3: { Type: 'AWS::EC2::Volume', Properties: { Size: 100, VolumeType: 'gp3', AvailabilityZone: 'a' } },
      Io2: { Type: 'AWS::EC2::Volume', Properties: { Size: 10, VolumeType: 'io2', Iops: 1000, AvailabilityZone: 'a' } },
      Odd: { Type: 'AWS::EC2::Volume', Properties: { Size: 10, VolumeType: 'xyz', AvailabilityZone: 'a' } },
    });
    expect(line(e, 'Gp3')).toMatchObject({ monthlyUsdAtRest: 8, unitPrice: { usd: 0.08 } });
    expect(line(e, 'Io2').monthlyUsdAtRest).toBe(cents(10 * 0.125 + 1000 * 0.065));
    expect(line(e, 'Odd')).toMatchObject({ status: CostStatus.UNPRICED, note: 'no price for EBS volume type "xyz"' });
  });
});

describe('CostEstimate: other resources, totals and the report', () => {
  const e = estimate({
    Bucket: { Type: 'AWS::S3::Bucket' },
    Logs: { Type: 'AWS::Logs::LogGroup' },
    Fn: { Type: 'AWS::Lambda::Function' },
    Topic: { Type: 'AWS::SNS::Topic' },
    Role: { Type: 'AWS::IAM::Role' },
    Sg: { Type: 'AWS::EC2::SecurityGroup' },
    Odd: { Type: 'AWS::Foo::Bar' },
    Helm: { Type: 'Custom::AWSCDK-EKS-HelmChart' },
    Nat: { Type: 'AWS::EC2::NatGateway' },
    N: nodegroup({ InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: 0, MaxSize: 2 } }),
  });

  test('usage-based types are listed without a figure; IAM and security groups are not billed; unknown types are not priced', () => {
    for (const id of ['Bucket', 'Logs', 'Fn', 'Topic']) {
      expect(line(e, id).status).toBe(CostStatus.USAGE_BASED);
      expect(line(e, id).monthlyUsdAtRest).toBeUndefined();
    }
    expect(line(e, 'Role').status).toBe(CostStatus.NOT_BILLED);
    expect(line(e, 'Sg').status).toBe(CostStatus.NOT_BILLED);
    expect(line(e, 'Odd').status).toBe(CostStatus.UNKNOWN);
    expect(line(e, 'Helm').status).toBe(CostStatus.UNKNOWN);
  });

  test('totals add the priced lines only, at rest and at most', () => {
    expect(e.monthlyUsdAtRest).toBe(32.85);
    expect(e.monthlyUsdAtMost).toBe(cents(32.85 + cents(2 * G5_XLARGE * H) + 4));
  });

  test('toMarkdown has a table per stack with its totals, what is usage-based, not billed, not priced, the prices with sources, and the assumptions', () => {
    const md = e.toMarkdown();
    expect(md).toContain(`**At rest: $32.85**`);
    expect(md).toContain('## S');
    expect(md).toMatch(/\| `Nat` \(AWS::EC2::NatGateway\) \| NAT gateway \| 1 gateway \| 1 gateway \| \$0\.045\/h \| 32\.85 \| 32\.85 \|/);
    expect(md).toMatch(/\| \*\*Total\*\* \| \| \| \| \| \*\*32\.85\*\* \| \*\*\d{1},\d{3}\.\d{2}\*\* \| \|/);
    expect(md).toContain('AWS::S3::Bucket × 1: S3 bucket');
    expect(md).toMatch(/\*\*Not billed by themselves:\*\* AWS::IAM::Role × 1, AWS::EC2::SecurityGroup × 1\./);
    expect(md).toMatch(/\*\*Unknown\*\*.*AWS::Foo::Bar × 1, Custom::AWSCDK-EKS-HelmChart × 1\./);
    expect(md).toMatch(/\| \$0\.045\/h \| `Nat` \| infracost\/infracost testdata nat_gateway_test\.golden.* \| 2026-12-01 \|/);
    expect(md).toContain('- us-east-1 on-demand list prices');
    expect(md).toContain('- 730 hours a month');
    expect(md).toMatch(/- no Savings Plans, Reserved Instances or spot discounts/);
    expect(md).toMatch(/- data transfer, per-request.*excluded/);
  });

  test('the prices table names the lines that use each price: stack and logical id when there are several stacks, three and a count beyond', () => {
    const alarm = { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 60 } };
    const two = CostEstimate.fromTemplates([
      { stackName: 'A', template: { Resources: { A1: alarm, A2: alarm, A3: alarm, A4: alarm } } },
      { stackName: 'B', template: { Resources: { Nat: { Type: 'AWS::EC2::NatGateway' } } } },
    ]).toMarkdown();
    expect(two).toMatch(/\| \$0\.10\/month \| `A\/A1`, `A\/A2`, `A\/A3` and 1 more \| infracost/);
    expect(two).toMatch(/\| \$0\.045\/h \| `B\/Nat` \| infracost/);
  });

  test('toJSON carries the totals, per-stack totals, every line and the assumptions, and survives JSON.stringify', () => {
    const json = JSON.parse(JSON.stringify(e.toJSON()));
    expect(json).toMatchObject({ currency: 'USD', region: 'us-east-1', hoursPerMonth: 730, monthlyUsdAtRest: 32.85, unpricedCount: 0 });
    expect(json.stacks).toHaveLength(1);
    expect(json.stacks[0]).toMatchObject({ stackName: 'S', monthlyUsdAtRest: 32.85 });
    expect(json.stacks[0].items).toHaveLength(e.items.length);
    expect(json.assumptions.length).toBeGreaterThanOrEqual(4);
  });

  test('input that is not a list of templates fails, naming what is wrong', () => {
    expect(() => CostEstimate.fromTemplates({} as never)).toThrow(/'stacks' \(\{\}\) must be an array/);
    expect(() => CostEstimate.fromTemplates([{ stackName: 'S', template: null as never }])).toThrow(/'stacks\[0\]\.template' \(null\) must be a CloudFormation template object/);
    expect(() => CostEstimate.fromTemplates([{ stackName: '', template: {} }])).toThrow(PlatformError);
  });
});

describe('CostEstimate.fromCloudAssembly', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-cost-assembly-'));
  const app = new App({ outdir: dir, context: TEST_CONTEXT });
  new kms.Key(new Stack(app, 'One'), 'Key');
  new kms.Key(new Stack(app, 'Two'), 'Key');
  const assembly = app.synth();
  // A template the manifest does not list is not read.
  fs.writeFileSync(path.join(dir, 'Stray.template.json'), JSON.stringify({ Resources: { Nat: { Type: 'AWS::EC2::NatGateway' } } }));

  test('prices every stack the manifest lists, from a directory or an assembly object', () => {
    for (const e of [CostEstimate.fromCloudAssembly(dir), CostEstimate.fromCloudAssembly(assembly)]) {
      expect(e.stackNames).toEqual(['One', 'Two']);
      expect(e.monthlyUsdAtRest).toBe(2);
    }
  });

  test('a directory without manifest.json fails, saying it is not a cloud assembly', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-cost-empty-'));
    expect(() => CostEstimate.fromCloudAssembly(empty)).toThrow(/has no manifest\.json, so it is not a cloud assembly: run `cdk synth` first/);
  });
});
