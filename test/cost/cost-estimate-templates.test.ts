import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { CostEstimate, CostStatus } from '../../constructs/cost';
import { PlatformError } from '../../lib/private/errors';
import { cents, H, line, nodegroup } from './helpers';

// Hand-written templates for what real templates do that the first cut of the estimate mispriced or did not survive:
// conditions and deletion policies, EKS Auto Mode and upgrade policies, Bottlerocket's two volumes, anomaly-detection
// alarms, the public IPv4 addresses of internet-facing load balancers, and cloud assemblies that cannot be read.
type Resources = Record<string, Record<string, unknown>>;

function estimate(resources: Resources, extra: Record<string, unknown> = {}): CostEstimate {
  return CostEstimate.fromTemplates([{ stackName: 'S', template: { ...extra, Resources: resources } }]);
}

const G5_XLARGE = GpuInstanceType.G5_XLARGE.onDemandPrice!.usdPerHour;

describe('CostEstimate: conditions and deletion policies', () => {
  test('a resource created only under a condition is priced as if it is created, and its lines say so', () => {
    const e = estimate({
      N: { ...nodegroup({ InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: 1, MaxSize: 2 } }), Condition: 'IsProd' },
      Nat: { Type: 'AWS::EC2::NatGateway', Condition: 'IsProd' },
    }, { Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] } }, Parameters: { Env: { Type: 'String' } } });
    for (const i of e.items) {
      expect(i.status).toBe(CostStatus.PRICED);
      expect(i.note).toMatch(/created only when the condition IsProd holds: priced as if it does/);
    }
    expect(e.monthlyUsdAtRest).toBe(cents(G5_XLARGE * H + 2 + 32.85));
  });

  test('a billed resource kept on stack deletion (DeletionPolicy Retain) says it keeps billing', () => {
    const e = estimate({
      V: { Type: 'AWS::EC2::Volume', DeletionPolicy: 'Retain', Properties: { Size: 100, VolumeType: 'gp3' } },
      K: { Type: 'AWS::KMS::Key', DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' },
      D: { Type: 'AWS::EC2::Volume', DeletionPolicy: 'Delete', Properties: { Size: 10, VolumeType: 'gp3' } },
    });
    expect(line(e, 'V').note).toMatch(/DeletionPolicy Retain: it stays, and bills, after the stack is deleted/);
    expect(line(e, 'K').note).toMatch(/DeletionPolicy RetainExceptOnCreate: it stays, and bills, after the stack is deleted/);
    expect(line(e, 'D').note ?? '').not.toMatch(/DeletionPolicy/);
  });
});

