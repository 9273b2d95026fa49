import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Chart, Testing, Yaml } from 'cdk8s';
import { IConstruct } from 'constructs';
import { ModelSource, ScalingMetric } from '../../constructs/k8s/inference-service';
import { AcceleratorVendor, GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { GpuNodePool, KarpenterAmi } from '../../constructs/k8s/gpu-node-pool';
import { AcceleratorNodes } from '../../constructs/k8s/accelerator-scheduling';
import { NEURON_DEVICE_PLUGIN, NVIDIA_DEVICE_PLUGIN } from '../../lib/private/device-plugins';
import { AiPlatformStack } from '../../lib/ai-platform-stack';
import {
  buildPlatformCharts, DEFAULT_SERVER_IMAGE, DEFAULT_TRAINING_COMMAND, KUSTOMIZATION_FILE, PlatformCharts, PlatformChartsProps, REFERENCE_NODE_GROUPS, referenceInferenceNodes,
  referenceTrainingNodes, writePlatformManifests,
} from '../../lib/platform-chart';
import { AnnotationLevel, constructAnnotations } from '../../lib/construct-annotations';
import { TEST_CONTEXT } from '../helpers';
import { only, podSpec, synthValid } from './helpers';
import { validateManifests } from './validate';

const REPO = path.join(__dirname, '..', '..');

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'aip-k8s-'));
}

/** Warnings recorded on a construct, as `Annotations.of(...).addWarningV2` writes them. */
function warnings(scope: IConstruct): string[] {
  return scope.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
}

