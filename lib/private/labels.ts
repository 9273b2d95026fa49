/**
 * The one label and taint vocabulary shared by the CDK node groups (`GpuNodeGroup`), the Karpenter
 * node pools and the cdk8s workloads (`InferenceService`, `TrainingJob`), so that a workload always
 * lands on the nodes made for it.
 *
 * Well-known keys (`karpenter.sh/capacity-type`, `eks.amazonaws.com/capacityType`,
 * `kubernetes.io/arch`) are set by EKS and Karpenter themselves; the `ai-platform.dev/*` keys are ours
 * and are set on every accelerator node this library creates.
 */

/** Accelerator vendors this library knows how to schedule. */
export type AcceleratorVendorName = 'nvidia' | 'aws-neuron';

/** Label: accelerator vendor of the node (`nvidia` or `aws-neuron`). */
export const LABEL_ACCELERATOR_VENDOR = 'ai-platform.dev/accelerator-vendor';
/** Label: accelerator model, lower-case (`a10g`, `l4`, `h100`, `inferentia2`). */
export const LABEL_ACCELERATOR_MODEL = 'ai-platform.dev/accelerator-model';
/** Label: number of accelerator devices on the node (`1`, `4`, `8`). */
export const LABEL_ACCELERATOR_COUNT = 'ai-platform.dev/accelerator-count';
/** Label: capacity type of the node, `spot` or `on-demand` (our own key, the same on EKS managed groups and Karpenter). */
export const LABEL_CAPACITY_TYPE = 'ai-platform.dev/capacity-type';
/** Label: name of the node group or node pool that created the node. */
export const LABEL_NODE_GROUP = 'ai-platform.dev/node-group';

/** Label EKS sets on managed node group nodes: `ON_DEMAND` or `SPOT`. */
export const LABEL_EKS_CAPACITY_TYPE = 'eks.amazonaws.com/capacityType';
/** Label Karpenter sets: `on-demand` or `spot`. */
export const LABEL_KARPENTER_CAPACITY_TYPE = 'karpenter.sh/capacity-type';
/** Well-known Kubernetes labels. */
export const LABEL_ARCH = 'kubernetes.io/arch';
export const LABEL_INSTANCE_TYPE = 'node.kubernetes.io/instance-type';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';

/** Capacity type values used in `LABEL_CAPACITY_TYPE`. */
export const CAPACITY_SPOT = 'spot';
export const CAPACITY_ON_DEMAND = 'on-demand';

/** Extended resource names that the device plugins advertise. */
export const RESOURCE_NVIDIA_GPU = 'nvidia.com/gpu';
export const RESOURCE_NEURON = 'aws.amazon.com/neuron';
/** The Neuron device plugin's other resource: single NeuronCores of the devices. */
export const RESOURCE_NEURON_CORE = 'aws.amazon.com/neuroncore';

/** A taint, in Kubernetes terms. */
export interface TaintDefinition {
  readonly key: string;
  readonly value: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** The taint effects Kubernetes knows (EKS spells them NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE). */
export const TAINT_EFFECTS: ReadonlyArray<TaintDefinition['effect']> = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** The taint effects Kubernetes takes, as an error message lists them ("NoSchedule, PreferNoSchedule or NoExecute"). */
export const TAINT_EFFECTS_LISTED = `${TAINT_EFFECTS.slice(0, -1).join(', ')} or ${TAINT_EFFECTS[TAINT_EFFECTS.length - 1]}`;

/** True for one of `TAINT_EFFECTS` (a JavaScript caller can pass anything). */
export function isTaintEffect(effect: unknown): effect is TaintDefinition['effect'] {
  return (TAINT_EFFECTS as readonly unknown[]).includes(effect);
}

/** Taint on every NVIDIA node: `nvidia.com/gpu=true:NoSchedule`. */
export const TAINT_NVIDIA_GPU: TaintDefinition = { key: RESOURCE_NVIDIA_GPU, value: 'true', effect: 'NoSchedule' };
/** Taint on every Neuron node: `aws.amazon.com/neuron=true:NoSchedule`. */
export const TAINT_NEURON: TaintDefinition = { key: RESOURCE_NEURON, value: 'true', effect: 'NoSchedule' };

/** The extended resource a vendor's device plugin advertises. */
export function acceleratorResourceName(vendor: AcceleratorVendorName): string {
  return vendor === 'nvidia' ? RESOURCE_NVIDIA_GPU : RESOURCE_NEURON;
}

/** The default taint for a vendor's accelerator nodes. */
export function acceleratorTaint(vendor: AcceleratorVendorName): TaintDefinition {
  return vendor === 'nvidia' ? TAINT_NVIDIA_GPU : TAINT_NEURON;
}

/**
 * Label: which device plugin DaemonSet should run on the node (`nvidia` or `neuron`). Set only where
 * the AMI lacks the plugin (Bottlerocket NVIDIA images ship their own), so the plugin runs exactly
 * where it is needed.
 */
export const LABEL_DEVICE_PLUGIN = 'ai-platform.dev/device-plugin';

/** Label cluster-autoscaler (>= 1.15) reads on AWS to know a node carries a GPU before the device plugin reports it. */
export const LABEL_CA_ACCELERATOR = 'k8s.amazonaws.com/accelerator';
/** Prefix of that label's value on NVIDIA nodes, before the accelerator model (`nvidia-a10g`). */
export const NVIDIA_ACCELERATOR_PREFIX = 'nvidia-';

/**
 * Pod annotations cluster-autoscaler reads before it removes a node: `safe-to-evict: "false"` keeps the node while
 * the pod runs; `safe-to-evict-local-volumes` names the pod's emptyDir volumes that may be lost with it (without it,
 * such a pod keeps its node, as --skip-nodes-with-local-storage defaults to true).
 */
export const CA_SAFE_TO_EVICT = 'cluster-autoscaler.kubernetes.io/safe-to-evict';
export const CA_SAFE_TO_EVICT_LOCAL_VOLUMES = 'cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes';

/** A Kubernetes label value (also a taint value): empty, or up to 63 letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** The optional prefix of a qualified name: a DNS subdomain. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** True for a Kubernetes label value: at most 63 characters of letters, digits, `-`, `_`, `.`, beginning and ending with a letter or digit (or empty). */
export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/**
 * True for a Kubernetes qualified name, the syntax of label and taint keys: an optional DNS subdomain
 * prefix (at most 253 characters) and `/`, then a name of at most 63 characters.
 */
export function isQualifiedName(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  const prefix = parts.length === 2 ? parts[0] : undefined;
  // The name part has a non-empty label value's syntax.
  if (name.length === 0 || !isLabelValue(name)) return false;
  return prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
}
