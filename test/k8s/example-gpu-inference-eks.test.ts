import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cdk8s from 'cdk8s';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EXAMPLE_SETTINGS, GpuInferenceChart, GpuInferenceStack } from '../../examples/gpu-inference-eks/app';
import { TEST_CONTEXT } from '../helpers';
import { only, podSpec, synthValid } from './helpers';

describe('example: a GPU model on EKS with an autoscaler', () => {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new GpuInferenceStack(app, 'Example', EXAMPLE_SETTINGS);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // With the cdk-nag plugin registered, synthesis throws on any unacknowledged AwsSolutions error.
  const template = Template.fromStack(stack);
  const manifests = synthValid(stack.chart);

  test('the chart passes schema validation and serves on the node group\'s GPUs, labels and taints', () => {
    const spec = podSpec(only(manifests, 'Deployment', 'fraud-model'));
    expect(spec.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    const expressions = spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions;
    expect(Object.fromEntries(expressions.map((e: { key: string; values: string[] }) => [e.key, e.values[0]]))).toEqual(stack.nodeGroup.nodeLabels);
    expect(spec.tolerations).toEqual(stack.nodeGroup.nodeTaints.map((t) => ({ key: t.key, operator: 'Equal', value: t.value, effect: t.effect })));
    expect(spec.initContainers[0].command).toContain(EXAMPLE_SETTINGS.modelUri);
  });

  test('the HPA scales the Deployment from 2 to 8 pods on CPU and queue depth', () => {
    const hpa = only(manifests, 'HorizontalPodAutoscaler');
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 8, scaleTargetRef: { kind: 'Deployment', name: 'fraud-model' } });
    expect(hpa.spec.metrics.map((m: { type: string }) => m.type)).toEqual(['Resource', 'Pods']);
  });

  test('the node group holds the HPA\'s maximum plus the rolling update\'s extra pod', () => {
    const deployment = only(manifests, 'Deployment', 'fraud-model');
    const gpusPerPod = podSpec(deployment).containers[0].resources.limits['nvidia.com/gpu'];
    const surge = deployment.spec.strategy.rollingUpdate.maxSurge;
    const maxReplicas = only(manifests, 'HorizontalPodAutoscaler').spec.maxReplicas;
    // Otherwise a rollout at the maximum waits forever for its surge pod (maxUnavailable is 0).
    expect((maxReplicas + surge) * gpusPerPod).toBeLessThanOrEqual(stack.nodeGroup.maxSize * stack.nodeGroup.acceleratorsPerNode);
  });

  test('the CDK stack creates the GPU node group and applies the chart to the cluster', () => {
    template.resourceCountIs('AWS::EKS::Nodegroup', 1);
    template.hasResourceProperties('AWS::EKS::Nodegroup', { ClusterName: 'prod', InstanceTypes: ['g5.xlarge'], ScalingConfig: { MinSize: 2, MaxSize: 9, DesiredSize: 2 } });
    template.hasResourceProperties('Custom::AWSCDK-EKS-KubernetesResource', {
      Manifest: Match.stringLikeRegexp('"kind":"HorizontalPodAutoscaler"'),
    });
  });

  test('the CDK stack synthesizes without warnings', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('as GitOps YAML, the chart adds the device plugin DaemonSet', () => {
    const chart = new GpuInferenceChart(new cdk8s.App(), 'fraud', {
      nodes: stack.nodeGroup, image: EXAMPLE_SETTINGS.image, modelUri: EXAMPLE_SETTINGS.modelUri, serviceAccountName: 'fraud-model', devicePlugin: true,
    });
    expect(only(synthValid(chart), 'DaemonSet').metadata.name).toBe('nvidia-device-plugin');
  });
});