function readAll(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

describe('reference platform charts', () => {
  const charts = buildPlatformCharts(Testing.app());

  test('serves the bundled server image on the on-demand inference nodes, with an HPA, PDB and NetworkPolicy', () => {
    const manifests = synthValid(charts.serving);
    const spec = podSpec(only(manifests, 'Deployment', 'inference-server'));
    expect(spec.containers[0].image).toBe(DEFAULT_SERVER_IMAGE);
    expect(DEFAULT_SERVER_IMAGE).toMatch(/inference-server-gpu:/);
    expect(spec.containers[0].env).toContainEqual({ name: 'ORT_EXECUTION_PROVIDERS', value: 'cuda' });
    expect(spec.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    const expressions = spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions;
    expect(expressions).toContainEqual({ key: 'ai-platform.dev/node-group', operator: 'In', values: [REFERENCE_NODE_GROUPS.inference] });
    expect(expressions).toContainEqual({ key: 'ai-platform.dev/capacity-type', operator: 'In', values: ['on-demand'] });
    expect(manifests.map((m) => m.kind).sort()).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'Namespace', 'NetworkPolicy', 'PodDisruptionBudget', 'Service']);
    expect(only(manifests, 'Namespace').metadata).toEqual({
      name: 'ai-serving', labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' },
    });
    expect(only(manifests, 'Deployment').metadata.namespace).toBe('ai-serving');
    const hpa = only(manifests, 'HorizontalPodAutoscaler').spec;
    expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([2, 3]);
    // CPU only by default: a pods metric that no adapter serves makes the autoscaler skip every scale-down.
    expect(hpa.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    // By default only the serving namespace itself (and the monitoring namespace) may call the server.
    expect(only(manifests, 'NetworkPolicy').spec.ingress.map((rule: { from: unknown[] }) => rule.from)).toEqual([
      [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ai-serving' } } }],
      [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    ]);
  });

  test('with scalingMetric (a metrics adapter on the cluster), the autoscaler scales on it besides CPU', () => {
    const given = buildPlatformCharts(Testing.app(), { scalingMetric: ScalingMetric.queueDepth(16) });
    const hpa = only(synthValid(given.serving), 'HorizontalPodAutoscaler').spec;
    expect(hpa.metrics[1]).toEqual({ type: 'Pods', pods: { metric: { name: 'inference_queue_depth' }, target: { type: 'AverageValue', averageValue: 16 } } });
  });

  test('serves the model from S3 when given one, under the name and service account given', () => {
    const app = Testing.app();
    const given = buildPlatformCharts(app, { model: ModelSource.fromS3Uri('s3://models/fraud-mlp/'), modelName: 'fraud-mlp', serverServiceAccountName: 'model-reader' });
    const spec = podSpec(only(synthValid(given.serving), 'Deployment', 'inference-server'));
    expect(spec.initContainers[0].command.slice(3)).toEqual(['fetch-model', 's3://models/fraud-mlp/', '/opt/ml/model']);
    expect(spec.containers[0].env).toContainEqual({ name: 'MODEL_NAME', value: 'fraud-mlp' });
    expect(spec.serviceAccountName).toBe('model-reader');
  });

  test('trains on the spot training nodes with a checkpoint claim', () => {
    const manifests = synthValid(charts.training);
    const job = only(manifests, 'Job', 'spot-gpu-check');
    const spec = podSpec(job);
    // By default the job checks the spot GPU path: it prints the GPU and writes to the checkpoint volume.
    expect(spec.containers[0].command).toEqual(DEFAULT_TRAINING_COMMAND);
    expect(spec.containers[0].resources.limits['nvidia.com/gpu']).toBeDefined();
    const expressions = spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions;
    expect(expressions).toContainEqual({ key: 'ai-platform.dev/node-group', operator: 'In', values: [REFERENCE_NODE_GROUPS.training] });
    expect(expressions).toContainEqual({ key: 'ai-platform.dev/capacity-type', operator: 'In', values: ['spot'] });
    expect(only(manifests, 'PersistentVolumeClaim').metadata.name).toBe('spot-gpu-check-checkpoints');
    expect(job.spec.activeDeadlineSeconds).toBe(12 * 3600);
  });

  test('a trainer image replaces the spot GPU check and keeps its own entrypoint', () => {
    const own = buildPlatformCharts(Testing.app(), { trainingImage: 'registry.example.com/trainer:2.1' });
    const spec = podSpec(only(synthValid(own.training), 'Job', 'training'));
    expect(spec.containers[0].image).toBe('registry.example.com/trainer:2.1');
    expect(spec.containers[0].command).toBeUndefined();
  });

  test('adds the NVIDIA device plugin DaemonSet only when asked: AiPlatformStack installs it as a Helm release of the same name', () => {
    expect(charts.devicePlugins).toBeUndefined();
    const own = buildPlatformCharts(Testing.app(), { devicePlugin: true });
    const manifests = synthValid(own.devicePlugins!);
    expect(manifests.map((m) => m.kind)).toEqual(['DaemonSet']);
    expect(manifests[0].metadata).toMatchObject({ name: NVIDIA_DEVICE_PLUGIN.release, namespace: NVIDIA_DEVICE_PLUGIN.namespace });
  });

  test('with Trainium training nodes, adds the Neuron device plugin beside the NVIDIA one', () => {
    const trn1 = AcceleratorNodes.labeled({ vendor: AcceleratorVendor.AWS_NEURON, labels: { 'ai-platform.dev/node-group': 'trn1' }, acceleratorsPerNode: 16 });
    const own = buildPlatformCharts(Testing.app(), { devicePlugin: true, trainingNodes: trn1, trainingImage: 'example.com/neuron-trainer:1' });
    const daemonSets = synthValid(own.devicePlugins!).filter((m) => m.kind === 'DaemonSet').map((m) => m.metadata.name).sort();
    expect(daemonSets).toEqual([NEURON_DEVICE_PLUGIN.release, NVIDIA_DEVICE_PLUGIN.release].sort());
  });

  test('with devicePlugin and nodes described by labels without the device-plugin label, synthesis warns for each, naming the label to add', () => {
    const inferenceNodes = AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, labels: { 'ai-platform.dev/node-group': 'gpu' } });
    const trn1 = AcceleratorNodes.labeled({ vendor: AcceleratorVendor.AWS_NEURON, labels: { 'ai-platform.dev/node-group': 'trn1' }, acceleratorsPerNode: 16 });
    const own = buildPlatformCharts(Testing.app(), { devicePlugin: true, inferenceNodes, trainingNodes: trn1, trainingImage: 'example.com/neuron-trainer:1' });
    const found = warnings(own.devicePlugins!);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^devicePlugin: the inferenceNodes \(\{"ai-platform.dev\/node-group":"gpu"\}\) are described by their labels \(AcceleratorNodes.labeled\), not made by GpuNodeGroup or GpuNodePool, and those labels do not include ai-platform.dev\/device-plugin=nvidia: .*label the nodes ai-platform.dev\/device-plugin=nvidia .*and add that label to the labels given to AcceleratorNodes.labeled, so the workloads also require it.*\[ack: ai-platform:devicePluginNodesUnlabeled\]$/);
    expect(found[1]).toMatch(/^devicePlugin: the trainingNodes .*ai-platform.dev\/device-plugin=neuron/);
  });

  test('with devicePlugin, nodes whose labels include the device-plugin label, and the Karpenter pool, do not warn', () => {
    const inferenceNodes = AcceleratorNodes.labeled({
      vendor: AcceleratorVendor.NVIDIA, labels: { 'ai-platform.dev/node-group': 'gpu', 'ai-platform.dev/device-plugin': 'nvidia' },
    });
    const own = buildPlatformCharts(Testing.app(), { devicePlugin: true, inferenceNodes, karpenter: { clusterName: 'ai-platform', nodeRoleName: 'KarpenterNodeRole-ai-platform' } });
    expect(warnings(own.devicePlugins!)).toEqual([]);
  });

  test('with devicePlugin, a Bottlerocket NVIDIA pool does not warn: its nodes lack the device-plugin label because the AMI brings its own plugin', () => {
    const app = Testing.app();
    const pool = new GpuNodePool(new Chart(app, 'pools'), 'Bottlerocket', {
      instanceTypes: [GpuInstanceType.G5_2XLARGE], clusterName: 'ai-platform', nodeRoleName: 'KarpenterNodeRole-ai-platform', ami: KarpenterAmi.bottlerocket(),
    });
    expect(pool.nodeLabels['ai-platform.dev/device-plugin']).toBeUndefined();
    const own = buildPlatformCharts(app, { devicePlugin: true, inferenceNodes: pool, trainingNodes: pool });
    expect(warnings(own.devicePlugins!)).toEqual([]);
  });

  test('with Trainium training nodes and no trainingImage, synthesis fails: the default job is a CUDA image running nvidia-smi', () => {
    const trn1 = AcceleratorNodes.labeled({ vendor: AcceleratorVendor.AWS_NEURON, labels: { 'ai-platform.dev/node-group': 'trn1' } });
    expect(() => buildPlatformCharts(Testing.app(), { trainingNodes: trn1 })).toThrow(
      /^'trainingImage' \(undefined\) is required with AWS Neuron training nodes: the default job .*nvidia-smi.*: pass trainingImage/);
  });

  test('refuses Neuron inference nodes: the serving chart runs the bundled server, which cannot use Neuron devices', () => {
    const inf2 = AcceleratorNodes.labeled({ vendor: AcceleratorVendor.AWS_NEURON, labels: { 'ai-platform.dev/node-group': 'inf2' } });
    expect(() => buildPlatformCharts(Testing.app(), { inferenceNodes: inf2 })).toThrow(
      /^'inferenceNodes' \(\{"vendor":"aws-neuron","labels":\{"ai-platform.dev\/node-group":"inf2"\}\}\) must be NVIDIA nodes: the serving chart runs the bundled server, .* no Neuron execution provider .*: pass an NVIDIA GpuNodeGroup or GpuNodePool/);
  });

  test('a namespace name Kubernetes refuses fails synthesis, naming the prop', () => {
    expect(() => buildPlatformCharts(Testing.app(), { trainingNamespace: 'AI_Training' }))
      .toThrow(/'trainingNamespace' \("AI_Training"\) must be a namespace name/);
    expect(() => buildPlatformCharts(Testing.app(), { servingNamespace: 'Serving', clientNamespaces: ['web'] }))
      .toThrow(/'servingNamespace' \("Serving"\) must be a namespace name/);
  });

  test('serving and training in one namespace declare it once (kustomize refuses two resources with one id)', () => {
    const shared = buildPlatformCharts(Testing.app(), { servingNamespace: 'ai', trainingNamespace: 'ai' });
    const namespaces = [...synthValid(shared.serving), ...synthValid(shared.training)].filter((m) => m.kind === 'Namespace');
    expect(namespaces.map((m) => m.metadata.name)).toEqual(['ai']);
    expect(only(synthValid(shared.training), 'Job').metadata.namespace).toBe('ai');
  });

  test('adds a Karpenter GPU pool only when asked', () => {
    expect(charts.karpenter).toBeUndefined();
    const withPool = buildPlatformCharts(Testing.app(), { karpenter: { clusterName: 'ai-platform', nodeRoleName: 'KarpenterNodeRole-ai-platform' } });
    const manifests = synthValid(withPool.karpenter!);
    expect(manifests.map((m) => m.kind)).toEqual(['EC2NodeClass', 'NodePool']);
    expect(only(manifests, 'NodePool').spec.template.spec.requirements).toContainEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] });
    // The training job's 16 GiB fits g5.2xlarge and g5.4xlarge (32 and 64 GiB), not g5.xlarge (16 GiB, less what the
    // kubelet reserves): two spot markets for it, not one.
    expect(only(manifests, 'NodePool').spec.template.spec.requirements).toContainEqual(
      { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['g5.2xlarge', 'g5.4xlarge', 'g5.xlarge'] });
  });

  test('with karpenter, the training job lands on the pool\'s nodes: Karpenter only launches nodes that meet a pending pod\'s required node affinity', () => {
    const withPool = buildPlatformCharts(Testing.app(), { karpenter: { clusterName: 'ai-platform', nodeRoleName: 'KarpenterNodeRole-ai-platform' } });
    const pool = only(synthValid(withPool.karpenter!), 'NodePool').spec.template;
    const spec = podSpec(only(synthValid(withPool.training), 'Job'));
    const expressions: { key: string; operator: string; values: string[] }[] = spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions;
    // Every node of the pool carries the template's labels: each expression must hold for them.
    const unmet = expressions.filter((e) => !(e.operator === 'In' && e.values.includes(pool.metadata.labels[e.key])));
    expect(unmet).toEqual([]);
    for (const taint of pool.spec.taints) {
      expect(spec.tolerations).toContainEqual({ key: taint.key, operator: 'Equal', value: taint.value, effect: taint.effect });
    }
  });

  test('null props from a JavaScript caller mean the defaults, as no props do', () => {
    const given = buildPlatformCharts(Testing.app(), null as unknown as PlatformChartsProps);
    expect(Testing.synth(given.serving)).toEqual(Testing.synth(charts.serving));
    expect(Testing.synth(given.training)).toEqual(Testing.synth(charts.training));
  });

  test('karpenter together with trainingNodes fails: the pool is the training nodes', () => {
    expect(() => buildPlatformCharts(Testing.app(), {
      karpenter: { clusterName: 'ai-platform', nodeRoleName: 'KarpenterNodeRole-ai-platform' }, trainingNodes: referenceTrainingNodes(),
    })).toThrow(/^'karpenter' \(.*\) cannot be combined with 'trainingNodes': the training job runs on the Karpenter pool's nodes.*: drop trainingNodes/);
  });

  test('writes one YAML file per chart and a kustomization listing them, every manifest schema-valid', () => {
    const dir = tmp();
    writePlatformManifests(dir);
    fs.writeFileSync(path.join(dir, 'stale.yaml'), 'left from an earlier run');
    const { files } = writePlatformManifests(dir, { serverImage: 'registry.example.com/server:2.0.0', devicePlugin: true });
    expect(files).toEqual(['device-plugins.yaml', 'serving.yaml', 'training.yaml', KUSTOMIZATION_FILE]);
    expect(fs.readdirSync(dir).sort()).toEqual([...files].sort());
    const kustomization = Yaml.load(path.join(dir, KUSTOMIZATION_FILE))[0];
    expect(kustomization).toEqual({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['device-plugins.yaml', 'serving.yaml', 'training.yaml'] });
    let count = 0;
    for (const f of files.filter((x) => x !== KUSTOMIZATION_FILE)) {
      count += validateManifests(Yaml.load(path.join(dir, f)));
    }
    expect(count).toBe(10);
    expect(fs.readFileSync(path.join(dir, 'serving.yaml'), 'utf8')).toContain('image: registry.example.com/server:2.0.0');
  });

  test('writePlatformManifests returns the annotations recorded on the charts, which cdk8s does not print', () => {
    // the reference nodes are described by labels without the device-plugin label: one warning each
    const { annotations } = writePlatformManifests(tmp(), { devicePlugin: true });
    expect(annotations).toHaveLength(2);
    expect(annotations.map((a) => [a.level, a.path])).toEqual([[AnnotationLevel.WARNING, '/device-plugins'], [AnnotationLevel.WARNING, '/device-plugins']]);
    expect(annotations[0].message).toMatch(/^devicePlugin: the inferenceNodes .* \[ack: ai-platform:devicePluginNodesUnlabeled\]$/);
    expect(writePlatformManifests(tmp()).annotations).toEqual([]);
  });

  test('buildPlatformCharts\' warnings can be read from the app with constructAnnotations', () => {
    const app = Testing.app();
    buildPlatformCharts(app, { devicePlugin: true });
    expect(constructAnnotations(app).map((a) => `${a.level} ${a.path}`)).toEqual(['warning /device-plugins', 'warning /device-plugins']);
  });

  test('a folder that holds something else than an earlier output is left alone, and writing fails naming it', () => {
    // The folder is emptied before writing: `bin/k8s.ts .` in a repository would otherwise delete the repository.
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'notes.md'), 'mine');
    expect(() => writePlatformManifests(dir)).toThrow(/^'outdir' \(".*aip-k8s-.*"\) is not empty and holds no kustomization.yaml written by writePlatformManifests.*: pass an empty or missing folder/);
    expect(fs.readdirSync(dir)).toEqual(['notes.md']);
    // A kustomization.yaml of someone else's does not count as an earlier output either.
    fs.writeFileSync(path.join(dir, KUSTOMIZATION_FILE), 'resources: [app.yaml]\n');
    expect(() => writePlatformManifests(dir)).toThrow(/'outdir' .* is not empty/);
    expect(fs.readdirSync(dir).sort()).toEqual([KUSTOMIZATION_FILE, 'notes.md']);
    // An empty folder, or a missing one, is written.
    expect(writePlatformManifests(tmp()).files).toContain(KUSTOMIZATION_FILE);
    expect(writePlatformManifests(path.join(tmp(), 'new', 'k8s')).files).toContain(KUSTOMIZATION_FILE);
  });

  test('bin/k8s.ts writes byte-identical output from run to run, in separate processes', () => {
    const [a, b] = [tmp(), tmp()];
    for (const dir of [a, b]) {
      execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(REPO, 'bin', 'k8s.ts'), dir], { cwd: REPO, env: { ...process.env, AIP_SERVER_IMAGE: '' } });
    }
    const first = readAll(a);
    // No device plugin: the folder is for AiPlatformStack's cluster, where CDK installed it with Helm.
    expect(Object.keys(first)).toEqual([KUSTOMIZATION_FILE, 'serving.yaml', 'training.yaml']);
    expect(readAll(b)).toEqual(first);
    // ... and identical to what the library writes in this process.
    const c = tmp();
    writePlatformManifests(c);
    expect(readAll(c)).toEqual(first);
  });
});

