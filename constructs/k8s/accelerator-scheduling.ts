import { Token } from 'aws-cdk-lib';
import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { PlatformError, requireProp } from '../../lib/private/errors';
import {
  acceleratorResourceName, acceleratorTaint, CAPACITY_ON_DEMAND, CAPACITY_SPOT, isLabelValue, isQualifiedName, isTaintEffect, LABEL_CAPACITY_TYPE,
  TAINT_EFFECTS_LISTED, TaintDefinition,
} from '../../lib/private/labels';
import { IAcceleratorNodes } from '../compute/accelerator-nodes';
import { Capacity } from '../compute/capacity';
import { AcceleratorVendor, GpuInstanceType } from '../compute/gpu-instance-type';
import { checkAcceleratorVendor } from '../private/accelerator-vendor';
import { jsonPointerSegment } from './private/json-pointer';

/** Accelerator nodes described by their labels, for clusters whose node groups this library did not create. */
export interface LabeledAcceleratorNodesProps {
  /** Accelerator vendor of the nodes. */
  readonly vendor: AcceleratorVendor;
  /** Labels every node carries; workloads are required to land on nodes with all of them. */
  readonly labels: Record<string, string>;
  /**
   * Accelerator devices per node (the smallest, when instance types differ).
   * @default 1
   */
  readonly acceleratorsPerNode?: number;
  /**
   * Taints every node carries; workloads tolerate them.
   * @default - the vendor's default taint (`nvidia.com/gpu=true:NoSchedule` or `aws.amazon.com/neuron=true:NoSchedule`)
   */
  readonly taints?: TaintDefinition[];
  /**
   * How the nodes are bought.
   * @default - taken from the `ai-platform.dev/capacity-type` label, else on-demand
   */
  readonly capacity?: Capacity;
  /**
   * EC2 instance types the nodes may be.
   * @default - unknown (empty list)
   */
  readonly instanceTypeNames?: string[];
}

/**
 * Factories for `IAcceleratorNodes` when no `GpuNodeGroup` or `GpuNodePool` object is at hand
 * (for example a GitOps repository separate from the CDK app, or node groups made elsewhere).
 *
 * @example
 * const inferenceNodes = AcceleratorNodes.labeled({
 *   vendor: AcceleratorVendor.NVIDIA,
 *   labels: { 'ai-platform.dev/node-group': 'inference' },
 * });
 */
export class AcceleratorNodes {
  /** Nodes described by labels, taints and a device count. */
  public static labeled(props: LabeledAcceleratorNodesProps): IAcceleratorNodes {
    checkAcceleratorVendor(undefined, props?.vendor);
    requireProp(undefined, 'labels', props.labels, 'object', 'an object of label keys and values that every accelerator node carries',
      "e.g. { 'ai-platform.dev/node-group': 'inference' }");
    const perNode = props.acceleratorsPerNode ?? 1;
    if (!Number.isInteger(perNode) || perNode < 1) {
      throw new PlatformError(undefined, 'acceleratorsPerNode', perNode, 'must be a whole number >= 1', 'give the number of accelerator devices on each node');
    }
    if (Object.keys(props.labels).length === 0) {
      throw new PlatformError(undefined, 'labels', props.labels, 'must hold at least one label', 'name a label every accelerator node carries, e.g. ai-platform.dev/node-group');
    }
    // The API server refuses a node affinity or toleration key that is no label key, and no node carries a
    // label value that is no label value (the pods would stay Pending). A token (resolved when the chart is
    // added with addCdk8sChart) is not checked.
    const KEY_SYNTAX = 'an optional DNS-subdomain prefix and "/", then at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
    const VALUE_SYNTAX = 'at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty)';
    for (const [key, value] of Object.entries(props.labels)) {
      if (Token.isUnresolved(key)) continue;
      if (!isQualifiedName(key)) {
        throw new PlatformError(undefined, 'labels', key, `must be label keys: ${KEY_SYNTAX}`, 'use the label key the nodes carry');
      }
      if (!Token.isUnresolved(value) && (typeof value !== 'string' || !isLabelValue(value))) {
        throw new PlatformError(undefined, `labels["${key}"]`, value, `must be a label value: ${VALUE_SYNTAX}`, 'use the label value the nodes carry');
      }
    }
    for (const taint of props.taints ?? []) {
      if (!Token.isUnresolved(taint.key) && !isQualifiedName(taint.key)) {
        throw new PlatformError(undefined, 'taints[].key', taint.key, `must be a label key: ${KEY_SYNTAX}`, 'use the taint key the nodes carry');
      }
      if (!Token.isUnresolved(taint.value) && (typeof taint.value !== 'string' || !isLabelValue(taint.value))) {
        throw new PlatformError(undefined, `taints[${JSON.stringify(taint.key)}].value`, taint.value, `must be a label value: ${VALUE_SYNTAX}`, 'use the taint value the nodes carry');
      }
      // Tolerated with another effect, the taint would keep the pods off the nodes.
      if (!isTaintEffect(taint.effect)) {
        throw new PlatformError(undefined, `taints[${JSON.stringify(taint.key)}].effect`, taint.effect,
          `must be ${TAINT_EFFECTS_LISTED}`, 'use the effect the nodes\' taint has, as kubectl describe node shows it');
      }
    }
    const labelCapacity = props.labels[LABEL_CAPACITY_TYPE];
    const capacityType = props.capacity?.label ?? (labelCapacity === CAPACITY_SPOT ? CAPACITY_SPOT : CAPACITY_ON_DEMAND);
    return {
      vendor: props.vendor,
      resourceName: acceleratorResourceName(props.vendor),
      acceleratorsPerNode: perNode,
      nodeLabels: { ...props.labels },
      nodeTaints: [...(props.taints ?? [acceleratorTaint(props.vendor)])],
      capacityType,
      instanceTypeNames: [...(props.instanceTypeNames ?? [])],
    };
  }

