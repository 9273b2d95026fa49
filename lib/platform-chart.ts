import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations } from 'aws-cdk-lib';
import { App, Chart, Duration, JsonPatch, YamlOutputType } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { IAcceleratorNodes } from '../constructs/compute/accelerator-nodes';
import { Capacity } from '../constructs/compute/capacity';
import { AcceleratorVendor, GpuInstanceType } from '../constructs/compute/gpu-instance-type';
import { GpuNodeGroup } from '../constructs/compute/gpu-node-group';
import { AcceleratorNodes } from '../constructs/k8s/accelerator-scheduling';
import { DevicePluginDaemonSet } from '../constructs/k8s/device-plugin-daemon-set';
import { GpuNodePool } from '../constructs/k8s/gpu-node-pool';
import { IngressPeer, InferenceService, ModelSource, ScalingMetric } from '../constructs/k8s/inference-service';
import { TrainingJob } from '../constructs/k8s/training-job';
import { ConstructAnnotation, constructAnnotations } from './construct-annotations';
import { PlatformError } from './private/errors';
import {
  CAPACITY_ON_DEMAND, CAPACITY_SPOT, LABEL_ACCELERATOR_VENDOR, LABEL_CAPACITY_TYPE, LABEL_DEVICE_PLUGIN, LABEL_NODE_GROUP,
} from './private/labels';

/** `ai-platform.dev/node-group` values of the reference platform's node groups (AiPlatformStack uses the same). */
export const REFERENCE_NODE_GROUPS = {
  /** On-demand NVIDIA g5 nodes for serving. */
  inference: 'inference',
  /** Spot NVIDIA g5 nodes for training, scaling from zero. */
  training: 'training',
} as const;

/** Name (and `ai-platform.dev/node-group` label) of the Karpenter pool that `karpenter` adds for the training job. */
export const KARPENTER_POOL_NAME = 'gpu-spot';

/**
 * Image of the bundled inference server the reference platform serves on its GPU nodes, unless
 * overridden: the CUDA build, `docker build -f container/Dockerfile.gpu -t <this tag> container/`, pushed
 * where the cluster can pull it (then pass that name as `serverImage` / `AIP_SERVER_IMAGE`).
 */
export const DEFAULT_SERVER_IMAGE = 'ai-platform-constructs/inference-server-gpu:0.1.0';
/** Placeholder training image: prints where checkpoints go. Replace it with your trainer. */
export const DEFAULT_TRAINING_IMAGE = 'nvcr.io/nvidia/cuda:12.8.1-base-ubuntu24.04';

/**
 * What the default training job runs: a check of the spot GPU path end to end. It can only run once
 * cluster-autoscaler has scaled the spot training group up from zero, the device plugin has advertised the
 * GPU and the checkpoint volume is mounted; it prints the GPU (`nvidia-smi`) and writes a file to
 * `CHECKPOINT_DIR`. Replace it with your trainer image (`trainingImage`, or `AIP_TRAINING_IMAGE` for `bin/k8s.ts`).
 */
export const DEFAULT_TRAINING_COMMAND = ['sh', '-c', 'nvidia-smi && date -u > "$CHECKPOINT_DIR/spot-gpu-check" && cat "$CHECKPOINT_DIR/spot-gpu-check"'];

/** The reference platform's on-demand inference nodes, by the shared label vocabulary. */
export function referenceInferenceNodes(): IAcceleratorNodes {
  return AcceleratorNodes.labeled({
    vendor: AcceleratorVendor.NVIDIA,
    labels: {
      [LABEL_ACCELERATOR_VENDOR]: AcceleratorVendor.NVIDIA,
      [LABEL_CAPACITY_TYPE]: CAPACITY_ON_DEMAND,
      [LABEL_NODE_GROUP]: REFERENCE_NODE_GROUPS.inference,
    },
    acceleratorsPerNode: GpuInstanceType.G5_XLARGE.acceleratorCount,
    capacity: Capacity.onDemand(),
    instanceTypeNames: [GpuInstanceType.G5_XLARGE.name],
  });
}

