import { Chart, Testing } from 'cdk8s';
import { AcceleratorVendor } from '../../constructs/compute';
import { DevicePluginDaemonSet } from '../../constructs/k8s';
import { NEURON_DEVICE_PLUGIN, NVIDIA_DEVICE_PLUGIN } from '../../lib/private/device-plugins';
import { only, podSpec, synthValid } from './helpers';

describe('DevicePluginDaemonSet', () => {
  test('the NVIDIA plugin runs on nodes labelled for it, tolerates every taint (extra taints on a group too) and is node-critical', () => {
    const chart = Testing.chart();
    DevicePluginDaemonSet.of(chart, AcceleratorVendor.NVIDIA);
    const manifests = synthValid(chart);
    expect(manifests.map((m) => m.kind)).toEqual(['DaemonSet']);
    const ds = only(manifests, 'DaemonSet');
    expect(ds.metadata).toMatchObject({ name: 'nvidia-device-plugin', namespace: 'kube-system' });
    const spec = podSpec(ds);
    expect(spec.nodeSelector).toEqual({ 'ai-platform.dev/device-plugin': 'nvidia' });
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(spec.priorityClassName).toBe('system-node-critical');
    expect(spec.automountServiceAccountToken).toBe(false);
    const c = spec.containers[0];
    expect(c.image).toBe(NVIDIA_DEVICE_PLUGIN.image);
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.resources.limits).toEqual({ cpu: '200m', memory: '256Mi' });
    expect(c.volumeMounts).toEqual([{ name: 'device-plugin', mountPath: '/var/lib/kubelet/device-plugins' }]);
    expect(spec.volumes).toEqual([{ name: 'device-plugin', hostPath: { path: '/var/lib/kubelet/device-plugins' } }]);
  });

  test('the NVIDIA plugin fails (and is restarted) when it cannot initialize, instead of blocking with no GPUs advertised', () => {
    // NVIDIA/k8s-device-plugin cmd/nvidia-device-plugin/main.go: --fail-on-init-error (env FAIL_ON_INIT_ERROR, default
    // true) "fail the plugin if an error is encountered during initialization, otherwise block indefinitely". The Helm
    // release leaves the default. Set to false, a plugin that started before the driver was usable would stay Running,
    // advertise no nvidia.com/gpu, and leave every GPU pod on the node Pending with no error.
    const chart = Testing.chart();
    DevicePluginDaemonSet.of(chart, AcceleratorVendor.NVIDIA);
    const env = podSpec(only(synthValid(chart), 'DaemonSet')).containers[0].env;
    expect(env).toEqual([{ name: 'FAIL_ON_INIT_ERROR', value: 'true' }]);
  });

  test('the Neuron plugin gets its service account and cluster RBAC, and every taint', () => {
    const chart = new Chart(Testing.app(), 'plugins', { namespace: 'ml' });
    DevicePluginDaemonSet.of(chart, AcceleratorVendor.AWS_NEURON);
    const manifests = synthValid(chart);
    expect(manifests.map((m) => m.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'DaemonSet', 'ServiceAccount']);
    const spec = podSpec(only(manifests, 'DaemonSet'));
    expect(spec.nodeSelector).toEqual({ 'ai-platform.dev/device-plugin': 'neuron' });
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(spec.serviceAccountName).toBe('neuron-device-plugin');
    expect(spec.containers[0].image).toBe(NEURON_DEVICE_PLUGIN.image);
    expect(spec.containers[0].env).toEqual([
      { name: 'KUBECONFIG', value: '/etc/kubernetes/kubelet.conf' },
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    ]);
    // The Neuron chart's default container securityContext (charts/neuron-helm-chart/templates/_helpers.tpl,
    // "neuron-device-plugin.securityContext") drops every capability, as the Helm release on CDK-managed clusters has it;
    // seccomp RuntimeDefault as the NVIDIA plugin. Root needs no capability to write its socket in the root-owned
    // kubelet directory.
    expect(spec.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.containers[0].volumeMounts).toEqual([
      { name: 'device-plugin', mountPath: '/var/lib/kubelet/device-plugins' },
      { name: 'infa-map', mountPath: '/run' },
      { name: 'aws-config', mountPath: '/opt/aws', readOnly: true },
    ]);
    expect(spec.volumes.map((v: { hostPath: { path: string } }) => v.hostPath.path)).toEqual(['/var/lib/kubelet/device-plugins', '/run', '/opt/aws']);
    expect(only(manifests, 'ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'neuron-device-plugin', namespace: 'kube-system' }]);
    // The Neuron chart's RBAC: read nodes, write events, annotate pods, patch node status (the device counts).
    expect(only(manifests, 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['update', 'patch', 'get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch', 'update'] },
    ]);
    expect(only(manifests, 'ClusterRole').metadata.namespace).toBeUndefined();
    expect(only(manifests, 'ClusterRoleBinding').metadata.namespace).toBeUndefined();
    expect(only(manifests, 'ServiceAccount').metadata.namespace).toBe('kube-system');
  });

  test('DevicePluginDaemonSet.of returns one plugin per vendor however often it is asked', () => {
    const chart = Testing.chart();
    const a = DevicePluginDaemonSet.of(chart, AcceleratorVendor.NVIDIA);
    const b = DevicePluginDaemonSet.of(chart, AcceleratorVendor.NVIDIA);
    DevicePluginDaemonSet.of(chart, AcceleratorVendor.AWS_NEURON);
    expect(a).toBe(b);
    expect(synthValid(chart).filter((m) => m.kind === 'DaemonSet')).toHaveLength(2);
  });

  test('the image and namespace can be overridden', () => {
    const chart = Testing.chart();
    new DevicePluginDaemonSet(chart, 'Plugin', { vendor: AcceleratorVendor.NVIDIA, image: 'mirror.example.com/k8s-device-plugin:v0.17.4', namespace: 'gpu' });
    const ds = only(synthValid(chart), 'DaemonSet');
    expect(ds.metadata.namespace).toBe('gpu');
    expect(podSpec(ds).containers[0].image).toBe('mirror.example.com/k8s-device-plugin:v0.17.4');
  });

  test('with a namespace that no namespace can have, synthesis fails: the API server would refuse the DaemonSet', () => {
    expect(() => new DevicePluginDaemonSet(Testing.chart(), 'Plugin', { vendor: AcceleratorVendor.NVIDIA, namespace: 'GPU_System' }))
      .toThrow(/'namespace' \("GPU_System"\) must be a namespace name: at most 63 lower-case letters, digits or "-"/);
    expect(() => new DevicePluginDaemonSet(Testing.chart(), 'Plugin', { vendor: AcceleratorVendor.AWS_NEURON, namespace: 'a'.repeat(64) })).toThrow(/'namespace'/);
  });

  test('with an unknown vendor, synthesis fails', () => {
    expect(() => new DevicePluginDaemonSet(Testing.chart(), 'Plugin', { vendor: 'amd' as AcceleratorVendor })).toThrow(/'vendor' \("amd"\) must be one of nvidia, aws-neuron/);
  });
});

test('a JavaScript caller without props gets an error naming vendor instead of a TypeError', () => {
  const chart = Testing.chart();
  type Props = ConstructorParameters<typeof DevicePluginDaemonSet>[2];
  expect(() => new DevicePluginDaemonSet(chart, 'Plugin', undefined as unknown as Props))
    .toThrow(/^\[test\/Plugin\] 'vendor' \(undefined\) is required: an AcceleratorVendor /);
});