  private constructor() {}
}

/** Options for running a workload on accelerator nodes. */
export interface RunOnOptions {
  /**
   * Accelerator devices each pod requests (and is limited to).
   * @default 1
   */
  readonly accelerators?: number;
  /**
   * Prefer this capacity type instead of requiring the nodes' own: the `ai-platform.dev/capacity-type`
   * label becomes a preferred (weight 100) node affinity, so pods fall back to the other capacity
   * type when none of the preferred nodes are free. Only nodes that carry every other label of `nodes`
   * count: a `GpuNodeGroup` or `GpuNodePool` is one capacity type and its node-group label stays required,
   * so the fallback needs a second group with the same labels (the same `groupLabel` and instance types).
   * @default - the nodes' labels, capacity type included, are all required
   */
  readonly preferCapacity?: Capacity;
}

/** What `applyAcceleratorScheduling` did, for the construct to keep. */
export interface AppliedAcceleratorScheduling {
  readonly resourceName: string;
  readonly accelerators: number;
}

/**
 * Puts a pod-template workload on accelerator nodes: `resources.requests` and `resources.limits` for the
 * accelerator (patched, since cdk8s-plus has no extended resources), tolerations for the node taints,
 * required node affinity on the node labels, and an optional preferred capacity type. CPU or memory
 * requests that no targeted instance type can hold are an error.
 *
 * @internal
 */