/** The reference platform's spot training nodes, by the shared label vocabulary. */
export function referenceTrainingNodes(): IAcceleratorNodes {
  return AcceleratorNodes.labeled({
    vendor: AcceleratorVendor.NVIDIA,
    labels: {
      [LABEL_ACCELERATOR_VENDOR]: AcceleratorVendor.NVIDIA,
      [LABEL_CAPACITY_TYPE]: CAPACITY_SPOT,
      [LABEL_NODE_GROUP]: REFERENCE_NODE_GROUPS.training,
    },
    acceleratorsPerNode: GpuInstanceType.G5_2XLARGE.acceleratorCount,
    capacity: Capacity.spot(),
    instanceTypeNames: [GpuInstanceType.G5_2XLARGE, ...GpuInstanceType.G5_2XLARGE.spotAlternatives()].map((t) => t.name),
  });
}

/** Properties of the reference platform's charts. */
export interface PlatformChartsProps {
  /**
   * The GPU nodes to serve on, e.g. `AiPlatformStack`'s inference `GpuNodeGroup`.
   * @default referenceInferenceNodes(): the reference platform's labels
   */
  readonly inferenceNodes?: IAcceleratorNodes;
  /**
   * The GPU nodes to train on, e.g. `AiPlatformStack`'s training `GpuNodeGroup`.
   * @default referenceTrainingNodes(): the reference platform's labels
   */
  readonly trainingNodes?: IAcceleratorNodes;
  /** @default DEFAULT_SERVER_IMAGE */
  readonly serverImage?: string;
  /**
   * Where the server's model directory (`model.onnx`, optional `serving.json`) comes from. The server
   * image holds no model, so set this (`AIP_MODEL_S3_URI` for `bin/k8s.ts`) unless your image bakes one
   * into `/opt/ml/model`.
   * @default ModelSource.fromImage()
   */
  readonly model?: ModelSource;
  /**
   * Name the server serves the model under (`/v2/models/{name}/infer`, the `model` metrics label).
   * @default 'inference-server'
   */
  readonly modelName?: string;
  /**
   * Service account of the server pods: with `model` from S3 it needs read access to it (IAM roles for
   * service accounts or EKS Pod Identity).
   * @default - the namespace's default service account
   */
  readonly serverServiceAccountName?: string;
  /**
   * Trainer image. Required when `trainingNodes` are AWS Neuron nodes: the default is a CUDA check.
   * @default DEFAULT_TRAINING_IMAGE running DEFAULT_TRAINING_COMMAND, a check of the spot GPU path (NVIDIA nodes only)
   */
  readonly trainingImage?: string;
  /**
   * A metric the serving autoscaler scales on besides CPU, e.g. `ScalingMetric.queueDepth(16)` (the server's
   * `inference_queue_depth` gauge). Only with a metrics adapter that serves it (Prometheus Adapter, KEDA):
   * when a metric cannot be read, the HorizontalPodAutoscaler still scales up on the others but skips
   * every scale-down, so the GPU pods it added would stay. `AiPlatformStack` installs no adapter.
   * @default - CPU only
   */
  readonly scalingMetric?: ScalingMetric;
  /**
   * Namespace of the serving chart (a DNS label: 1-63 lower-case letters, digits or "-").
   * @default 'ai-serving'
   */
  readonly servingNamespace?: string;
  /**
   * Namespace of the training chart; it may be the serving namespace (then declared once).
   * @default 'ai-training'
   */
  readonly trainingNamespace?: string;
  /**
   * Namespaces whose pods may call the inference server (besides the monitoring namespace).
   * @default - the serving namespace itself
   */
  readonly clientNamespaces?: string[];
  /**
   * Add the `device-plugins` chart: the NVIDIA device plugin as a DaemonSet in kube-system (and the
   * Neuron one too when `trainingNodes` are AWS Neuron nodes). Only for a
   * cluster that has no plugin yet. `AiPlatformStack`, and any `GpuNodeGroup` on a cluster CDK can run
   * kubectl on, installs it as the Helm release `nvidia-device-plugin`, whose DaemonSet has the same
   * name: applying this one over it fails (its label selector differs, and selectors cannot change),
   * and the release and GitOps would both own it. The DaemonSet runs only on nodes labelled
   * `ai-platform.dev/device-plugin=nvidia` (or `neuron`): `GpuNodeGroup` and `GpuNodePool` label their nodes so,
   * but nodes described by `AcceleratorNodes.labeled` (the default reference nodes among them) get the plugin only
   * if someone labels them. For such nodes whose `labels` do not include it, a warning
   * (`ai-platform:devicePluginNodesUnlabeled`) is recorded on the `device-plugins` chart naming the label to add;
   * cdk8s prints no construct warnings: read it with `constructAnnotations(app)` (`writePlatformManifests` returns
   * it, and `bin/k8s.ts` prints it).
   * @default false: these charts target `AiPlatformStack`'s cluster, which has the plugin
   */
  readonly devicePlugin?: boolean;
  /**
   * Add a chart with a Karpenter GPU node pool for this cluster (needs Karpenter's CRDs on the cluster):
   * spot g5.xlarge and g5.2xlarge nodes, named `gpu-spot`, on which the training job then runs (Karpenter
   * launches nodes only for pods whose required node affinity they meet). Not together with `trainingNodes`.
   * @default - no Karpenter chart; the training job runs on `trainingNodes`
   */
  readonly karpenter?: { readonly clusterName: string; readonly nodeRoleName: string };
}

