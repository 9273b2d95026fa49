import { CfnParameter, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import {
  AcceleratorOs, AcceleratorVendor, CpuArchitecture, GpuInstanceSpec, GpuInstanceType,
} from '../../constructs/compute/gpu-instance-type';
import { PlatformError } from '../../lib/private/errors';

const customSpec = {
  name: 'g5g.xlarge',
  vendor: AcceleratorVendor.NVIDIA,
  acceleratorModel: 'T4G',
  acceleratorCount: 1,
  acceleratorMemoryGiB: 16,
  vcpus: 4,
  memoryGiB: 8,
  architecture: CpuArchitecture.ARM64,
};

describe('GpuInstanceType catalog', () => {
  test('has constants for every family the platform supports', () => {
    const families = new Set(GpuInstanceType.catalogTypes().map((t) => t.family));
    expect([...families].sort()).toEqual(['g4dn', 'g5', 'g6', 'g6e', 'inf2', 'p4d', 'p4de', 'p5', 'p5en', 'trn1']);
    expect(GpuInstanceType.G5_XLARGE.name).toBe('g5.xlarge');
    expect(GpuInstanceType.P5EN_48XLARGE.acceleratorModel).toBe('H200');
    expect(GpuInstanceType.TRN1_32XLARGE.acceleratorCount).toBe(16);
  });

  test('constants are the same objects that of() returns', () => {
    expect(GpuInstanceType.of('g6e.12xlarge')).toBe(GpuInstanceType.G6E_12XLARGE);
  });

  test('of() accepts SageMaker names and any case', () => {
    expect(GpuInstanceType.of('ml.g5.xlarge')).toBe(GpuInstanceType.G5_XLARGE);
    expect(GpuInstanceType.of('G5.XLARGE')).toBe(GpuInstanceType.G5_XLARGE);
  });

  test('an unknown name is an error listing the known families', () => {
    expect(() => GpuInstanceType.of('x2.huge')).toThrow(PlatformError);
    expect(() => GpuInstanceType.of('x2.huge')).toThrow(/'instanceType' \("x2.huge"\) is not in the accelerator catalog \(known families: g4dn, g5, g6, g6e, p4d, p4de, p5, p5en, inf2, trn1\).*custom/);
  });

  test('an instance type name from a token (a CfnParameter, an import) fails, saying why, instead of reporting the placeholder as missing from the catalog', () => {
    // The AMI, the taint, the device plugin and the node labels are chosen from the type at synthesis.
    const stack = new Stack();
    const name = new CfnParameter(stack, 'InstanceType').valueAsString;
    for (const [prop, make] of [['instanceType', () => GpuInstanceType.of(name)], ['name', () => GpuInstanceType.custom({ ...customSpec, name })]] as const) {
      expect(make).toThrow(new RegExp(`^'${prop}' \\("<token>"\\) cannot be a token`));
      expect(make).toThrow(/cannot be a token: the AMI, the accelerator taint, the device plugin and the node labels \(vendor, model, count\) are chosen from the instance type at synthesis: pass a literal name/);
      expect(make).not.toThrow(/Token\[/);
    }
  });

  test('each type knows its hardware', () => {
    const t = GpuInstanceType.G5_12XLARGE;
    expect(t).toMatchObject({
      vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'A10G', acceleratorCount: 4, acceleratorMemoryGiB: 22888 / 1024,
      vcpus: 48, memoryGiB: 192, architecture: CpuArchitecture.X86_64, family: 'g5', size: '12xlarge',
    });
    expect(t.totalAcceleratorMemoryGiB).toBe(4 * 22888 / 1024);
    expect(GpuInstanceType.INF2_48XLARGE.vendor).toBe(AcceleratorVendor.AWS_NEURON);
  });

  test('each catalog type has the accelerators, vCPUs and memory EC2 lists for it', () => {
    // EC2 accelerated computing instance specifications: [accelerator model, devices, vCPUs, memory GiB]. The count
    // becomes the node label and the resource a workload requests; vCPUs and memory decide the spot stand-ins.
    const hardware: Record<string, [string, number, number, number]> = {
      'g4dn.xlarge': ['T4', 1, 4, 16], 'g4dn.2xlarge': ['T4', 1, 8, 32], 'g4dn.4xlarge': ['T4', 1, 16, 64],
      'g4dn.8xlarge': ['T4', 1, 32, 128], 'g4dn.12xlarge': ['T4', 4, 48, 192], 'g4dn.16xlarge': ['T4', 1, 64, 256],
      'g5.xlarge': ['A10G', 1, 4, 16], 'g5.2xlarge': ['A10G', 1, 8, 32], 'g5.4xlarge': ['A10G', 1, 16, 64],
      'g5.8xlarge': ['A10G', 1, 32, 128], 'g5.12xlarge': ['A10G', 4, 48, 192], 'g5.16xlarge': ['A10G', 1, 64, 256],
      'g5.24xlarge': ['A10G', 4, 96, 384], 'g5.48xlarge': ['A10G', 8, 192, 768],
      'g6.xlarge': ['L4', 1, 4, 16], 'g6.2xlarge': ['L4', 1, 8, 32], 'g6.4xlarge': ['L4', 1, 16, 64],
      'g6.8xlarge': ['L4', 1, 32, 128], 'g6.12xlarge': ['L4', 4, 48, 192], 'g6.16xlarge': ['L4', 1, 64, 256],
      'g6.24xlarge': ['L4', 4, 96, 384], 'g6.48xlarge': ['L4', 8, 192, 768],
      'g6e.xlarge': ['L40S', 1, 4, 32], 'g6e.2xlarge': ['L40S', 1, 8, 64], 'g6e.4xlarge': ['L40S', 1, 16, 128],
      'g6e.8xlarge': ['L40S', 1, 32, 256], 'g6e.12xlarge': ['L40S', 4, 48, 384], 'g6e.16xlarge': ['L40S', 1, 64, 512],
      'g6e.24xlarge': ['L40S', 4, 96, 768], 'g6e.48xlarge': ['L40S', 8, 192, 1536],
      'p4d.24xlarge': ['A100', 8, 96, 1152], 'p4de.24xlarge': ['A100', 8, 96, 1152],
      'p5.48xlarge': ['H100', 8, 192, 2048], 'p5en.48xlarge': ['H200', 8, 192, 2048],
      'inf2.xlarge': ['Inferentia2', 1, 4, 16], 'inf2.8xlarge': ['Inferentia2', 1, 32, 128], 'inf2.48xlarge': ['Inferentia2', 12, 192, 768],
      'trn1.2xlarge': ['Trainium', 1, 8, 32], 'trn1.32xlarge': ['Trainium', 16, 128, 512],
    };
    const neuron = new Set(['Inferentia2', 'Trainium']);
    expect(GpuInstanceType.catalogTypes().map((t) => t.name).sort()).toEqual(Object.keys(hardware).sort());
    for (const t of GpuInstanceType.catalogTypes()) {
      const [model, count, vcpus, memoryGiB] = hardware[t.name];
      expect([t.name, t.acceleratorModel, t.acceleratorCount, t.vcpus, t.memoryGiB, t.vendor, t.architecture])
        .toEqual([t.name, model, count, vcpus, memoryGiB, neuron.has(model) ? AcceleratorVendor.AWS_NEURON : AcceleratorVendor.NVIDIA, CpuArchitecture.X86_64]);
    }
  });

  test('accelerator memory is what EC2 reports per device, in GiB (not the marketed GB)', () => {
    // EC2 DescribeInstanceTypes GpuInfo / NeuronInfo MemoryInfo.SizeInMiB, as Karpenter's
    // karpenter.k8s.aws/instance-gpu-memory label shows it.
    const mib: Array<[GpuInstanceType, number]> = [
      [GpuInstanceType.G4DN_XLARGE, 16384], // T4, "16 GB"
      // A10G, L4 and L40S report less than marketed. EC2 used to report the A10G as 24,576 MiB (Karpenter's
      // v0.32 instance-types reference); its current reference shows 22,888 MiB on every g5 size.
      [GpuInstanceType.G5_XLARGE, 22888], [GpuInstanceType.G5_48XLARGE, 22888], // A10G, "24 GB"
      [GpuInstanceType.G6_XLARGE, 22888], [GpuInstanceType.G6_48XLARGE, 22888], // L4, "24 GB"
      [GpuInstanceType.G6E_XLARGE, 45776], [GpuInstanceType.G6E_48XLARGE, 45776], // L40S, "48 GB"
      [GpuInstanceType.P4D_24XLARGE, 40960], [GpuInstanceType.P4DE_24XLARGE, 81920], // A100 40 GB, 80 GB
      [GpuInstanceType.P5_48XLARGE, 81920], [GpuInstanceType.P5EN_48XLARGE, 144384],
      [GpuInstanceType.INF2_XLARGE, 32768], [GpuInstanceType.TRN1_2XLARGE, 32768],
    ];
    for (const [t, m] of mib) {
      expect([t.name, t.acceleratorMemoryGiB]).toEqual([t.name, m / 1024]);
    }
  });

  test('every price carries a source and a date, and unconfirmed figures are marked', () => {
    for (const t of GpuInstanceType.catalogTypes()) {
      expect(t.onDemandPrice).toBeDefined();
      for (const p of [t.onDemandPrice, t.sageMakerPrice]) {
        if (!p) continue;
        expect(p.usdPerHour).toBeGreaterThan(0);
        expect(p.source.length).toBeGreaterThan(10);
        expect(p.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(typeof p.confirmed).toBe('boolean');
      }
    }
    // P-family list prices predate the June 2025 cut: never presented as confirmed.
    expect(GpuInstanceType.P5_48XLARGE.onDemandPrice?.confirmed).toBe(false);
    expect(GpuInstanceType.G5_XLARGE.onDemandPrice).toMatchObject({ usdPerHour: 1.006, confirmed: true });
    expect(GpuInstanceType.G5_XLARGE.sageMakerPrice).toMatchObject({ usdPerHour: 1.4084, confirmed: true });
  });

  test('SageMaker prices are at least the EC2 prices', () => {
    for (const t of GpuInstanceType.catalogTypes()) {
      if (t.sageMakerPrice) expect(t.sageMakerPrice.usdPerHour).toBeGreaterThanOrEqual(t.onDemandPrice!.usdPerHour);
    }
  });

  test('helpers: SageMaker name, extended resource, default taint', () => {
    expect(GpuInstanceType.G6_XLARGE.sageMakerInstanceType).toBe('ml.g6.xlarge');
    expect(GpuInstanceType.G6_XLARGE.resourceName).toBe('nvidia.com/gpu');
    expect(GpuInstanceType.INF2_XLARGE.resourceName).toBe('aws.amazon.com/neuron');
    expect(GpuInstanceType.G6_XLARGE.defaultTaint).toEqual({ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' });
    expect(GpuInstanceType.TRN1_2XLARGE.defaultTaint).toEqual({ key: 'aws.amazon.com/neuron', value: 'true', effect: 'NoSchedule' });
    expect(GpuInstanceType.G5_XLARGE.toEc2InstanceType().toString()).toBe('g5.xlarge');
  });

  test('EKS AMI type follows vendor, architecture and OS', () => {
    expect(GpuInstanceType.G5_XLARGE.eksAmiType()).toBe(eks.NodegroupAmiType.AL2023_X86_64_NVIDIA);
    expect(GpuInstanceType.custom(customSpec).eksAmiType()).toBe(eks.NodegroupAmiType.AL2023_ARM_64_NVIDIA);
    expect(GpuInstanceType.INF2_XLARGE.eksAmiType()).toBe(eks.NodegroupAmiType.AL2023_X86_64_NEURON);
    expect(GpuInstanceType.G5_XLARGE.eksAmiType(AcceleratorOs.BOTTLEROCKET)).toBe(eks.NodegroupAmiType.BOTTLEROCKET_X86_64_NVIDIA);
    expect(GpuInstanceType.custom(customSpec).eksAmiType(AcceleratorOs.BOTTLEROCKET)).toBe(eks.NodegroupAmiType.BOTTLEROCKET_ARM_64_NVIDIA);
  });

  test('Bottlerocket for a Neuron type is an error that names the construct\'s limit, not one of EKS', () => {
    expect(() => GpuInstanceType.INF2_XLARGE.eksAmiType(AcceleratorOs.BOTTLEROCKET)).toThrow(/'amiOs' \("BOTTLEROCKET"\) is not available for Neuron instance inf2.xlarge.*AL2023_X86_64_NEURON/);
    // EKS runs Inferentia and Trainium on its Bottlerocket AMIs too (with the Neuron device plugin installed).
    expect(() => GpuInstanceType.INF2_XLARGE.eksAmiType(AcceleratorOs.BOTTLEROCKET)).not.toThrow(/EKS offers Neuron nodes only/);
  });

  test('an Arm Neuron type is an error: EKS has no Arm Neuron AMI', () => {
    const armNeuron = GpuInstanceType.custom({ ...customSpec, name: 'inf9g.xlarge', vendor: AcceleratorVendor.AWS_NEURON, acceleratorModel: 'Inferentia9' });
    expect(() => armNeuron.eksAmiType()).toThrow(/'amiOs' \("arm64"\) is not available for Neuron instance inf9g.xlarge: EKS offers Neuron nodes only as AL2023_X86_64_NEURON/);
  });

  test('spot alternatives share vendor, model, count and architecture and are at least as big', () => {
    const alts = GpuInstanceType.G5_XLARGE.spotAlternatives().map(String);
    expect(alts).toEqual(['g5.2xlarge', 'g5.4xlarge', 'g5.8xlarge', 'g5.16xlarge']);
    expect(GpuInstanceType.G5_2XLARGE.spotAlternatives().map(String)).not.toContain('g5.xlarge');
    expect(GpuInstanceType.G5_12XLARGE.spotAlternatives().map(String)).toEqual(['g5.24xlarge']);
    expect(GpuInstanceType.P5EN_48XLARGE.spotAlternatives()).toEqual([]);
  });

  test('spot alternatives can be capped at a multiple of the on-demand price', () => {
    // g5.xlarge $1.006/h: g5.2xlarge 1.20x, g5.4xlarge 1.61x, g5.8xlarge 2.43x, g5.16xlarge 4.07x.
    expect(GpuInstanceType.G5_XLARGE.spotAlternatives(2).map(String)).toEqual(['g5.2xlarge', 'g5.4xlarge']);
    expect(GpuInstanceType.G5_XLARGE.spotAlternatives(1.5).map(String)).toEqual(['g5.2xlarge']);
    expect(GpuInstanceType.G5_XLARGE.spotAlternatives(1)).toEqual([]);
    // A type at exactly the ratio is kept: g4dn.16xlarge costs twice g4dn.8xlarge.
    expect(GpuInstanceType.G4DN_8XLARGE.spotAlternatives(2).map(String)).toEqual(['g4dn.16xlarge']);
    // A type without a price cannot be compared: it gets every stand-in.
    const unpriced = GpuInstanceType.custom({ name: 'x9.xlarge', vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'A10G', acceleratorCount: 1,
      acceleratorMemoryGiB: 22888 / 1024, vcpus: 4, memoryGiB: 16, architecture: CpuArchitecture.X86_64 });
    expect(unpriced.spotAlternatives(1).map(String)).toEqual(['g5.xlarge', 'g5.2xlarge', 'g5.4xlarge', 'g5.8xlarge', 'g5.16xlarge']);
  });

  test('a spot alternative has at least the accelerator memory and vCPUs of the type it stands in for, each checked on its own', () => {
    const a10g = { name: 'x9.xlarge', vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'A10G', acceleratorCount: 1, architecture: CpuArchitecture.X86_64 };
    // More accelerator memory than any g5 (22,888 MiB each): none can stand in, however many vCPUs and GiB it has.
    expect(GpuInstanceType.custom({ ...a10g, acceleratorMemoryGiB: 48, vcpus: 4, memoryGiB: 8 }).spotAlternatives()).toEqual([]);
    // 48 vCPUs but little memory: only g5.16xlarge (64 vCPUs) has as many, though the smaller g5s have more memory.
    expect(GpuInstanceType.custom({ ...a10g, acceleratorMemoryGiB: 22888 / 1024, vcpus: 48, memoryGiB: 8 }).spotAlternatives().map(String)).toEqual(['g5.16xlarge']);
    // 200 GiB of memory but 4 vCPUs: only g5.16xlarge (256 GiB) has as much, though every g5 has the vCPUs.
    expect(GpuInstanceType.custom({ ...a10g, acceleratorMemoryGiB: 22888 / 1024, vcpus: 4, memoryGiB: 200 }).spotAlternatives().map(String)).toEqual(['g5.16xlarge']);
  });

  test('a spot alternative has the architecture of the type it stands in for: an Arm node group cannot take x86_64 types', () => {
    const armA10g = GpuInstanceType.custom({ name: 'x9g.xlarge', vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'A10G', acceleratorCount: 1,
      acceleratorMemoryGiB: 22888 / 1024, vcpus: 4, memoryGiB: 16, architecture: CpuArchitecture.ARM64 });
    expect(armA10g.spotAlternatives()).toEqual([]);
  });

  describe('custom()', () => {
    test('describes a type the catalog lacks', () => {
      const t = GpuInstanceType.custom(customSpec);
      expect(t.inCatalog).toBe(false);
      expect(t.architecture).toBe(CpuArchitecture.ARM64);
      expect(GpuInstanceType.G5_XLARGE.inCatalog).toBe(true);
    });
    test('without an architecture, a Graviton name (g5g) is arm64 and gets the ARM AMI; others are x86_64', () => {
      const { architecture: _, ...noArch } = customSpec;
      const g5g = GpuInstanceType.custom(noArch);
      expect(g5g.architecture).toBe(CpuArchitecture.ARM64);
      expect(g5g.eksAmiType()).toBe(eks.NodegroupAmiType.AL2023_ARM_64_NVIDIA);
      const p3 = GpuInstanceType.custom({ ...noArch, name: 'p3.2xlarge', acceleratorModel: 'V100', vcpus: 8, memoryGiB: 61 });
      expect(p3.architecture).toBe(CpuArchitecture.X86_64);
      expect(GpuInstanceType.custom({ ...noArch, name: 'g4dn.metal' }).architecture).toBe(CpuArchitecture.X86_64);
      expect(GpuInstanceType.custom({ ...noArch, architecture: CpuArchitecture.X86_64 }).architecture).toBe(CpuArchitecture.X86_64);
    });
    test('an unknown architecture is rejected', () => {
      expect(() => GpuInstanceType.custom({ ...customSpec, architecture: 'aarch64' as CpuArchitecture }))
        .toThrow(/'architecture' \("aarch64"\) must be one of x86_64, arm64/);
    });
    test('a malformed name is rejected', () => {
      expect(() => GpuInstanceType.custom({ ...customSpec, name: 'ml.g5g.xlarge' })).toThrow(/'name' \("ml.g5g.xlarge"\) must be an EC2 instance type name/);
    });
    test('an accelerator count below 1 is rejected', () => {
      expect(() => GpuInstanceType.custom({ ...customSpec, acceleratorCount: 0 })).toThrow(/'acceleratorCount' \(0\) must be a whole number >= 1/);
    });
    test('a fractional vCPU count is rejected', () => {
      expect(() => GpuInstanceType.custom({ ...customSpec, vcpus: 2.5 })).toThrow(/'vcpus' \(2.5\) must be a whole number >= 1/);
    });
    test('non-positive memory is rejected', () => {
      expect(() => GpuInstanceType.custom({ ...customSpec, memoryGiB: 0 })).toThrow(/'memoryGiB' \(0\) must be a number > 0/);
      expect(() => GpuInstanceType.custom({ ...customSpec, acceleratorMemoryGiB: -1 })).toThrow(/'acceleratorMemoryGiB' \(-1\) must be a number > 0/);
    });
    test('an unknown vendor is rejected', () => {
      expect(() => GpuInstanceType.custom({ ...customSpec, vendor: 'amd' as AcceleratorVendor })).toThrow(/'vendor' \("amd"\) must be one of nvidia, aws-neuron/);
    });
    test('a negative price is rejected', () => {
      expect(() => GpuInstanceType.custom({ ...customSpec, onDemandPrice: { usdPerHour: -1, source: 's', asOf: '2026-01-01', confirmed: false } }))
        .toThrow(/'onDemandPrice.usdPerHour' \(-1\) must be a number >= 0/);
      expect(() => GpuInstanceType.custom({ ...customSpec, sageMakerPrice: { usdPerHour: -0.5, source: 's', asOf: '2026-01-01', confirmed: false } }))
        .toThrow(/'sageMakerPrice.usdPerHour' \(-0.5\) must be a number >= 0/);
    });
    test('a price of 0 is accepted (a type already paid for)', () => {
      const free = { usdPerHour: 0, source: 'reserved', asOf: '2026-01-01', confirmed: true };
      expect(GpuInstanceType.custom({ ...customSpec, onDemandPrice: free, sageMakerPrice: free }).onDemandPrice?.usdPerHour).toBe(0);
    });
    test('an empty accelerator model is rejected', () => {
      expect(() => GpuInstanceType.custom({ ...customSpec, acceleratorModel: '' })).toThrow(/'acceleratorModel' \(""\) must be a non-empty string/);
    });
    test('an accelerator model with spaces or brackets gives a valid label value, trimmed of what cannot begin or end one', () => {
      // Label values begin and end with a letter or digit: "h100--sxm-" would be refused by EKS, the kubelet and the API server.
      expect(GpuInstanceType.custom({ ...customSpec, acceleratorModel: 'H100 (SXM)' }).acceleratorModelLabel).toBe('h100--sxm');
      expect(GpuInstanceType.custom({ ...customSpec, acceleratorModel: '(GB200)' }).acceleratorModelLabel).toBe('gb200');
      expect(GpuInstanceType.custom({ ...customSpec, acceleratorModel: 'L40S' }).acceleratorModelLabel).toBe('l40s');
    });
    test('an accelerator model that gives no label value, or one too long for the node labels, is rejected', () => {
      expect(() => GpuInstanceType.custom({ ...customSpec, acceleratorModel: '(-)' }))
        .toThrow(/'acceleratorModel' \("\(-\)"\) must hold a letter or digit and give a label value of at most 56 characters/);
      // NVIDIA nodes also carry k8s.amazonaws.com/accelerator=nvidia-<model>: 7 + 56 = 63.
      expect(() => GpuInstanceType.custom({ ...customSpec, acceleratorModel: 'a'.repeat(57) })).toThrow(/'acceleratorModel' \("a{57}"\) must hold a letter or digit and give a label value of at most 56/);
      expect(GpuInstanceType.custom({ ...customSpec, acceleratorModel: 'a'.repeat(56) }).acceleratorModelLabel).toBe('a'.repeat(56));
      expect(GpuInstanceType.custom({ ...customSpec, vendor: AcceleratorVendor.AWS_NEURON, architecture: CpuArchitecture.X86_64, acceleratorModel: 'a'.repeat(63) }).acceleratorModelLabel)
        .toBe('a'.repeat(63));
      expect(() => GpuInstanceType.custom({ ...customSpec, vendor: AcceleratorVendor.AWS_NEURON, architecture: CpuArchitecture.X86_64, acceleratorModel: 'a'.repeat(64) }))
        .toThrow(/'acceleratorModel' \("a{64}"\) must hold a letter or digit and give a label value of at most 63 characters/);
    });
  });
});

test('GpuInstanceType.custom from a JavaScript caller without a spec fails naming name instead of a TypeError', () => {
  expect(() => GpuInstanceType.custom(undefined as unknown as GpuInstanceSpec))
    .toThrow(/^'name' \(undefined\) is required: an EC2 instance type name like "g5.xlarge"$/);
});