export function applyAcceleratorScheduling(
  scope: IConstruct,
  workload: kplus.Deployment | kplus.Job,
  nodes: IAcceleratorNodes,
  options: RunOnOptions,
  acceleratorsProp = 'accelerators',
): AppliedAcceleratorScheduling {
  const containerPath = '/spec/template/spec/containers/0';
  const accelerators = options.accelerators ?? 1;
  if (!Number.isInteger(accelerators) || accelerators < 1) {
    throw new PlatformError(scope, acceleratorsProp, accelerators, 'must be a whole number >= 1', 'request at least one accelerator, or do not call runOn for CPU-only pods');
  }
  if (accelerators > nodes.acceleratorsPerNode) {
    throw new PlatformError(scope, acceleratorsProp, accelerators,
      `must be <= the ${nodes.acceleratorsPerNode} accelerator(s) each targeted node has (${nodes.resourceName}${nodes.instanceTypeNames.length ? ` on ${nodes.instanceTypeNames.join(', ')}` : ''})`,
      'request fewer accelerators per pod, or target nodes with more accelerators per instance');
  }
  checkRequestsFit(scope, workload.containers[0], nodes);
  for (const taint of nodes.nodeTaints) {
    workload.scheduling.tolerate(kplus.Node.tainted(kplus.NodeTaintQuery.is(taint.key, taint.value, { effect: taintEffect(taint.effect) })));
  }
  const required = Object.entries(nodes.nodeLabels)
    .filter(([key]) => !(options.preferCapacity && key === LABEL_CAPACITY_TYPE))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => kplus.NodeLabelQuery.is(key, value));
  if (required.length > 0) {
    workload.scheduling.attract(kplus.Node.labeled(...required));
  }
  if (options.preferCapacity) {
    workload.scheduling.attract(kplus.Node.labeled(kplus.NodeLabelQuery.is(LABEL_CAPACITY_TYPE, options.preferCapacity.label)), { weight: 100 });
  }
  const resource = jsonPointerSegment(nodes.resourceName);
  const api = ApiObject.of(workload);
  // cdk8s-plus-28's L1 objects apply JSON patches to their props-shaped document and only then map it to
  // Kubernetes JSON, where a resource quantity is read from `.value`: a bare number would render as null.
  const quantity = kplus.k8s.Quantity.fromNumber(accelerators);
  // cdk8s-plus leaves out `limits` (or `requests`) when no CPU, memory or storage one is set, and the whole
  // `resources` when neither is: a key patched into a missing map fails serialization, so the map is added then.
  const res = workload.containers[0]?.resources;
  const has = (kind: 'limit' | 'request') => [res?.cpu, res?.memory, res?.ephemeralStorage].some((r) => r?.[kind] !== undefined);
  const [hasLimits, hasRequests] = [has('limit'), has('request')];
  if (!hasLimits && !hasRequests) {
    api.addJsonPatch(JsonPatch.add(`${containerPath}/resources`, { limits: { [nodes.resourceName]: quantity }, requests: { [nodes.resourceName]: quantity } }));
  } else {
    api.addJsonPatch(hasLimits
      ? JsonPatch.add(`${containerPath}/resources/limits/${resource}`, quantity)
      : JsonPatch.add(`${containerPath}/resources/limits`, { [nodes.resourceName]: quantity }));
    api.addJsonPatch(hasRequests
      ? JsonPatch.add(`${containerPath}/resources/requests/${resource}`, quantity)
      : JsonPatch.add(`${containerPath}/resources/requests`, { [nodes.resourceName]: quantity }));
  }
  return { resourceName: nodes.resourceName, accelerators };
}

/**
 * Fails when no targeted instance type has more CPUs and memory than the container requests: the kubelet
 * and the system reserve part of every node, so such a pod never schedules, and neither cluster-autoscaler
 * nor Karpenter can add a node it fits on. Types outside the catalog are not checked.
 */
function checkRequestsFit(scope: IConstruct, container: kplus.Container | undefined, nodes: IAcceleratorNodes): void {
  const types = nodes.instanceTypeNames.flatMap((name) => {
    try {
      return [GpuInstanceType.of(name)];
    } catch {
      return [];
    }
  });
  const cpu = container?.resources?.cpu;
  const memory = container?.resources?.memory;
  // Kubernetes takes the limit as the request when only a limit is given.
  const cpuAmount = (cpu?.request ?? cpu?.limit)?.amount;
  const cores = cpuAmount === undefined ? 0 : cpuAmount.endsWith('m') ? Number(cpuAmount.slice(0, -1)) / 1000 : Number(cpuAmount);
  const memorySize = memory?.request ?? memory?.limit;
  const gib = memorySize ? memorySize.toMebibytes() / 1024 : 0;
  if (types.length === 0 || !Number.isFinite(cores) || !Number.isFinite(gib)) return;
  if (types.some((t) => cores < t.vcpus && gib < t.memoryGiB)) return;
  const largest = [...types].sort((a, b) => b.vcpus - a.vcpus || b.memoryGiB - a.memoryGiB)[0];
  throw new PlatformError(scope, 'resources', { cpu: cpuAmount, memory: memorySize ? `${memorySize.toMebibytes()}Mi` : undefined },
    `must be below the CPUs and memory of one targeted node (largest: ${largest.name}, ${largest.vcpus} vCPUs, ${largest.memoryGiB} GiB; the kubelet and the system reserve part of them): no node could run the pod, so it would stay Pending`,
    'lower the requests, or target larger instance types');
}

function taintEffect(effect: TaintDefinition['effect']): kplus.TaintEffect {
  switch (effect) {
    case 'NoExecute': return kplus.TaintEffect.NO_EXECUTE;
    case 'PreferNoSchedule': return kplus.TaintEffect.PREFER_NO_SCHEDULE;
    default: return kplus.TaintEffect.NO_SCHEDULE;
  }
}