describe('CostEstimate: EKS clusters', () => {
  test('an EKS Auto Mode cluster adds an unpriced line for the nodes Auto Mode launches, which the template does not list', () => {
    const e = estimate({
      C: { Type: 'AWS::EKS::Cluster', Properties: { Version: '1.33', ComputeConfig: { Enabled: true, NodePools: ['general-purpose', 'system'] } } },
    });
    expect(line(e, 'C', /control plane/)).toMatchObject({ status: CostStatus.PRICED, monthlyUsdAtRest: 73 });
    const nodes = line(e, 'C', /Auto Mode/);
    expect(nodes.status).toBe(CostStatus.UNPRICED);
    expect(nodes.note).toMatch(/Auto Mode launches nodes as pods need them.*general-purpose, system.*EC2 on-demand rate plus the Auto Mode management fee/);
    expect(e.unpriced).toHaveLength(1);
    // Auto Mode off: no such line.
    const off = estimate({ C: { Type: 'AWS::EKS::Cluster', Properties: { ComputeConfig: { Enabled: false } } } });
    expect(off.items).toHaveLength(1);
  });

  test('the extended-support note follows UpgradePolicy.SupportType: STANDARD is upgraded instead, EXTENDED (the default) pays $0.60/h', () => {
    const standard = line(estimate({ C: { Type: 'AWS::EKS::Cluster', Properties: { Version: '1.33', UpgradePolicy: { SupportType: 'STANDARD' } } } }), 'C');
    expect(standard.note).toMatch(/SupportType STANDARD: EKS upgrades the cluster at the end of standard support, so it never pays the extended-support rate/);
    const extended = line(estimate({ C: { Type: 'AWS::EKS::Cluster', Properties: { Version: '1.33', UpgradePolicy: { SupportType: 'EXTENDED' } } } }), 'C');
    expect(extended.note).toMatch(/SupportType EXTENDED: \$0\.60\/h \(\$438\.00\/month\) once Kubernetes 1\.33 leaves standard support/);
    const unset = line(estimate({ C: { Type: 'AWS::EKS::Cluster', Properties: { Version: '1.33' } } }), 'C');
    expect(unset.note).toMatch(/no UpgradePolicy: EKS's default, EXTENDED, applies: \$0\.60\/h \(\$438\.00\/month\) once Kubernetes 1\.33 leaves standard support/);
    for (const c of [standard, extended, unset]) expect(c.monthlyUsdAtRest).toBe(73);
  });
});

describe('CostEstimate: Bottlerocket node groups', () => {
  test('without a launch template, a Bottlerocket node has its OS volume from the AMI besides the data volume EKS sizes', () => {
    const e = estimate({
      N: nodegroup({ AmiType: 'BOTTLEROCKET_x86_64', InstanceTypes: ['m7i.large'], DiskSize: 50, ScalingConfig: { MinSize: 2, MaxSize: 3 } }),
      G: nodegroup({ AmiType: 'BOTTLEROCKET_x86_64_NVIDIA', InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: 1, MaxSize: 1 } }),
    });
    // 2 GiB OS volume + 50 GiB data volume per node, both priced as gp2.
    expect(line(e, 'N', /EBS/)).toMatchObject({
      status: CostStatus.PRICED, quantityAtRest: 104, quantityAtMost: 156, monthlyUsdAtRest: cents(2 * 52 * 0.1),
      description: expect.stringContaining('2 GiB gp2 + 50 GiB gp2 per node'),
    });
    expect(line(e, 'N', /EBS/).note).toMatch(/Bottlerocket's OS volume/);
    // NVIDIA variants have a 4 GiB OS volume; the data volume is EKS's 20 GiB default.
    expect(line(e, 'G', /EBS/)).toMatchObject({ quantityAtRest: 24, description: expect.stringContaining('4 GiB gp2 + 20 GiB gp2 per node') });
  });

  test('with a launch template that maps only the data volume (/dev/xvdb), the OS volume from the AMI is priced too', () => {
    const e = estimate({
      LT: { Type: 'AWS::EC2::LaunchTemplate', Properties: { LaunchTemplateData: { BlockDeviceMappings: [{ DeviceName: '/dev/xvdb', Ebs: { VolumeSize: 100, VolumeType: 'gp3' } }] } } },
      N: nodegroup({ AmiType: 'BOTTLEROCKET_ARM_64', InstanceTypes: ['m7i.large'], LaunchTemplate: { Id: { Ref: 'LT' } }, ScalingConfig: { MinSize: 1, MaxSize: 1 } }),
      // An LT that maps /dev/xvda as well replaces the AMI's OS volume.
      LT2: { Type: 'AWS::EC2::LaunchTemplate', Properties: { LaunchTemplateData: { BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 4, VolumeType: 'gp3' } }, { DeviceName: '/dev/xvdb', Ebs: { VolumeSize: 100, VolumeType: 'gp3' } },
      ] } } },
      M: nodegroup({ AmiType: 'BOTTLEROCKET_ARM_64', InstanceTypes: ['m7i.large'], LaunchTemplate: { Id: { Ref: 'LT2' } }, ScalingConfig: { MinSize: 1, MaxSize: 1 } }),
    });
    expect(line(e, 'N', /EBS/)).toMatchObject({ monthlyUsdAtRest: cents(2 * 0.1 + 100 * 0.08), description: expect.stringContaining('2 GiB gp2 + 100 GiB gp3 per node') });
    expect(line(e, 'M', /EBS/)).toMatchObject({ monthlyUsdAtRest: cents(104 * 0.08), description: expect.stringContaining('4 GiB gp3 + 100 GiB gp3 per node') });
  });
});

