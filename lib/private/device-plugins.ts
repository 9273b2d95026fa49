/**
 * The device plugins this library installs, in one place so that the Helm release (clusters that
 * `cdk deploy` manages) and the cdk8s DaemonSet (GitOps clusters) run the same versions.
 */

/** NVIDIA Kubernetes device plugin: advertises `nvidia.com/gpu`. */
export const NVIDIA_DEVICE_PLUGIN = {
  chart: 'nvidia-device-plugin',
  repository: 'https://nvidia.github.io/k8s-device-plugin',
  version: '0.17.4',
  image: 'nvcr.io/nvidia/k8s-device-plugin:v0.17.4',
  namespace: 'kube-system',
  release: 'nvidia-device-plugin',
} as const;

/**
 * AWS Neuron device plugin (from the Neuron Helm chart, aws-neuron/neuron-helm-charts): advertises
 * `aws.amazon.com/neuron` and `aws.amazon.com/neuroncore`. Chart 1.1.2 ships device plugin image 2.23.30.0.
 *
 * The repository is the chart's own OCI reference (`helm upgrade --install neuron-helm-chart
 * oci://public.ecr.aws/neuron/neuron-helm-chart`, the chart's README): for an `oci://` repository aws-cdk's Helm
 * handler ignores `chart` and pulls the repository as given (`helm pull <repository> --version <version>`).
 */
export const NEURON_DEVICE_PLUGIN = {
  chart: 'neuron-helm-chart',
  repository: 'oci://public.ecr.aws/neuron/neuron-helm-chart',
  version: '1.1.2',
  image: 'public.ecr.aws/neuron/neuron-device-plugin:2.23.30.0',
  namespace: 'kube-system',
  release: 'neuron-device-plugin',
} as const;