/** The charts of the reference platform, by chart id. */
export interface PlatformCharts {
  /** Only with `devicePlugin: true`. */
  readonly devicePlugins?: Chart;
  readonly serving: Chart;
  readonly training: Chart;
  readonly karpenter?: Chart;
}

/**
 * Builds the reference platform's Kubernetes charts into `app`:
 * - `device-plugins` (only with `devicePlugin: true`): the device plugin DaemonSet (kube-system) of each
 *   vendor the nodes below belong to (NVIDIA, and AWS Neuron for Trainium training nodes);
 * - `serving`: the bundled inference server on the on-demand GPU inference nodes, with an HPA on CPU
 *   (and `scalingMetric`, when given), a PDB and a NetworkPolicy;
 * - `training`: a TrainingJob on the spot GPU training nodes, with a checkpoint volume (by default a
 *   check of the spot GPU path: see DEFAULT_TRAINING_COMMAND);
 * - `karpenter` (optional): a spot GpuNodePool for clusters that scale with Karpenter; the training job
 *   then runs on it.
 */
export function buildPlatformCharts(app: App, props: PlatformChartsProps = {}): PlatformCharts {
  props = props ?? {}; // a JavaScript caller may pass null for "no props"
  const servingNs = props.servingNamespace ?? 'ai-serving';
  const trainingNs = props.trainingNamespace ?? 'ai-training';
  for (const [prop, ns] of [['servingNamespace', servingNs], ['trainingNamespace', trainingNs]] as const) {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) {
      throw new PlatformError(undefined, prop, ns,
        'must be a namespace name: at most 63 lower-case letters, digits or "-", starting and ending with a letter or digit (Kubernetes refuses others)',
        'pass a name such as "ai-serving"');
    }
  }

  const inferenceNodes = props.inferenceNodes ?? referenceInferenceNodes();
  if (inferenceNodes.vendor !== AcceleratorVendor.NVIDIA) {
    throw new PlatformError(undefined, 'inferenceNodes', { vendor: inferenceNodes.vendor, labels: inferenceNodes.nodeLabels },
      'must be NVIDIA nodes: the serving chart runs the bundled server, whose GPU image uses CUDA and which has no Neuron execution provider (on Neuron nodes it would hold the devices and serve on the CPUs)',
      'pass an NVIDIA GpuNodeGroup or GpuNodePool; for a Neuron model server, add an InferenceService of your own to the charts');
  }
  // Karpenter launches a node only for a pending pod whose required node affinity the pool's labels meet: a
  // pool that is not the training job's nodes would never be used by these charts.
  if (props.karpenter && props.trainingNodes) {
    throw new PlatformError(undefined, 'karpenter', props.karpenter,
      `cannot be combined with 'trainingNodes': the training job runs on the Karpenter pool's nodes (labelled ${LABEL_NODE_GROUP}=${KARPENTER_POOL_NAME}), and Karpenter launches nodes only for pods whose required node affinity they meet`,
      'drop trainingNodes to train on the Karpenter pool, or drop karpenter to train on trainingNodes');
  }
  let karpenter: Chart | undefined;
  let pool: GpuNodePool | undefined;
  if (props.karpenter) {
    karpenter = new Chart(app, 'karpenter');
    pool = new GpuNodePool(karpenter, 'GpuSpot', {
      name: KARPENTER_POOL_NAME,
      // The training job asks for 16 GiB, which only g5.2xlarge and larger give: diversifying adds g5.4xlarge, a
      // second spot market for it (within twice the price; Karpenter picks the cheapest that fits).
      instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.G5_2XLARGE],
      capacity: Capacity.spot({ diversify: true }),
      clusterName: props.karpenter.clusterName,
      nodeRoleName: props.karpenter.nodeRoleName,
    });
  }
  const trainingNodes = pool ?? props.trainingNodes ?? referenceTrainingNodes();
  if (trainingNodes.vendor !== AcceleratorVendor.NVIDIA && props.trainingImage === undefined) {
    throw new PlatformError(undefined, 'trainingImage', undefined,
      `is required with AWS Neuron training nodes: the default job is a CUDA image (${DEFAULT_TRAINING_IMAGE}) running nvidia-smi, which fails there`,
      'pass trainingImage, a trainer image built for AWS Neuron (the Neuron SDK\'s deep learning containers, for example)');
  }
  let devicePlugins: Chart | undefined;
  if (props.devicePlugin) {
    devicePlugins = new Chart(app, 'device-plugins');
    // One plugin per vendor the charts' workloads run on (Trainium training nodes need Neuron's).
    for (const vendor of new Set([inferenceNodes.vendor, trainingNodes.vendor])) DevicePluginDaemonSet.of(devicePlugins, vendor);
    warnIfPluginLabelUnknown(devicePlugins, 'inferenceNodes', inferenceNodes);
    warnIfPluginLabelUnknown(devicePlugins, 'trainingNodes', trainingNodes);
  }

  const serving = new Chart(app, 'serving', { namespace: servingNs });
  namespace(serving, servingNs);
  new InferenceService(serving, 'InferenceServer', {
    name: 'inference-server',
    image: props.serverImage ?? DEFAULT_SERVER_IMAGE,
    model: props.model,
    modelName: props.modelName,
    serviceAccountName: props.serverServiceAccountName,
    nodes: inferenceNodes,
    minReplicas: 2,
    // One GPU per pod on AiPlatformStack's inference group of at most 4 single-GPU nodes: 3 pods leave a GPU
    // for the rolling update's extra pod (maxSurge 1, maxUnavailable 0); more would stay Pending, and a
    // rollout at the maximum would wait for its surge pod forever.
    maxReplicas: 3,
    scalingMetric: props.scalingMetric,
    allowFrom: (props.clientNamespaces ?? [servingNs]).map((ns) => IngressPeer.namespace(ns)),
  });

  const training = new Chart(app, 'training', { namespace: trainingNs });
  // One namespace for both is declared once: kustomize refuses two resources with the same id.
  if (trainingNs !== servingNs) namespace(training, trainingNs);
  new TrainingJob(training, 'SpotGpuCheck', {
    name: props.trainingImage ? 'training' : 'spot-gpu-check',
    image: props.trainingImage ?? DEFAULT_TRAINING_IMAGE,
    command: props.trainingImage ? undefined : DEFAULT_TRAINING_COMMAND,
    nodes: trainingNodes,
    activeDeadline: Duration.hours(12),
    resources: { cpu: { request: kplus.Cpu.units(2), limit: kplus.Cpu.units(4) } },
  });

  return { devicePlugins, serving, training, karpenter };
}