describe('CostEstimate: alarms and load balancers', () => {
  test('an anomaly-detection alarm bills three alarm metrics for the metric it watches (the metric and the band\'s two bounds)', () => {
    const e = estimate({
      A: { Type: 'AWS::CloudWatch::Alarm', Properties: {
        ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold', EvaluationPeriods: 1, ThresholdMetricId: 'ad1',
        Metrics: [
          { Id: 'm1', ReturnData: true, MetricStat: { Metric: { MetricName: 'Invocations', Namespace: 'AWS/SageMaker' }, Period: 300, Stat: 'Sum' } },
          { Id: 'ad1', Expression: 'ANOMALY_DETECTION_BAND(m1, 2)' },
        ],
      } },
    });
    expect(line(e, 'A')).toMatchObject({ status: CostStatus.PRICED, quantityAtRest: 3, monthlyUsdAtRest: 0.3, description: expect.stringContaining('anomaly detection') });
  });

  test('an internet-facing load balancer also bills a public IPv4 address per zone; internal, EIP-backed or IPv6-only ones do not', () => {
    const e = estimate({
      Alb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Type: 'application', Scheme: 'internet-facing', Subnets: ['a', 'b', 'c'] } },
      Nlb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Type: 'network', SubnetMappings: [{ SubnetId: 'a' }, { SubnetId: 'b', AllocationId: { 'Fn::GetAtt': ['Ip', 'AllocationId'] } }] } },
      Int: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Scheme: 'internal', Subnets: ['a', 'b'] } },
      V6: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Subnets: ['a', 'b'], IpAddressType: 'dualstack-without-public-ipv4' } },
      Tok: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Subnets: { Ref: 'Subnets' } } },
    }, { Parameters: { Subnets: { Type: 'List<AWS::EC2::Subnet::Id>' } } });
    const lb = cents(0.0225 * H);
    expect(line(e, 'Alb', /load balancer$/)).toMatchObject({ monthlyUsdAtRest: lb });
    expect(line(e, 'Alb', /public IPv4/)).toMatchObject({ status: CostStatus.PRICED, quantityAtRest: 3, unit: 'address', monthlyUsdAtRest: cents(3 * 3.65) });
    // The NLB's second zone uses an Elastic IP, which its own line prices.
    expect(line(e, 'Nlb', /public IPv4/)).toMatchObject({ quantityAtRest: 1, monthlyUsdAtRest: 3.65 });
    for (const id of ['Int', 'V6']) expect(e.items.filter((i) => i.logicalId === id)).toHaveLength(1);
    expect(line(e, 'Tok', /public IPv4/)).toMatchObject({ status: CostStatus.UNPRICED, note: expect.stringContaining('a Ref to the parameter Subnets') });
  });
});

describe('CostEstimate: unconfirmed prices', () => {
  test('a line priced from an unconfirmed catalog price (the P family\'s pre-cut list price) says so in its note', () => {
    const e = estimate({
      P5: nodegroup({ InstanceTypes: ['p5.48xlarge'], ScalingConfig: { MinSize: 1, MaxSize: 2 } }),
      G5: nodegroup({ InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: 1, MaxSize: 2 } }),
    });
    expect(line(e, 'P5', /node group,/).unitPrice!.confirmed).toBe(false);
    expect(line(e, 'P5', /node group,/).note).toMatch(/unconfirmed unit price \(derived, estimated or out of date\): see its source under Prices used/);
    expect(line(e, 'G5', /node group,/).note ?? '').not.toMatch(/unconfirmed/);
  });
});

describe('CostEstimate: what the estimate does not know is counted, not just listed', () => {
  test('resource types the estimate does not know are counted in the report\'s headline and in the JSON', () => {
    const e = estimate({
      Db: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceClass: 'db.r6g.4xlarge' } },
      Nat: { Type: 'AWS::EC2::NatGateway' },
    });
    expect(e.unknown.map((i) => i.logicalId)).toEqual(['Db']);
    expect(e.toJSON()).toMatchObject({ unknownCount: 1, unpricedCount: 0 });
    // Policies and aliases are not billed by themselves, so they are not counted.
    const policies = estimate({ P: { Type: 'AWS::SNS::TopicPolicy' }, Q: { Type: 'AWS::SQS::QueuePolicy' }, A: { Type: 'AWS::KMS::Alias' } });
    expect(policies.unknown).toEqual([]);
    expect(e.toMarkdown().split('\n')[2]).toMatch(/1 resource of a type this estimate does not know \(AWS::RDS::DBInstance × 1\) is not in these totals and may bill/);
  });
});

