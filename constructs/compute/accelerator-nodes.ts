import { TaintDefinition } from '../../lib/private/labels';
import { AcceleratorVendor } from './gpu-instance-type';

/**
 * What a workload needs to know to land on a set of accelerator nodes: the labels to select,
 * the taints to tolerate, the extended resource to request and how many devices a node has.
 *
 * `GpuNodeGroup` (EKS managed node groups) and `GpuNodePool` (Karpenter) both provide it, and the
 * Kubernetes constructs (`InferenceService`, `TrainingJob`) accept it, so a workload always matches
 * the nodes made for it.
 */
export interface IAcceleratorNodes {
  /** Accelerator vendor of the nodes. */
  readonly vendor: AcceleratorVendor;
  /** Extended resource the device plugin advertises: `nvidia.com/gpu` or `aws.amazon.com/neuron`. */
  readonly resourceName: string;
  /** Accelerator devices per node (the smallest, when instance types differ). */
  readonly acceleratorsPerNode: number;
  /** Labels every node carries; a workload selects on them. */
  readonly nodeLabels: Record<string, string>;
  /** Taints every node carries; a workload tolerates them. */
  readonly nodeTaints: TaintDefinition[];
  /** `spot` or `on-demand`. */
  readonly capacityType: string;
  /** EC2 instance type names the nodes may be. */
  readonly instanceTypeNames: string[];
}