describe('reference platform charts and AiPlatformStack', () => {
  // The node groups' labels and taints are known at construction; only the device plugin test synthesizes.
  const stack = new AiPlatformStack(new App({ context: TEST_CONTEXT }), 'Platform', { env: { account: '123456789012', region: 'us-east-1' } });

  test.each([
    ['inference', () => stack.inferenceNodes, referenceInferenceNodes, (c: PlatformCharts) => only(synthValid(c.serving), 'Deployment')],
    ['training', () => stack.trainingNodes, referenceTrainingNodes, (c: PlatformCharts) => only(synthValid(c.training), 'Job')],
  ])('the %s workload lands on the stack\'s node group, whose labels and taints include the chart\'s defaults', (_name, group, reference, workload) => {
    const nodes = group();
    const ref = reference();
    expect(nodes.nodeLabels).toMatchObject(ref.nodeLabels);
    expect(nodes.nodeTaints).toEqual(ref.nodeTaints);
    expect(nodes.acceleratorsPerNode).toBeGreaterThanOrEqual(ref.acceleratorsPerNode);
    expect(nodes.capacityType).toBe(ref.capacityType);
    // Built from the real node group, the workload requires exactly its labels.
    const spec = podSpec(workload(buildPlatformCharts(Testing.app(), { inferenceNodes: stack.inferenceNodes, trainingNodes: stack.trainingNodes })));
    const expressions = spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions;
    expect(Object.fromEntries(expressions.map((e: { key: string; values: string[] }) => [e.key, e.values[0]]))).toEqual(nodes.nodeLabels);
  });

  test('the serving autoscaler\'s maximum, plus the rolling update\'s extra pod, fits the GPUs of the stack\'s inference node group', () => {
    const manifests = synthValid(buildPlatformCharts(Testing.app(), { inferenceNodes: stack.inferenceNodes }).serving);
    const deployment = only(manifests, 'Deployment');
    const gpusPerPod = podSpec(deployment).containers[0].resources.limits['nvidia.com/gpu'];
    const surge = deployment.spec.strategy.rollingUpdate.maxSurge;
    const maxReplicas = only(manifests, 'HorizontalPodAutoscaler').spec.maxReplicas;
    // Pods the node group cannot hold stay Pending (cluster-autoscaler cannot go past maxSize), and a rollout
    // at maxReplicas waits forever for its surge pod (maxUnavailable is 0).
    expect((maxReplicas + surge) * gpusPerPod).toBeLessThanOrEqual(stack.inferenceNodes.maxSize * stack.inferenceNodes.acceleratorsPerNode);
    expect(only(manifests, 'HorizontalPodAutoscaler').spec.minReplicas).toBeLessThan(maxReplicas);
  });

  test('with devicePlugin, the stack\'s node groups do not warn: their labels are the ones the library gives their nodes', () => {
    const own = buildPlatformCharts(Testing.app(), { devicePlugin: true, inferenceNodes: stack.inferenceNodes, trainingNodes: stack.trainingNodes });
    expect(warnings(own.devicePlugins!)).toEqual([]);
  });

  test('the stack installs the device plugin the charts leave out, as a Helm release named like the DaemonSet they would add', () => {
    const template = Template.fromStack(stack).findResources('Custom::AWSCDK-EKS-HelmChart');
    expect(Object.values(template).map((r) => [r.Properties.Release, r.Properties.Namespace])).toContainEqual([NVIDIA_DEVICE_PLUGIN.release, NVIDIA_DEVICE_PLUGIN.namespace]);
    const own = buildPlatformCharts(Testing.app(), { devicePlugin: true });
    expect(only(synthValid(own.devicePlugins!), 'DaemonSet').metadata.name).toBe(NVIDIA_DEVICE_PLUGIN.release);
    expect(buildPlatformCharts(Testing.app(), { inferenceNodes: stack.inferenceNodes, trainingNodes: stack.trainingNodes }).devicePlugins).toBeUndefined();
  });
});
