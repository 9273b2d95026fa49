import { Token } from 'aws-cdk-lib';
import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { NEURON_DEVICE_PLUGIN, NVIDIA_DEVICE_PLUGIN } from '../../lib/private/device-plugins';
import { PlatformError } from '../../lib/private/errors';
import { LABEL_DEVICE_PLUGIN } from '../../lib/private/labels';
import { checkAcceleratorVendor } from '../private/accelerator-vendor';
import { AcceleratorVendor } from '../compute/gpu-instance-type';

const k8s = kplus.k8s;

/** Properties of a `DevicePluginDaemonSet`. */
export interface DevicePluginDaemonSetProps {
  /** Whose device plugin: NVIDIA (`nvidia.com/gpu`) or AWS Neuron (`aws.amazon.com/neuron`). */
  readonly vendor: AcceleratorVendor;
  /**
   * Device plugin image.
   * @default - the version the Helm release uses too (`lib/private/device-plugins.ts`)
   */
  readonly image?: string;
  /**
   * Namespace of the DaemonSet.
   * @default 'kube-system'
   */
  readonly namespace?: string;
}

/**
 * The accelerator vendor's Kubernetes device plugin as a DaemonSet, for clusters managed through GitOps
 * (clusters that `cdk deploy` manages get the same version as a Helm release).
 *
 * It runs only on nodes labelled `ai-platform.dev/device-plugin=nvidia` (or `neuron`), which
 * `GpuNodeGroup` and `GpuNodePool` set where the AMI lacks a plugin, tolerates every taint (so a node
 * group's extra taints do not keep it off the nodes), and has priority class `system-node-critical` so it is never evicted for a workload.
 * Use `DevicePluginDaemonSet.of(chart, vendor)` to get the one plugin per vendor in a chart.
 *
 * @example
 * DevicePluginDaemonSet.of(chart, AcceleratorVendor.NVIDIA);
 *
 * @see https://github.com/NVIDIA/k8s-device-plugin
 */
export class DevicePluginDaemonSet extends Construct {
  /** The chart's device plugin for this vendor, created on first use: one per vendor however many node groups exist. */
  public static of(chart: Chart, vendor: AcceleratorVendor): DevicePluginDaemonSet {
    const id = vendor === AcceleratorVendor.NVIDIA ? 'NvidiaDevicePlugin' : 'NeuronDevicePlugin';
    const existing = chart.node.tryFindChild(id);
    if (existing instanceof DevicePluginDaemonSet) return existing;
    return new DevicePluginDaemonSet(chart, id, { vendor });
  }

  /** The DaemonSet. */
  public readonly daemonSet: kplus.k8s.KubeDaemonSet;
  /** Image the DaemonSet runs. */
  public readonly image: string;

  constructor(scope: Construct, id: string, props: DevicePluginDaemonSetProps) {
    super(scope, id);
    checkAcceleratorVendor(this, props?.vendor);
    const nvidia = props.vendor === AcceleratorVendor.NVIDIA;
    const defaults = nvidia ? NVIDIA_DEVICE_PLUGIN : NEURON_DEVICE_PLUGIN;
    const namespace = props.namespace ?? defaults.namespace;
    // A namespace name is a DNS label; the API server refuses objects in any other (a token is not checked).
    if (!Token.isUnresolved(namespace) && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
      throw new PlatformError(this, 'namespace', namespace,
        'must be a namespace name: at most 63 lower-case letters, digits or "-", starting and ending with a letter or digit (the API server refuses others)',
        'pass an existing namespace such as "kube-system"');
    }
    const name = defaults.release;
    this.image = props.image ?? defaults.image;
    const labels = { 'app.kubernetes.io/name': name };

    let serviceAccountName: string | undefined;
    if (!nvidia) {
      // The Neuron plugin reads and annotates pods and patches node status (from the Neuron Helm chart's RBAC;
      // the DaemonSet below follows chart 1.1.2, whose device plugin image is the one in device-plugins.ts).
      serviceAccountName = name;
      new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata: { name, namespace, labels }, automountServiceAccountToken: true });
      const role = new k8s.KubeClusterRole(this, 'ClusterRole', {
        metadata: { name, labels },
        rules: [
          { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
          { apiGroups: [''], resources: ['pods'], verbs: ['update', 'patch', 'get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch', 'update'] },
        ],
      });
      const binding = new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
        metadata: { name, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      });
      if (Chart.of(this).namespace) {
        for (const obj of [role, binding]) obj.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
      }
    }

    const hostPath = (volumeName: string, path: string) => ({ name: volumeName, hostPath: { path } });
    this.daemonSet = new k8s.KubeDaemonSet(this, 'Resource', {
      metadata: { name, namespace, labels },
      spec: {
        selector: { matchLabels: labels },
        updateStrategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels },
          spec: {
            priorityClassName: 'system-node-critical',
            nodeSelector: { [LABEL_DEVICE_PLUGIN]: nvidia ? 'nvidia' : 'neuron' },
            // Every taint, as the Helm release (DevicePlugins.helmValues): the node selector keeps the plugin
            // to accelerator nodes, and a node group's extra taints (or a replaced accelerator taint) would
            // otherwise keep it off those nodes, which then never advertise their accelerators.
            tolerations: [{ operator: 'Exists' }],
            ...(serviceAccountName ? { serviceAccountName } : { automountServiceAccountToken: false }),
            containers: [{
              name: 'device-plugin',
              image: this.image,
              imagePullPolicy: 'IfNotPresent',
              // The plugin's own default, which the Helm release keeps: NVIDIA's static manifest sets false because it
              // runs on every node, but this one runs only on NVIDIA nodes, where false would leave a plugin that
              // started before the driver was usable Running with no GPUs advertised ("block indefinitely"), and the
              // node's GPU pods Pending with no error. With true it exits, and the kubelet restarts it until it works.
              env: nvidia
                ? [{ name: 'FAIL_ON_INIT_ERROR', value: 'true' }]
                : [
                  { name: 'KUBECONFIG', value: '/etc/kubernetes/kubelet.conf' },
                  { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                ],
              resources: {
                requests: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('64Mi') },
                limits: { cpu: k8s.Quantity.fromString('200m'), memory: k8s.Quantity.fromString('256Mi') },
              },
              // The plugin writes its socket to the kubelet's host directory, which only root may do, and needs no
              // capability for it (root owns the directory). NVIDIA's own manifest drops every capability, and so does
              // the Neuron chart's default securityContext (charts/neuron-helm-chart/templates/_helpers.tpl), which the
              // Helm release keeps.
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
              volumeMounts: [
                { name: 'device-plugin', mountPath: '/var/lib/kubelet/device-plugins' },
                ...(nvidia ? [] : [{ name: 'infa-map', mountPath: '/run' }, { name: 'aws-config', mountPath: '/opt/aws', readOnly: true }]),
              ],
            }],
            volumes: [
              hostPath('device-plugin', '/var/lib/kubelet/device-plugins'),
              ...(nvidia ? [] : [hostPath('infa-map', '/run'), hostPath('aws-config', '/opt/aws')]),
            ],
          },
        },
      },
    });
  }

  /** The DaemonSet as a plain API object. */
  public get apiObject(): ApiObject {
    return this.daemonSet;
  }
}