/**
 * The device plugin DaemonSet runs only on nodes labelled `ai-platform.dev/device-plugin=<nvidia|neuron>`.
 * `GpuNodeGroup` and `GpuNodePool` set that label themselves wherever the AMI lacks a plugin, and their
 * `nodeLabels` are the labels their nodes get, so nodes from them are right either way. Nodes described by
 * their labels (`AcceleratorNodes.labeled`, or an `IAcceleratorNodes` of one's own) were made elsewhere: unless
 * the labels given include the plugin's, nothing says the nodes carry it, and without it they get no plugin,
 * advertise no accelerators and keep every pod that requests one Pending.
 */
function warnIfPluginLabelUnknown(chart: Chart, prop: string, nodes: IAcceleratorNodes): void {
  if (nodes instanceof GpuNodeGroup || nodes instanceof GpuNodePool) return;
  const value = nodes.vendor === AcceleratorVendor.NVIDIA ? 'nvidia' : 'neuron';
  if (nodes.nodeLabels[LABEL_DEVICE_PLUGIN] === value) return;
  const label = `${LABEL_DEVICE_PLUGIN}=${value}`;
  Annotations.of(chart).addWarningV2('ai-platform:devicePluginNodesUnlabeled',
    `devicePlugin: the ${prop} (${JSON.stringify(nodes.nodeLabels)}) are described by their labels (AcceleratorNodes.labeled), not made by GpuNodeGroup or GpuNodePool, `
    + `and those labels do not include ${label}: the device plugin DaemonSet runs only on nodes with that label, so nodes without it advertise no ${nodes.resourceName} and pods that request it stay Pending. `
    + `If the nodes need this plugin, label the nodes ${label} (in their node group's labels, or kubectl label node) and add that label to the labels given to AcceleratorNodes.labeled, `
    + 'so the workloads also require it; if they run a plugin of their own (Bottlerocket NVIDIA images do), acknowledge this warning');
}

