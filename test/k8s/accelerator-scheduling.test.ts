import { Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { AcceleratorVendor, GpuInstanceType } from '../../constructs/compute';
import { AcceleratorNodes, TrainingJob } from '../../constructs/k8s';
import { only, podSpec, synthValid } from './helpers';

const nodes = AcceleratorNodes.labeled({
  vendor: AcceleratorVendor.NVIDIA,
  labels: { 'ai-platform.dev/node-group': 'training' },
  instanceTypeNames: [GpuInstanceType.G5_2XLARGE.name],
});

function containerResources(resources: ConstructorParameters<typeof TrainingJob>[2]['resources']) {
  const chart = Testing.chart();
  new TrainingJob(chart, 'Train', { image: 'registry.example.com/trainer:1', nodes, resources });
  return podSpec(only(synthValid(chart), 'Job')).containers[0].resources;
}

describe('accelerator scheduling', () => {
  test('a container with requests and no limits still gets the accelerator as request and limit (the Kubernetes rule for extended resources)', () => {
    // cdk8s-plus renders no `limits` map when no CPU, memory or storage limit is set: patching a key into it failed
    // serialization ("Cannot set properties of undefined").
    const resources = containerResources({ cpu: { request: kplus.Cpu.units(2) }, memory: { request: Size.gibibytes(8) } });
    expect(resources.limits).toEqual({ 'nvidia.com/gpu': 1 });
    expect(resources.requests).toEqual({ cpu: '2', memory: '8192Mi', 'nvidia.com/gpu': 1 });
  });

  test('a container with limits and no requests gets the accelerator request beside its limit', () => {
    const resources = containerResources({ cpu: { limit: kplus.Cpu.units(4) }, memory: { limit: Size.gibibytes(8) } });
    expect(resources.requests).toEqual({ 'nvidia.com/gpu': 1 });
    expect(resources.limits).toEqual({ cpu: '4', memory: '8192Mi', 'nvidia.com/gpu': 1 });
  });

  test('a container with neither requests nor limits gets a resources block with the accelerator alone', () => {
    const resources = containerResources({ cpu: {}, memory: {} });
    expect(resources).toEqual({ limits: { 'nvidia.com/gpu': 1 }, requests: { 'nvidia.com/gpu': 1 } });
  });

  test('a container with both keeps them and adds the accelerator to each', () => {
    const resources = containerResources({ cpu: { request: kplus.Cpu.units(2), limit: kplus.Cpu.units(4) }, memory: { request: Size.gibibytes(8), limit: Size.gibibytes(8) } });
    expect(resources.limits).toEqual({ cpu: '4', memory: '8192Mi', 'nvidia.com/gpu': 1 });
    expect(resources.requests).toEqual({ cpu: '2', memory: '8192Mi', 'nvidia.com/gpu': 1 });
  });
});

test('AcceleratorNodes.labeled from a JavaScript caller without vendor or labels fails naming the prop instead of a TypeError', () => {
  type Props = Parameters<typeof AcceleratorNodes.labeled>[0];
  expect(() => AcceleratorNodes.labeled(undefined as unknown as Props))
    .toThrow(/^'vendor' \(undefined\) is required: an AcceleratorVendor \(AcceleratorVendor.NVIDIA or AcceleratorVendor.AWS_NEURON\)$/);
  expect(() => AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA } as unknown as Props))
    .toThrow(/^'labels' \(undefined\) is required: an object of label keys and values /);
  expect(() => AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, labels: null } as unknown as Props))
    .toThrow(/^'labels' \(null\) is required: /);
  expect(() => AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, labels: 'ai-platform.dev/node-group=inference' } as unknown as Props))
    .toThrow(/^'labels' \("ai-platform.dev\/node-group=inference"\) must be an object of label keys and values /);
  expect(() => AcceleratorNodes.labeled({ vendor: 'gpu', labels: {} } as unknown as Props))
    .toThrow(/^'vendor' \("gpu"\) must be one of nvidia, aws-neuron: use AcceleratorVendor.NVIDIA or AcceleratorVendor.AWS_NEURON$/);
});
