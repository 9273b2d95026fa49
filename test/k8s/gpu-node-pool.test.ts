import { Token } from 'aws-cdk-lib';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { AcceleratorVendor, Capacity, CpuArchitecture, GpuInstanceType } from '../../constructs/compute';
import {
  ConsolidationPolicy, GpuNodePool, GpuNodePoolProps, InferenceService, KarpenterAmi, KarpenterDuration, TrainingJob,
} from '../../constructs/k8s';
import { only, podSpec, synthValid } from './helpers';
import { validateManifest } from './validate';

const BASE = { clusterName: 'ml', nodeRoleName: 'KarpenterNodeRole-ml' };

function synth(props: Partial<GpuNodePoolProps> = {}, namespace?: string) {
  const chart = new Chart(Testing.app(), 'test', { namespace });
  const pool = new GpuNodePool(chart, 'Training', { instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.G5_2XLARGE], ...BASE, ...props });
  return { chart, pool, manifests: synthValid(chart) };
}

describe('GpuNodePool', () => {
  test('creates a karpenter.sh/v1 NodePool and a karpenter.k8s.aws/v1 EC2NodeClass referencing each other', () => {
    const { manifests } = synth();
    const pool = only(manifests, 'NodePool');
    const nodeClass = only(manifests, 'EC2NodeClass');
    expect(pool.apiVersion).toBe('karpenter.sh/v1');
    expect(nodeClass.apiVersion).toBe('karpenter.k8s.aws/v1');
    expect(pool.spec.template.spec.nodeClassRef).toEqual({ group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'training' });
    expect(nodeClass.metadata.name).toBe('training');
  });

  test('labels and taints nodes like a GpuNodeGroup, from the shared vocabulary', () => {
    const { manifests, pool } = synth({ capacity: Capacity.spot() });
    const template = only(manifests, 'NodePool').spec.template;
    expect(template.metadata.labels).toEqual({
      'ai-platform.dev/accelerator-vendor': 'nvidia',
      'ai-platform.dev/accelerator-model': 'a10g',
      'ai-platform.dev/accelerator-count': '1',
      'ai-platform.dev/capacity-type': 'spot',
      'ai-platform.dev/node-group': 'training',
      'ai-platform.dev/device-plugin': 'nvidia',
      'k8s.amazonaws.com/accelerator': 'nvidia-a10g',
    });
    expect(template.spec.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }]);
    expect(pool.nodeLabels).toEqual(template.metadata.labels);
    expect(pool.resourceName).toBe('nvidia.com/gpu');
    expect(pool.acceleratorsPerNode).toBe(1);
    expect(pool.capacityType).toBe('spot');
    expect(pool.instanceTypeNames).toEqual(['g5.2xlarge', 'g5.xlarge']);
  });

  test('limits instance families and types from the catalog, the capacity type and the architecture', () => {
    const reqs = only(synth({ instanceTypes: [GpuInstanceType.G6_XLARGE, GpuInstanceType.G5_XLARGE].slice(0, 1) }).manifests, 'NodePool').spec.template.spec.requirements;
    expect(reqs).toEqual([
      { key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['g6'] },
      { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['g6.xlarge'] },
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
      { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
    ]);
  });

  test('with Capacity.spot({ diversify: true }), the pool may also launch the catalog\'s interchangeable types, as a GpuNodeGroup does', () => {
    const { manifests, pool } = synth({ instanceTypes: [GpuInstanceType.G5_2XLARGE], capacity: Capacity.spot({ diversify: true }) });
    // Within the default price cap (twice g5.2xlarge's on-demand price) only g5.4xlarge (1.34x) stands in.
    const expected = ['g5.2xlarge', 'g5.4xlarge'];
    const reqs = only(manifests, 'NodePool').spec.template.spec.requirements;
    expect(reqs).toContainEqual({ key: 'node.kubernetes.io/instance-type', operator: 'In', values: expected });
    expect(pool.instanceTypeNames).toEqual(expected);
    // The stand-ins have the same accelerators: the labels still hold on every node.
    expect(only(manifests, 'NodePool').spec.template.metadata.labels).toMatchObject({ 'ai-platform.dev/accelerator-model': 'a10g', 'ai-platform.dev/accelerator-count': '1' });
    // Without diversify, or on demand, the pool keeps to the types given.
    expect(synth({ instanceTypes: [GpuInstanceType.G5_2XLARGE], capacity: Capacity.spot() }).pool.instanceTypeNames).toEqual(['g5.2xlarge']);
    expect(synth({ instanceTypes: [GpuInstanceType.G5_2XLARGE] }).pool.instanceTypeNames).toEqual(['g5.2xlarge']);
    // maxPriceRatio widens it, as for a GpuNodeGroup.
    expect(synth({ instanceTypes: [GpuInstanceType.G5_2XLARGE], capacity: Capacity.spot({ diversify: true, maxPriceRatio: Infinity }) }).pool.instanceTypeNames)
      .toEqual(['g5.16xlarge', 'g5.2xlarge', 'g5.4xlarge', 'g5.8xlarge']);
  });

  test('with Capacity.spot({ diversify: true }), the family requirement holds the stand-ins\' families too, or Karpenter could never launch them', () => {
    // p4de.24xlarge (8 A100s, like p4d.24xlarge) stands in for p4d.24xlarge from another family.
    const reqs = only(synth({ instanceTypes: [GpuInstanceType.P4D_24XLARGE], capacity: Capacity.spot({ diversify: true }) }).manifests, 'NodePool').spec.template.spec.requirements;
    expect(reqs).toContainEqual({ key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['p4d.24xlarge', 'p4de.24xlarge'] });
    expect(reqs).toContainEqual({ key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['p4d', 'p4de'] });
  });

  test('by default consolidates empty nodes after 5 minutes, replaces nodes after 30 days and disrupts 10% at a time', () => {
    const spec = only(synth().manifests, 'NodePool').spec;
    expect(spec.disruption).toEqual({ consolidationPolicy: 'WhenEmpty', consolidateAfter: '5m', budgets: [{ nodes: '10%' }] });
    expect(spec.template.spec.expireAfter).toBe('720h');
    expect(spec.limits).toEqual({ 'nvidia.com/gpu': 8 });
    expect(spec.weight).toBeUndefined();
  });

  test('caps the accelerators, consolidates empty nodes and expires old ones', () => {
    const spec = only(synth({ maxAccelerators: 16, consolidateAfter: KarpenterDuration.of(Duration.minutes(10)), expireAfter: KarpenterDuration.of(Duration.days(7)), disruptionBudgetPercent: 20, weight: 50 }).manifests, 'NodePool').spec;
    expect(spec.limits).toEqual({ 'nvidia.com/gpu': 16 });
    expect(spec.disruption).toEqual({ consolidationPolicy: 'WhenEmpty', consolidateAfter: '10m', budgets: [{ nodes: '20%' }] });
    expect(spec.template.spec.expireAfter).toBe('168h');
    expect(spec.weight).toBe(50);
  });

  test('with KarpenterDuration.NEVER, nodes never expire and are never consolidated: both render as Karpenter\'s "Never", which the NodePool CRD accepts', () => {
    // synth() validates every manifest against the CRD schema (expireAfter and consolidateAfter: a Go duration or "Never").
    const never = only(synth({ expireAfter: KarpenterDuration.NEVER, consolidateAfter: KarpenterDuration.NEVER }).manifests, 'NodePool').spec;
    expect(never.template.spec.expireAfter).toBe('Never');
    expect(never.disruption).toEqual({ consolidationPolicy: 'WhenEmpty', consolidateAfter: 'Never', budgets: [{ nodes: '10%' }] });
    // each on its own, the other keeps its default
    const noExpiry = only(synth({ expireAfter: KarpenterDuration.NEVER }).manifests, 'NodePool').spec;
    expect(noExpiry.template.spec.expireAfter).toBe('Never');
    expect(noExpiry.disruption.consolidateAfter).toBe('5m');
    const noConsolidation = only(synth({ consolidateAfter: KarpenterDuration.NEVER, consolidationPolicy: ConsolidationPolicy.WHEN_EMPTY_OR_UNDERUTILIZED }).manifests, 'NodePool').spec;
    expect(noConsolidation.template.spec.expireAfter).toBe('720h');
    expect(noConsolidation.disruption.consolidateAfter).toBe('Never');
    expect(KarpenterDuration.NEVER.isNever).toBe(true);
    expect(KarpenterDuration.of(Duration.days(1)).isNever).toBe(false);
    expect(KarpenterDuration.of(Duration.days(1)).duration?.toHours()).toBe(24);
  });

  test('the NodePool schema takes "Never" for expireAfter and consolidateAfter only, spelt exactly so', () => {
    const pool = only(synth().manifests, 'NodePool');
    const withValue = (set: (copy: typeof pool) => void) => {
      const copy = JSON.parse(JSON.stringify(pool));
      set(copy);
      return () => validateManifest(copy);
    };
    expect(withValue((c) => { c.spec.template.spec.expireAfter = 'Never'; })).not.toThrow();
    expect(withValue((c) => { c.spec.disruption.consolidateAfter = 'Never'; })).not.toThrow();
    expect(withValue((c) => { c.spec.template.spec.expireAfter = 'never'; })).toThrow(/expireAfter must match pattern/);
    expect(withValue((c) => { c.spec.disruption.consolidateAfter = 'NEVER'; })).toThrow(/consolidateAfter must match pattern/);
    // terminationGracePeriod has no "Never" in Karpenter v1: it stays a Duration
    expect(withValue((c) => { c.spec.template.spec.terminationGracePeriod = 'Never'; })).toThrow(/terminationGracePeriod must match pattern/);
  });

  test('on spot, a node being terminated is drained within 90 s, so a training pod (karpenter.sh/do-not-disrupt, which Karpenter never evicts) gets SIGTERM and its 90 s for a last checkpoint within the two-minute notice', () => {
    // Karpenter deletes a do-not-disrupt pod when the node's terminationGracePeriod less the pod's own grace
    // period is left; without one it waits for the pod, and the instance is reclaimed under it.
    const spot = only(synth({ capacity: Capacity.spot() }).manifests, 'NodePool').spec.template.spec;
    expect(spot.terminationGracePeriod).toBe('90s');
    // On-demand nothing reclaims the node: an expiring node waits for its training to end.
    expect(only(synth().manifests, 'NodePool').spec.template.spec.terminationGracePeriod).toBeUndefined();
    expect(only(synth({ terminationGracePeriod: Duration.minutes(30) }).manifests, 'NodePool').spec.template.spec.terminationGracePeriod).toBe('30m');
    expect(only(synth({ capacity: Capacity.spot(), terminationGracePeriod: Duration.seconds(100) }).manifests, 'NodePool').spec.template.spec.terminationGracePeriod).toBe('100s');
    // the TrainingJob's own default, which the spot default matches
    const chart = new Chart(Testing.app(), 'job');
    new TrainingJob(chart, 'Train', { image: 'trainer:1', nodes: new GpuNodePool(chart, 'Pool', { instanceTypes: [GpuInstanceType.G5_2XLARGE], capacity: Capacity.spot(), ...BASE }) });
    expect(podSpec(only(synthValid(chart), 'Job')).terminationGracePeriodSeconds).toBe(90);
  });

  test('with a terminationGracePeriod of zero or of a fraction of a second, synthesis fails naming it', () => {
    expect(() => synth({ terminationGracePeriod: Duration.seconds(0) })).toThrow(/'terminationGracePeriod' \("0s"\) must be longer than 0s/);
    expect(() => synth({ terminationGracePeriod: Duration.millis(1500) })).toThrow(/'terminationGracePeriod' \("1\.5s"\) must be a whole number of seconds/);
  });

  test('consolidation of under-used nodes can be chosen', () => {
    expect(only(synth({ consolidationPolicy: ConsolidationPolicy.WHEN_EMPTY_OR_UNDERUTILIZED }).manifests, 'NodePool').spec.disruption.consolidationPolicy).toBe('WhenEmptyOrUnderutilized');
  });

  test('the node class requires IMDSv2 with hop limit 1, an encrypted gp3 root volume, and finds subnets and security groups by discovery tag', () => {
    const spec = only(synth({ rootVolumeSize: Size.gibibytes(500) }).manifests, 'EC2NodeClass').spec;
    expect(spec.role).toBe('KarpenterNodeRole-ml');
    expect(spec.amiSelectorTerms).toEqual([{ alias: 'al2023@latest' }]);
    expect(spec.metadataOptions).toEqual({ httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' });
    expect(spec.blockDeviceMappings).toEqual([{ deviceName: '/dev/xvda', ebs: { volumeSize: '500Gi', volumeType: 'gp3', encrypted: true, deleteOnTermination: true } }]);
    expect(spec.subnetSelectorTerms).toEqual([{ tags: { 'karpenter.sh/discovery': 'ml' } }]);
    expect(spec.securityGroupSelectorTerms).toEqual([{ tags: { 'karpenter.sh/discovery': 'ml' } }]);
  });

  test('the node class tags the instances it launches with the discovery tag and the pool\'s node-group name', () => {
    const spec = only(synth().manifests, 'EC2NodeClass').spec;
    expect(spec.tags).toEqual({ 'karpenter.sh/discovery': 'ml', 'ai-platform.dev/node-group': 'training' });
  });

  test('on Bottlerocket, nodes get no device-plugin label (the AMI ships the plugin)', () => {
    const { manifests, pool } = synth({ ami: KarpenterAmi.bottlerocket('v1.30.0') });
    expect(only(manifests, 'EC2NodeClass').spec.amiSelectorTerms).toEqual([{ alias: 'bottlerocket@v1.30.0' }]);
    // Bottlerocket keeps images on its second (data) volume: that is the one to size.
    expect(only(manifests, 'EC2NodeClass').spec.blockDeviceMappings).toContainEqual(
      { deviceName: '/dev/xvdb', ebs: { volumeSize: '200Gi', volumeType: 'gp3', encrypted: true, deleteOnTermination: true } },
    );
    expect(pool.nodeLabels['ai-platform.dev/device-plugin']).toBeUndefined();
  });

  test('on Bottlerocket, the OS volume (/dev/xvda) is encrypted gp3 too, not left to the AMI\'s own mapping', () => {
    // Karpenter applies its per-family default mappings only when blockDeviceMappings is empty
    // (aws/karpenter-provider-aws pkg/providers/amifamily/resolver.go); its Bottlerocket default is xvda 4Gi + xvdb,
    // both encrypted gp3 (bottlerocket.go DefaultBlockDeviceMappings). Listing xvdb alone left xvda to the AMI.
    expect(only(synth({ ami: KarpenterAmi.bottlerocket() }).manifests, 'EC2NodeClass').spec.blockDeviceMappings).toEqual([
      { deviceName: '/dev/xvda', ebs: { volumeSize: '4Gi', volumeType: 'gp3', encrypted: true, deleteOnTermination: true } },
      { deviceName: '/dev/xvdb', ebs: { volumeSize: '200Gi', volumeType: 'gp3', encrypted: true, deleteOnTermination: true } },
    ]);
  });

  test('Neuron nodes on Bottlerocket keep the device-plugin label: Bottlerocket ships only the NVIDIA plugin', () => {
    const { manifests, pool } = synth({ instanceTypes: [GpuInstanceType.INF2_XLARGE], ami: KarpenterAmi.bottlerocket() });
    // Without it neither the Neuron Helm release nor DevicePluginDaemonSet runs there, and no node advertises aws.amazon.com/neuron.
    expect(pool.nodeLabels['ai-platform.dev/device-plugin']).toBe('neuron');
    expect(only(manifests, 'NodePool').spec.template.metadata.labels['ai-platform.dev/device-plugin']).toBe('neuron');
  });

  test('Neuron nodes on Bottlerocket let non-root pods own the Neuron devices; other nodes get no user data', () => {
    // Bottlerocket leaves /dev/neuron* to root unless device-ownership-from-security-context is on (Karpenter's
    // "Device ownership in Bottlerocket", aws/karpenter-provider-aws#7722): the construct's pods run as uid 10001.
    const neuron = only(synth({ instanceTypes: [GpuInstanceType.INF2_XLARGE], ami: KarpenterAmi.bottlerocket() }).manifests, 'EC2NodeClass');
    expect(neuron.spec.userData).toBe('[settings.kubernetes]\ndevice-ownership-from-security-context = true\n');
    expect(only(synth({ ami: KarpenterAmi.bottlerocket() }).manifests, 'EC2NodeClass').spec.userData).toBeUndefined();
    expect(only(synth({ instanceTypes: [GpuInstanceType.INF2_XLARGE] }).manifests, 'EC2NodeClass').spec.userData).toBeUndefined();
  });

  test('Neuron instances get the Neuron taint, resource and device-plugin label', () => {
    const { manifests } = synth({ instanceTypes: [GpuInstanceType.INF2_XLARGE] });
    const pool = only(manifests, 'NodePool');
    expect(pool.spec.template.spec.taints).toEqual([{ key: 'aws.amazon.com/neuron', value: 'true', effect: 'NoSchedule' }]);
    expect(pool.spec.limits).toEqual({ 'aws.amazon.com/neuron': 8 });
    expect(pool.spec.template.metadata.labels['ai-platform.dev/device-plugin']).toBe('neuron');
    expect(pool.spec.template.metadata.labels['ai-platform.dev/accelerator-vendor']).toBe(AcceleratorVendor.AWS_NEURON);
  });

  test('in a namespaced chart, the cluster-scoped objects carry no namespace', () => {
    const { manifests } = synth({}, 'ml');
    for (const m of manifests) expect(m.metadata.namespace).toBeUndefined();
  });

  test('workloads accept the pool as their nodes and land on exactly its labels and taints', () => {
    const chart = Testing.chart();
    const pool = new GpuNodePool(chart, 'Gpu', { instanceTypes: [GpuInstanceType.G5_12XLARGE], ...BASE, capacity: Capacity.spot() });
    new TrainingJob(chart, 'Train', { image: 't:1', nodes: pool, acceleratorsPerPod: 4 });
    new InferenceService(chart, 'Serve', { image: 's:1', nodes: pool });
    const manifests = synthValid(chart);
    const labels = only(manifests, 'NodePool').spec.template.metadata.labels;
    for (const workload of [only(manifests, 'Job'), only(manifests, 'Deployment')]) {
      const expressions = podSpec(workload).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions;
      expect(Object.fromEntries(expressions.map((e: { key: string; values: string[] }) => [e.key, e.values[0]]))).toEqual(labels);
      expect(podSpec(workload).tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
    }
    expect(podSpec(only(manifests, 'Job')).containers[0].resources.limits['nvidia.com/gpu']).toBe(4);
  });

  test('the CRD schemas reject an unknown field and a malformed duration', () => {
    const pool = JSON.parse(JSON.stringify(only(synth().manifests, 'NodePool')));
    pool.spec.template.spec.expireAfter = '30d';
    expect(() => validateManifest(pool)).toThrow(/expireAfter must match pattern/);
    const nodeClass = JSON.parse(JSON.stringify(only(synth().manifests, 'EC2NodeClass')));
    nodeClass.spec.metadataOption = nodeClass.spec.metadataOptions;
    expect(() => validateManifest(nodeClass)).toThrow(/must NOT have additional properties/);
  });

  test('the NodePool schema applies the CRD\'s label rules: the pool\'s labels pass, labels in Karpenter\'s restricted domains fail', () => {
    // Karpenter refuses template labels in the kubernetes.io, k8s.io, karpenter.sh and karpenter.k8s.aws domains
    // (well-known keys excepted); k8s.amazonaws.com/accelerator, cluster-autoscaler's GPU label, is outside them.
    const pool = only(synth().manifests, 'NodePool');
    expect(pool.spec.template.metadata.labels['k8s.amazonaws.com/accelerator']).toBe('nvidia-a10g');
    const withLabel = (key: string) => {
      const copy = JSON.parse(JSON.stringify(pool));
      copy.spec.template.metadata.labels[key] = 'x';
      return () => validateManifest(copy);
    };
    expect(withLabel('node-role.kubernetes.io/gpu')).toThrow(/label "node-role.kubernetes.io\/gpu" is in the restricted domain "kubernetes.io"/);
    expect(withLabel('kubernetes.io/hostname')).toThrow(/is restricted/);
    expect(withLabel('karpenter.sh/nodepool')).toThrow(/is restricted/);
    expect(withLabel('k8s.io/cluster-autoscaler-enabled')).toThrow(/restricted domain "k8s.io"/);
    expect(withLabel('karpenter.k8s.aws/ec2nodeclass')).toThrow(/restricted domain "karpenter.k8s.aws"/);
    for (const allowed of ['node.kubernetes.io/lifecycle', 'topology.kubernetes.io/zone', 'karpenter.sh/capacity-type', 'karpenter.k8s.aws/instance-family', 'kops.k8s.io/instancegroup']) {
      expect(withLabel(allowed)).not.toThrow();
    }
  });

  test('with a root volume larger than gp3 allows (16 TiB), synthesis fails: EC2 would refuse every node launch', () => {
    expect(() => synth({ rootVolumeSize: Size.tebibytes(20) })).toThrow(/'rootVolumeSize' \("20480 GiB"\) must be a whole number of GiB from 20 to 16384/);
  });

  test('the root volume may be 20 to 16384 GiB, both ends included', () => {
    expect(() => synth({ rootVolumeSize: Size.gibibytes(19) })).toThrow(/'rootVolumeSize' \("19 GiB"\) must be a whole number of GiB from 20 to 16384/);
    expect(() => synth({ rootVolumeSize: Size.gibibytes(16385) })).toThrow(/'rootVolumeSize' \("16385 GiB"\) must be a whole number of GiB from 20 to 16384/);
    expect(only(synth({ rootVolumeSize: Size.gibibytes(20) }).manifests, 'EC2NodeClass').spec.blockDeviceMappings[0].ebs.volumeSize).toBe('20Gi');
    expect(only(synth({ rootVolumeSize: Size.gibibytes(16384) }).manifests, 'EC2NodeClass').spec.blockDeviceMappings[0].ebs.volumeSize).toBe('16384Gi');
  });

  test('with an empty or fractional root volume, synthesis fails naming it', () => {
    expect(() => synth({ rootVolumeSize: Size.gibibytes(0) })).toThrow(/'rootVolumeSize' \("0 GiB"\) must be a whole number of GiB from 20 to 16384/);
    expect(() => synth({ rootVolumeSize: Size.mebibytes(204900) })).toThrow(/'rootVolumeSize' \("200\.09765625 GiB"\) must be a whole number of GiB/);
  });

  test('with a disruption duration that is not a whole number of seconds, synthesis fails naming it', () => {
    expect(() => synth({ consolidateAfter: KarpenterDuration.of(Duration.millis(1500)) })).toThrow(/'consolidateAfter' \("1\.5s"\) must be a whole number of seconds/);
    expect(() => synth({ expireAfter: KarpenterDuration.of(Duration.millis(90500)) })).toThrow(/'expireAfter' \("90\.5s"\) must be a whole number of seconds/);
  });

  test('with an expireAfter of zero, synthesis fails: every node would expire as soon as it launched', () => {
    expect(() => synth({ expireAfter: KarpenterDuration.of(Duration.seconds(0)) })).toThrow(/'expireAfter' \("0s"\) must be longer than 0s/);
    // consolidateAfter 0s is Karpenter's "consolidate at once", a real choice.
    expect(() => synth({ consolidateAfter: KarpenterDuration.of(Duration.seconds(0)) })).not.toThrow();
  });

  test('with instance types of different accelerator models, synthesis fails', () => {
    expect(() => synth({ instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.G6_XLARGE] }))
      .toThrow(/'instanceTypes' \(\["g5.xlarge","g6.xlarge"\]\) must share one acceleratorModel \(got A10G, L4\)/);
  });

  test('with instance types of different accelerator counts, synthesis fails', () => {
    expect(() => synth({ instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.G5_12XLARGE] })).toThrow(/must share one acceleratorCount \(got 1, 4\)/);
  });

  test('Graviton GPU instances require arm64 nodes; mixing them with x86_64 fails', () => {
    const arm = GpuInstanceType.custom({
      name: 'g5g.xlarge', vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'T4G', acceleratorCount: 1,
      acceleratorMemoryGiB: 16, vcpus: 4, memoryGiB: 8, architecture: CpuArchitecture.ARM64,
    });
    const reqs = only(synth({ instanceTypes: [arm] }).manifests, 'NodePool').spec.template.spec.requirements;
    expect(reqs).toContainEqual({ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] });
    const x86 = GpuInstanceType.custom({
      name: 'g4x.xlarge', vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'T4G', acceleratorCount: 1,
      acceleratorMemoryGiB: 16, vcpus: 4, memoryGiB: 16,
    });
    expect(() => synth({ instanceTypes: [arm, x86] })).toThrow(/'instanceTypes' \(\["g5g.xlarge","g4x.xlarge"\]\) must share one architecture \(got arm64, x86_64\)/);
  });

  test('with instance types of different vendors, synthesis fails', () => {
    expect(() => synth({ instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.INF2_XLARGE] })).toThrow(/must share one vendor \(got nvidia, aws-neuron\)/);
  });

  test('with no instance types, synthesis fails', () => {
    expect(() => synth({ instanceTypes: [] })).toThrow(/'instanceTypes' \(\[\]\) must hold at least one accelerator instance type/);
  });

  test('with a GPU limit below one node, synthesis fails', () => {
    expect(() => synth({ instanceTypes: [GpuInstanceType.G5_12XLARGE], maxAccelerators: 2 })).toThrow(/'maxAccelerators' \(2\) must be a whole number >= 4 \(the accelerators of one g5.12xlarge\)/);
  });

  test('a GPU limit of exactly one node is allowed, and is the NodePool\'s limit', () => {
    const { manifests } = synth({ instanceTypes: [GpuInstanceType.G5_12XLARGE], maxAccelerators: 4 });
    expect(only(manifests, 'NodePool').spec.limits).toEqual({ 'nvidia.com/gpu': 4 });
  });

  test('with a disruption budget of 0 percent, synthesis fails', () => {
    expect(() => synth({ disruptionBudgetPercent: 0 })).toThrow(/'disruptionBudgetPercent' \(0\) must be a whole number from 1 to 100/);
  });

  test('with a weight above 100, synthesis fails', () => {
    expect(() => synth({ weight: 101 })).toThrow(/'weight' \(101\) must be a whole number from 1 to 100/);
  });

  test('two pools of one name in an app fail synthesis, naming it, even in charts of different namespaces: a NodePool and an EC2NodeClass are cluster-scoped', () => {
    const app = Testing.app();
    const serving = new Chart(app, 'Serving', { namespace: 'serving' });
    const training = new Chart(app, 'Training', { namespace: 'training' });
    new GpuNodePool(serving, 'Gpu', { instanceTypes: [GpuInstanceType.G5_XLARGE], ...BASE });
    expect(() => new GpuNodePool(training, 'Gpu', { instanceTypes: [GpuInstanceType.G6_XLARGE], capacity: Capacity.spot(), ...BASE }))
      .toThrow(/'name' \("gpu"\) is also the name of GpuNodePool Serving\/Gpu: both render a NodePool and an EC2NodeClass named gpu, which are cluster-scoped.*: give one of them another name/);
    expect(() => new GpuNodePool(serving, 'Spot', { name: 'gpu', instanceTypes: [GpuInstanceType.G6_XLARGE], ...BASE })).toThrow(/'name' \("gpu"\) is also the name of GpuNodePool Serving\/Gpu/);
    // Other names, and the same name in another app (another cluster's folder), pass.
    expect(() => new GpuNodePool(training, 'TrainingGpu', { instanceTypes: [GpuInstanceType.G6_XLARGE], ...BASE })).not.toThrow();
    expect(() => new GpuNodePool(new Chart(Testing.app(), 'Other'), 'Gpu', { instanceTypes: [GpuInstanceType.G5_XLARGE], ...BASE })).not.toThrow();
  });

  test('with an invalid name, synthesis fails', () => {
    expect(() => synth({ name: 'GPU pool' })).toThrow(/'name' \("GPU pool"\) must be a DNS label/);
  });

  test('with a clusterName that no EKS cluster can have, synthesis fails: the API server refuses empty selector tag values', () => {
    // EC2NodeClass CRD: "empty tag keys or values aren't supported" on subnetSelectorTerms and securityGroupSelectorTerms.
    expect(() => synth({ clusterName: '' })).toThrow(/'clusterName' \(""\) must be an EKS cluster name: 1-100 letters, digits, "-" or "_", starting with a letter or digit/);
    expect(() => synth({ clusterName: 'ml prod' })).toThrow(/'clusterName' \("ml prod"\) must be an EKS cluster name/);
    expect(() => synth({ clusterName: 'a'.repeat(101) })).toThrow(/'clusterName' \("a{101}"\) must be an EKS cluster name/);
    expect(() => synth({ clusterName: 'a'.repeat(100) })).not.toThrow();
    expect(() => synth({ clusterName: Token.asString({ Ref: 'ClusterName' }) })).not.toThrow();
  });

  test('with an empty nodeRoleName, synthesis fails: the EC2NodeClass CRD refuses an empty role', () => {
    expect(() => synth({ nodeRoleName: '' })).toThrow(/'nodeRoleName' \(""\) must name the IAM role of the nodes/);
    expect(() => synth({ nodeRoleName: ' ' })).toThrow(/'nodeRoleName' \(" "\) must name the IAM role of the nodes/);
  });

  test('with a nodeRoleName that is no IAM role name (an ARN, a path, over 64 characters), synthesis fails: Karpenter adds the role to an instance profile by name, so no node could launch', () => {
    // IAM RoleName: 1-64 characters matching [\w+=,.@-]+; EC2NodeClass spec.role takes the name, without a path.
    expect(() => synth({ nodeRoleName: 'arn:aws:iam::123456789012:role/KarpenterNodeRole-ml' }))
      .toThrow(/'nodeRoleName' \("arn:aws:iam::123456789012:role\/KarpenterNodeRole-ml"\) must name the IAM role of the nodes: 1-64 letters, digits or \+=,\.@_- \(the role's name, not its ARN or path.*: pass the role's name, e.g. "KarpenterNodeRole-ml"/);
    expect(() => synth({ nodeRoleName: 'nodes/KarpenterNodeRole-ml' })).toThrow(/'nodeRoleName' \("nodes\/KarpenterNodeRole-ml"\) must name the IAM role/);
    expect(() => synth({ nodeRoleName: 'r'.repeat(65) })).toThrow(/'nodeRoleName' \("r{65}"\) must name the IAM role/);
    expect(() => synth({ nodeRoleName: 'r'.repeat(64) })).not.toThrow();
    expect(() => synth({ nodeRoleName: 'Karpenter+Node=Role,ml.x@y_z-1' })).not.toThrow();
    expect(() => synth({ nodeRoleName: Token.asString({ Ref: 'NodeRoleName' }) })).not.toThrow();
  });

  test('KarpenterAmi with a version Karpenter refuses (empty, with spaces, or an alias over 30 characters) fails naming it', () => {
    // EC2NodeClass CRD: amiSelectorTerms[].alias is "family@version" with maxLength 30.
    expect(() => KarpenterAmi.al2023('')).toThrow(/'version' \(""\) must be an AMI release such as "v20250505", or "latest"/);
    expect(() => KarpenterAmi.bottlerocket('v1.30.0 ')).toThrow(/'version' \("v1.30.0 "\) must be an AMI release/);
    expect(() => KarpenterAmi.bottlerocket('v1.30.0-0123456789')).toThrow(/'version' \("v1.30.0-0123456789"\) must be an AMI release .*"bottlerocket@v1.30.0-0123456789" \(31 characters\) is longer than the 30 Karpenter takes/);
    expect(KarpenterAmi.al2023('v20250505').alias).toBe('al2023@v20250505');
    expect(KarpenterAmi.bottlerocket('v1.30.0').alias).toBe('bottlerocket@v1.30.0');
  });
});

test('a JavaScript caller without props, or with instanceTypes that is no array, gets an error naming instanceTypes instead of a TypeError', () => {
  const chart = Testing.chart();
  expect(() => new GpuNodePool(chart, 'NoProps', undefined as unknown as GpuNodePoolProps))
    .toThrow(/^\[test\/NoProps\] 'instanceTypes' \(undefined\) is required: an array of GpuInstanceType/);
  expect(() => new GpuNodePool(chart, 'One', { instanceTypes: 'g5.xlarge', clusterName: 'prod', nodeRoleName: 'nodes' } as unknown as GpuNodePoolProps))
    .toThrow(/^\[test\/One\] 'instanceTypes' \("g5.xlarge"\) must be an array of GpuInstanceType/);
});
