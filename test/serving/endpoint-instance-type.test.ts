import { Token } from 'aws-cdk-lib';
import { AcceleratorVendor, CpuArchitecture, GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { EndpointInstanceType } from '../../constructs/serving';

describe('EndpointInstanceType', () => {
  test('gpu() takes the SageMaker name and the accelerator facts from the catalog', () => {
    const type = EndpointInstanceType.gpu(GpuInstanceType.G6_12XLARGE);
    expect(type.name).toBe('ml.g6.12xlarge');
    expect(type.acceleratorCount).toBe(4);
    expect(type.gpu).toBe(GpuInstanceType.G6_12XLARGE);
  });

  test('of() recognises a catalog accelerator by its ml. name', () => {
    expect(EndpointInstanceType.of('ml.g5.xlarge').gpu).toBe(GpuInstanceType.G5_XLARGE);
  });

  test('of() accepts a CPU type, which has no accelerators', () => {
    const type = EndpointInstanceType.of('ml.c6i.2xlarge');
    expect(type.name).toBe('ml.c6i.2xlarge');
    expect(type.acceleratorCount).toBe(0);
    expect(type.family).toBe('c6i');
  });

  test('of() without the ml. prefix fails, naming the fix', () => {
    expect(() => EndpointInstanceType.of('m5.xlarge')).toThrow(/'instanceType' \("m5\.xlarge"\) must be a SageMaker instance type name like "ml\.m5\.xlarge".*EndpointInstanceType\.gpu/);
  });

  test('of() accepts a token without checking it', () => {
    const token = Token.asString({ Ref: 'InstanceType' });
    expect(EndpointInstanceType.of(token).name).toBe(token);
    expect(EndpointInstanceType.of(token).hasLocalStorage).toBe(false);
  });

  test.each([
    ['ml.m5.large', false], ['ml.m5d.large', true], ['ml.c6id.xlarge', true], ['ml.g5.xlarge', true],
    ['ml.g4dn.xlarge', true], ['ml.p4d.24xlarge', true], ['ml.inf2.xlarge', false], ['ml.c7g.large', false],
    ['ml.g6.xlarge', true], ['ml.g6e.xlarge', true], ['ml.p5.48xlarge', true], ['ml.trn1.2xlarge', true],
    ['ml.trn2.48xlarge', true], ['ml.p6-b200.48xlarge', true],
    // DL1 (Habana Gaudi) carries 4 x 1000 GB NVMe without a `d` in its name; P3 and Inf1 are EBS-only.
    ['ml.dl1.24xlarge', true], ['ml.p3.2xlarge', false], ['ml.inf1.xlarge', false],
  ])('%s has local storage: %s', (name, expected) => {
    expect(EndpointInstanceType.of(name).hasLocalStorage).toBe(expected);
  });

  test('ml.t* types are burstable, others are not', () => {
    expect(EndpointInstanceType.ML_T2_MEDIUM.isBurstable).toBe(true);
    expect(EndpointInstanceType.ML_M5_LARGE.isBurstable).toBe(false);
    // Trainium starts with a t too, but is no T-series type: SageMaker autoscales it.
    expect(EndpointInstanceType.of('ml.trn1.32xlarge').isBurstable).toBe(false);
  });

  test('Graviton families are arm64', () => {
    expect(EndpointInstanceType.ML_C7G_LARGE.architecture).toBe(CpuArchitecture.ARM64);
    expect(EndpointInstanceType.ML_C6I_LARGE.architecture).toBe(CpuArchitecture.X86_64);
  });

  test('an accelerator type\'s architecture is its catalog entry\'s, whatever its name says', () => {
    const grace = GpuInstanceType.custom({ name: 'p9.48xlarge', vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'B300', acceleratorCount: 4,
      acceleratorMemoryGiB: 268, vcpus: 144, memoryGiB: 960, architecture: CpuArchitecture.ARM64 });
    expect(EndpointInstanceType.gpu(grace).architecture).toBe(CpuArchitecture.ARM64);
  });

  test('of() refuses a name with anything after the size, or upper case', () => {
    for (const bad of ['ml.m5.xlarge ', 'ml.m5.xlarge.x', 'ml.m5.XLARGE', 'ml.m5.']) {
      expect(() => EndpointInstanceType.of(bad)).toThrow(expect.objectContaining({ prop: 'instanceType', received: bad }));
    }
  });
});
