import {
  LABEL_ACCELERATOR_COUNT, LABEL_ACCELERATOR_MODEL, LABEL_ACCELERATOR_VENDOR, LABEL_CA_ACCELERATOR,
  LABEL_CAPACITY_TYPE, LABEL_DEVICE_PLUGIN, LABEL_NODE_GROUP, NVIDIA_ACCELERATOR_PREFIX,
} from '../../../lib/private/labels';
import { Capacity } from '../capacity';
import { AcceleratorVendor, GpuInstanceType } from '../gpu-instance-type';

/** What decides the labels of a set of accelerator nodes. */
export interface NodeLabelOptions {
  /** The instance types the nodes may be (one vendor). */
  readonly instanceTypes: GpuInstanceType[];
  readonly capacity: Capacity;
  /** Name of the node group or node pool. */
  readonly groupName: string;
  /** False where the AMI ships its own device plugin (Bottlerocket NVIDIA). */
  readonly needsDevicePlugin: boolean;
}

/**
 * The labels every accelerator node carries, the same for EKS managed node groups (`GpuNodeGroup`) and
 * Karpenter node pools (`GpuNodePool`): vendor, model (only when every type has the same model), the
 * smallest accelerator count, capacity type, group name, which device plugin to run, and
 * cluster-autoscaler's GPU label.
 */
export function acceleratorNodeLabels(options: NodeLabelOptions): Record<string, string> {
  const types = options.instanceTypes;
  const first = types[0];
  const oneModel = new Set(types.map((t) => t.acceleratorModel)).size === 1;
  const nvidia = first.vendor === AcceleratorVendor.NVIDIA;
  return {
    [LABEL_ACCELERATOR_VENDOR]: first.vendor,
    ...(oneModel ? { [LABEL_ACCELERATOR_MODEL]: first.acceleratorModelLabel } : {}),
    [LABEL_ACCELERATOR_COUNT]: String(Math.min(...types.map((t) => t.acceleratorCount))),
    [LABEL_CAPACITY_TYPE]: options.capacity.label,
    [LABEL_NODE_GROUP]: options.groupName,
    ...(options.needsDevicePlugin ? { [LABEL_DEVICE_PLUGIN]: nvidia ? 'nvidia' : 'neuron' } : {}),
    ...(nvidia && oneModel ? { [LABEL_CA_ACCELERATOR]: `${NVIDIA_ACCELERATOR_PREFIX}${first.acceleratorModelLabel}` } : {}),
  };
}