describe('CostEstimate.fromCloudAssembly: assemblies it cannot read fail with a message, never a stack trace', () => {
  const write = (files: Record<string, string>): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-cost-bad-'));
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    return dir;
  };
  const stack = (templateFile: string) => JSON.stringify({ version: '1', artifacts: { S: { type: 'aws:cloudformation:stack', properties: { templateFile } } } });

  test('a manifest that is not JSON', () => {
    const dir = write({ 'manifest.json': '{not json' });
    expect(() => CostEstimate.fromCloudAssembly(dir)).toThrow(PlatformError);
    expect(() => CostEstimate.fromCloudAssembly(dir)).toThrow(/manifest\.json.*is not valid JSON/);
  });

  test('a stack whose template file is missing', () => {
    const dir = write({ 'manifest.json': stack('S.template.json') });
    expect(() => CostEstimate.fromCloudAssembly(dir)).toThrow(PlatformError);
    expect(() => CostEstimate.fromCloudAssembly(dir)).toThrow(/the manifest lists stack S with the template S\.template\.json, which is not there/);
  });

  test('a template file that is empty or not a JSON object', () => {
    for (const text of ['', '[]']) {
      const dir = write({ 'manifest.json': stack('S.template.json'), 'S.template.json': text });
      expect(() => CostEstimate.fromCloudAssembly(dir)).toThrow(PlatformError);
      expect(() => CostEstimate.fromCloudAssembly(dir)).toThrow(/S\.template\.json.*is not a CloudFormation template/);
    }
  });

  test('an empty template ({}) is a stack with nothing in it', () => {
    const dir = write({ 'manifest.json': stack('S.template.json'), 'S.template.json': '{}' });
    const e = CostEstimate.fromCloudAssembly(dir);
    expect(e.stackNames).toEqual(['S']);
    expect(e.items).toEqual([]);
    expect(e.toMarkdown()).toContain('Nothing priced in this stack.');
  });

  test('a nested stack\'s template, which cdk synth writes beside its parent\'s, is priced as a stack of its own', () => {
    const parent = { Resources: { Nested: { Type: 'AWS::CloudFormation::Stack', Properties: { TemplateURL: 'https://bucket/key' }, Metadata: { 'aws:asset:path': 'SNested.nested.template.json' } } } };
    const nested = { Resources: { Nat: { Type: 'AWS::EC2::NatGateway' } } };
    const dir = write({ 'manifest.json': stack('S.template.json'), 'S.template.json': JSON.stringify(parent), 'SNested.nested.template.json': JSON.stringify(nested) });
    const e = CostEstimate.fromCloudAssembly(dir);
    expect(e.stackNames).toEqual(['S', 'S/Nested']);
    expect(e.monthlyUsdAtRest).toBe(32.85);
    expect(line(e, 'Nested')).toMatchObject({ stackName: 'S', status: CostStatus.NOT_BILLED, description: expect.stringContaining('priced as the stack S/Nested') });
    expect(e.unknown).toEqual([]);
    // From a template alone, the nested stack's template is not at hand: not priced.
    expect(line(estimate(parent.Resources), 'Nested').status).toBe(CostStatus.UNKNOWN);
  });

  test('a nested assembly (a stage) whose directory has no manifest names the stage', () => {
    const dir = write({ 'manifest.json': JSON.stringify({ version: '1', artifacts: { assemblyProd: { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-Prod' } } } }) });
    expect(() => CostEstimate.fromCloudAssembly(dir)).toThrow(/the manifest lists the nested assembly assemblyProd in assembly-Prod, which has no manifest\.json/);
  });
});

describe('CostEstimate: AWS Batch compute environments', () => {
  const G6 = { x: GpuInstanceType.G6_XLARGE, x2: GpuInstanceType.G6_2XLARGE, x4: GpuInstanceType.G6_4XLARGE };
  const hourly = (t: GpuInstanceType) => t.onDemandPrice!.usdPerHour;
  const environment = (resources: Record<string, unknown>) => ({
    Type: 'AWS::Batch::ComputeEnvironment', Properties: { Type: 'MANAGED', ComputeResources: { Subnets: ['s'], ...resources } },
  });

  test('a managed spot environment: at rest the instances MinvCpus needs of the type cheapest per vCPU, at most the dearest way to fill MaxvCpus', () => {
    const e = estimate({
      Spot: environment({ Type: 'SPOT', InstanceTypes: ['g6.xlarge', 'g6.2xlarge', 'g6.4xlarge'], MinvCpus: 8, MaxvCpus: 64 }),
      Queue: { Type: 'AWS::Batch::JobQueue', Properties: {} },
      Jobs: { Type: 'AWS::Batch::JobDefinition', Properties: {} },
    });
    const spot = line(e, 'Spot');
    const perVcpu = [G6.x, G6.x2, G6.x4].sort((a, b) => hourly(a) / a.vcpus - hourly(b) / b.vcpus)[0];
    const fill = (vcpus: number, t: GpuInstanceType) => Math.ceil(vcpus / t.vcpus) * hourly(t);
    const dearest = [G6.x, G6.x2, G6.x4].sort((a, b) => fill(64, b) - fill(64, a))[0];
    expect(spot).toMatchObject({
      status: CostStatus.PRICED,
      spot: true,
      unit: 'instance',
      quantityAtRest: Math.ceil(8 / perVcpu.vcpus),
      quantityAtMost: Math.ceil(64 / dearest.vcpus),
      monthlyUsdAtRest: cents(fill(8, perVcpu) * H),
      monthlyUsdAtMost: cents(fill(64, dearest) * H),
    });
    // With the catalog's prices: 16 g6.xlarge fill 64 vCPUs at the highest hourly cost; 8 vCPUs at rest are one g6.4xlarge
    // or two g6.xlarge, whichever is cheaper per vCPU.
    expect(dearest.name).toBe('g6.xlarge');
    expect(spot.note).toMatch(/spot capacity priced at the on-demand rate/);
    expect(spot.note).toMatch(/Batch may launch one instance beyond MaxvCpus/);
    expect(line(e, 'Queue').status).toBe(CostStatus.NOT_BILLED);
    expect(line(e, 'Jobs').status).toBe(CostStatus.NOT_BILLED);
  });

  test('scales from zero: nothing at rest without MinvCpus; on-demand environments are not marked spot', () => {
    const e = estimate({ OnDemand: environment({ Type: 'EC2', InstanceTypes: ['g5.xlarge'], MaxvCpus: 16 }) });
    expect(line(e, 'OnDemand')).toMatchObject({
      quantityAtRest: 0, quantityAtMost: 4, monthlyUsdAtRest: 0, monthlyUsdAtMost: cents(4 * G5_XLARGE * H),
    });
    expect(line(e, 'OnDemand').spot).toBeUndefined();
  });

  test('instance families, "optimal", unknown vCPUs or a MaxvCpus left to deployment are unpriced with the reason; Fargate bills per use', () => {
    const e = estimate({
      Family: environment({ Type: 'SPOT', InstanceTypes: ['g5'], MaxvCpus: 64 }),
      Optimal: environment({ Type: 'EC2', InstanceTypes: ['optimal'], MaxvCpus: 64 }),
      Param: environment({ Type: 'EC2', InstanceTypes: ['g5.xlarge'], MaxvCpus: { Ref: 'Max' } }),
      Fargate: environment({ Type: 'FARGATE_SPOT', MaxvCpus: 64 }),
      Unmanaged: { Type: 'AWS::Batch::ComputeEnvironment', Properties: { Type: 'UNMANAGED' } },
    }, { Parameters: { Max: { Type: 'Number', Default: 32 } } });
    expect(line(e, 'Family')).toMatchObject({ status: CostStatus.UNPRICED, note: expect.stringMatching(/^g5 is not an instance type of the GPU catalog/) });
    expect(line(e, 'Optimal').note).toMatch(/^optimal is not an instance type of the GPU catalog/);
    expect(line(e, 'Param').note).toMatch(/ComputeResources\.MaxvCpus is a Ref to the parameter Max \(default 32\)/);
    expect(line(e, 'Fargate').status).toBe(CostStatus.USAGE_BASED);
    expect(line(e, 'Unmanaged').status).toBe(CostStatus.NOT_BILLED);
  });
});
