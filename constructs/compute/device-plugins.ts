import { Annotations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import { Construct, IConstruct } from 'constructs';
import { NEURON_DEVICE_PLUGIN, NVIDIA_DEVICE_PLUGIN } from '../../lib/private/device-plugins';
import { PlatformError } from '../../lib/private/errors';
import { LABEL_DEVICE_PLUGIN } from '../../lib/private/labels';
import { AcceleratorVendor } from './gpu-instance-type';

/** A toleration of every taint (key and effect left out, operator Exists). */
const TOLERATE_ALL = [{ operator: 'Exists' }];

/** Device plugin releases already added, per cluster construct and vendor. */
const INSTALLED = new WeakMap<IConstruct, Map<AcceleratorVendor, Construct | undefined>>();

/** What both `aws-eks` and `aws-eks-v2` clusters offer for Helm charts. */
interface HelmCapableCluster extends IConstruct {
  addHelmChart(id: string, options: {
    chart: string; repository?: string; version?: string; namespace?: string; release?: string;
    values?: Record<string, unknown>; createNamespace?: boolean; wait?: boolean;
  }): Construct;
  readonly kubectlRole?: unknown;
  readonly kubectlProvider?: unknown;
  readonly kubectlLayer?: unknown;
}

/**
 * Installs the accelerator device plugins on a cluster, once per cluster and vendor, however many
 * accelerator node groups exist. Used by `GpuNodeGroup`; call it yourself for nodes made elsewhere.
 *
 * The plugin runs only on nodes labelled `ai-platform.dev/device-plugin=<nvidia|neuron>` (our node
 * groups set it where the AMI lacks a plugin) and tolerates every taint those nodes carry.
 */
export class DevicePlugins {
  /** Construct id of the NVIDIA release under the cluster. */
  public static readonly NVIDIA_ID = 'AiPlatformNvidiaDevicePlugin';
  /** Construct id of the Neuron release under the cluster. */
  public static readonly NEURON_ID = 'AiPlatformNeuronDevicePlugin';

  /**
   * The Helm values for a vendor's plugin: node selector on our label, toleration of every taint,
   * system-node-critical priority. The NVIDIA chart's default affinity (node feature discovery labels)
   * is removed, since EKS AMIs do not set those labels, and so is the Neuron chart's (a fixed list of
   * instance types), so the label alone decides, as for the `DevicePluginDaemonSet`.
   *
   * The node selector already keeps the plugin to accelerator nodes; it tolerates every taint because one
   * release serves every group on the cluster, and a group's extra taints (or a replaced accelerator taint)
   * would otherwise keep it off that group's nodes, which then never advertise their accelerators.
   */
  public static helmValues(vendor: AcceleratorVendor): Record<string, unknown> {
    if (vendor === AcceleratorVendor.NVIDIA) {
      return {
        affinity: null,
        nodeSelector: { [LABEL_DEVICE_PLUGIN]: 'nvidia' },
        tolerations: TOLERATE_ALL,
        priorityClassName: 'system-node-critical',
      };
    }
    return {
      npd: { enabled: false },
      scheduler: { enabled: false },
      devicePlugin: {
        enabled: true,
        // The chart's default affinity also requires node.kubernetes.io/instance-type to be one of its neuronInstances
        // list: nodes of a type missing there (a newer size, a custom type) would get no plugin and never advertise
        // aws.amazon.com/neuron. Our label already keeps the plugin to Neuron nodes, as in the cdk8s DaemonSet.
        affinity: null,
        nodeSelector: { [LABEL_DEVICE_PLUGIN]: 'neuron' },
        tolerations: TOLERATE_ALL,
      },
    };
  }

  /**
   * Makes sure the vendor's plugin is installed on the cluster. Returns the Helm chart construct, or
   * undefined when CDK cannot reach the cluster with kubectl (then `requester` gets a warning that
   * points to the GitOps DaemonSet).
   */
  public static ensure(cluster: IConstruct, vendor: AcceleratorVendor, requester: IConstruct): Construct | undefined {
    const id = vendor === AcceleratorVendor.NVIDIA ? DevicePlugins.NVIDIA_ID : DevicePlugins.NEURON_ID;
    const installed = INSTALLED.get(cluster) ?? new Map<AcceleratorVendor, Construct | undefined>();
    INSTALLED.set(cluster, installed);
    if (installed.has(vendor)) return installed.get(vendor);
    if (!DevicePlugins.canApplyManifests(cluster)) {
      Annotations.of(requester).addWarningV2('ai-platform:devicePluginNotInstalled',
        `CDK cannot run kubectl on cluster ${cluster.node.path} (imported without kubectlRoleArn or kubectlProvider), so the `
        + `${vendor} device plugin is not installed and pods cannot request accelerators. Install it with the DevicePluginDaemonSet `
        + 'cdk8s construct (GitOps), import the cluster with kubectl access, or set installDevicePlugin: false to acknowledge');
      return undefined;
    }
    // aws-eks builds the kubectl provider of an imported cluster with only the layers it was imported with, and
    // has no default kubectl layer: without one, helm is missing and the release fails at deployment.
    const c = cluster as Partial<HelmCapableCluster>;
    if (!(cluster instanceof eks.Cluster) && c.kubectlRole && !c.kubectlProvider && !c.kubectlLayer) {
      throw new PlatformError(requester, 'cluster', cluster.node.path,
        `is imported with a kubectl role but no kubectlLayer, so aws-eks's kubectl provider has no helm to install the ${vendor} device plugin (the deployment would fail)`,
        'pass kubectlLayer to eks.Cluster.fromClusterAttributes (e.g. KubectlV34Layer from @aws-cdk/lambda-layer-kubectl-v34, '
        + 'matching the cluster\'s Kubernetes version), or set installDevicePlugin: false');
    }
    const chart = DevicePlugins.addChart(cluster, vendor, id);
    installed.set(vendor, chart);
    return chart;
  }

  private static addChart(cluster: IConstruct, vendor: AcceleratorVendor, id: string): Construct {
    const spec = vendor === AcceleratorVendor.NVIDIA ? NVIDIA_DEVICE_PLUGIN : NEURON_DEVICE_PLUGIN;
    return (cluster as HelmCapableCluster).addHelmChart(id, {
      chart: spec.chart,
      repository: spec.repository,
      version: spec.version,
      namespace: spec.namespace,
      release: spec.release,
      values: DevicePlugins.helmValues(vendor),
      createNamespace: false,
      wait: false,
    });
  }

  /** True when CDK can apply Helm charts to the cluster through a kubectl provider. */
  public static canApplyManifests(cluster: IConstruct): boolean {
    const c = cluster as Partial<HelmCapableCluster>;
    if (typeof c.addHelmChart !== 'function') return false;
    if (cluster instanceof eks.Cluster) return true; // aws-eks creates its kubectl provider on demand
    return Boolean(c.kubectlRole || c.kubectlProvider);
  }
}