/** A namespace that enforces the `restricted` Pod Security Standard (the pods here meet it). */
function namespace(scope: Construct, name: string): void {
  const ns = new kplus.k8s.KubeNamespace(scope, 'Namespace', {
    metadata: {
      name,
      labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' },
    },
  });
  // A Namespace is cluster-scoped: drop the chart's default namespace from it.
  ns.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
}

/** File name of the kustomization that lists the charts' YAML files. */
export const KUSTOMIZATION_FILE = 'kustomization.yaml';
/** First line of the kustomization `writePlatformManifests` writes: it marks a folder as an earlier output. */
const GENERATED_HEADER = '# Generated by bin/k8s.ts from lib/platform-chart.ts; do not edit.';

/** What `writePlatformManifests` wrote, and what the charts recorded on the way. */
export interface PlatformManifests {
  /** The files written, in `outdir`: one `<chart>.yaml` per chart, `kustomization.yaml` last. */
  readonly files: string[];
  /**
   * The warnings (and any info or error) recorded on the charts, which cdk8s does not print: print them
   * (`formatAnnotation`), as `bin/k8s.ts` does, and treat an error as a failed run.
   */
  readonly annotations: ConstructAnnotation[];
}

/**
 * Synthesizes the reference platform's charts into `outdir` for GitOps (Argo CD, Flux): one
 * `<chart>.yaml` per chart and a `kustomization.yaml` listing them. The folder is emptied first (so a chart
 * dropped since the last run leaves no file behind), and the output is byte-identical from run to run.
 * Returns the files written (kustomization last) and the annotations recorded on the charts.
 *
 * `outdir` must be missing, empty, or an earlier output (its `kustomization.yaml` carries this function's
 * header): any other folder fails, untouched, since emptying it would delete what it holds.
 */
export function writePlatformManifests(outdir: string, props: PlatformChartsProps = {}): PlatformManifests {
  const existing = fs.existsSync(outdir) ? fs.readdirSync(outdir) : [];
  if (existing.length > 0) {
    const kustomization = path.join(outdir, KUSTOMIZATION_FILE);
    const earlierOutput = fs.existsSync(kustomization) && fs.readFileSync(kustomization, 'utf8').startsWith(`${GENERATED_HEADER}\n`);
    if (!earlierOutput) {
      throw new PlatformError(undefined, 'outdir', outdir,
        `is not empty and holds no ${KUSTOMIZATION_FILE} written by writePlatformManifests (it holds ${existing.slice(0, 5).join(', ')}${existing.length > 5 ? ', ...' : ''}): `
        + 'the folder is emptied before the manifests are written, which would delete what it holds',
        'pass an empty or missing folder of its own (bin/k8s.ts writes to dist/k8s by default)');
    }
  }
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir, outputFileExtension: '.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
  buildPlatformCharts(app, props);
  app.synth();
  const files = app.charts.map((c) => `${c.node.id}.yaml`);
  const kustomization = [
    GENERATED_HEADER,
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'resources:',
    ...files.map((f) => `  - ${f}`),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(outdir, KUSTOMIZATION_FILE), kustomization);
  return { files: [...files, KUSTOMIZATION_FILE], annotations: constructAnnotations(app) };
}
