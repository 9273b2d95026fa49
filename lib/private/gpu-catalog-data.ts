/**
 * Accelerator instance data: hardware from the EC2 instance type catalog, prices for us-east-1 Linux.
 *
 * Sources (every price record names one of these and its date):
 * - `SKYPILOT_2026`: SkyPilot catalog `catalogs/v7/aws/vms.csv` (generated from the AWS Price List API),
 *   read 2026-11-29. G, Inf and Trn on-demand prices match other sources quoted for June 2026.
 *   P-family prices in it predate AWS's June 2025 price cut (up to -45%) and are marked unconfirmed.
 * - `DERIVED_SM`: derived from the SageMaker price / 1.25 (not read from a catalog), marked unconfirmed.
 * - `FMBENCH`: SageMaker `ml.*` prices from aws-samples/foundation-model-benchmarking-tool
 *   `fmbench/configs/pricing.yml`, read 2026-11-29.
 * - `SM_PREMIUM_25`: SageMaker price estimated as EC2 on-demand x 1.25 (the premium FMBench shows for most
 *   G sizes), marked unconfirmed.
 * - `DSTACK_4110`: dstack PR #4110 (2026-08-06), p5en.48xlarge us-east-1 after the price cut.
 *
 * Refresh before relying on a price for a purchase decision.
 */

/** Where a price came from. */
export interface PriceSource {
  readonly source: string;
  readonly asOf: string;
}

export const SOURCES = {
  SKYPILOT_2026: { source: 'SkyPilot catalog v7 aws/vms.csv (AWS Price List API)', asOf: '2026-11-29' },
  DERIVED_SM: { source: 'derived: SageMaker price / 1.25 (FMBench pricing.yml)', asOf: '2026-11-29' },
  FMBENCH: { source: 'aws-samples/foundation-model-benchmarking-tool fmbench/configs/pricing.yml', asOf: '2026-11-29' },
  SM_PREMIUM_25: { source: 'estimated: EC2 on-demand x 1.25 (the SageMaker premium FMBench shows for G sizes)', asOf: '2026-11-29' },
  DSTACK_4110: { source: 'dstack PR #4110 (us-east-1 price after the June 2025 cut)', asOf: '2026-08-06' },
  SM_PREMIUM_15: { source: 'estimated: EC2 on-demand x 1.15 (the SageMaker premium FMBench shows for P sizes)', asOf: '2026-11-29' },
  PRE_CUT: { source: 'SkyPilot catalog v7 aws/vms.csv; list price before the June 2025 P-family cut (up to -45%)', asOf: '2026-11-29' },
} as const;

/** One row of the catalog. Prices in USD per hour, us-east-1, Linux. */
export interface CatalogRow {
  readonly name: string;
  readonly vendor: 'nvidia' | 'aws-neuron';
  readonly model: string;
  readonly count: number;
  readonly memGiB: number;
  readonly vcpus: number;
  readonly ramGiB: number;
  readonly arch: 'x86_64' | 'arm64';
  /** EC2 on-demand price, its source key, and whether it is confirmed. */
  readonly ec2: [number, keyof typeof SOURCES, boolean];
  /** SageMaker `ml.*` on-demand price where SageMaker sells the type. */
  readonly sm?: [number, keyof typeof SOURCES, boolean];
}

const S = 'SKYPILOT_2026' as const;

// Accelerator memory per device in GiB as EC2 reports it (DescribeInstanceTypes, in MiB): T4 16,
// A10G 22,888 MiB (marketed as "24 GB"; EC2 reported 24,576 MiB until Karpenter's reference, generated from
// DescribeInstanceTypes, changed between v0.32 and its current docs), L4 22,888 MiB (marketed as "24 GB"),
// L40S 45,776 MiB (marketed as "48 GB"), A100 40/80, H100 80, H200 141, Inferentia2 32, Trainium 32.
const A10G_GIB = 22888 / 1024;
const L4_GIB = 22888 / 1024;
const L40S_GIB = 45776 / 1024;
export const CATALOG: CatalogRow[] = [
  // g4dn: NVIDIA T4
  { name: 'g4dn.xlarge', vendor: 'nvidia', model: 'T4', count: 1, memGiB: 16, vcpus: 4, ramGiB: 16, arch: 'x86_64', ec2: [0.526, S, true], sm: [0.7364, 'FMBENCH', true] },
  { name: 'g4dn.2xlarge', vendor: 'nvidia', model: 'T4', count: 1, memGiB: 16, vcpus: 8, ramGiB: 32, arch: 'x86_64', ec2: [0.752, 'DERIVED_SM', false], sm: [0.94, 'FMBENCH', true] },
  { name: 'g4dn.4xlarge', vendor: 'nvidia', model: 'T4', count: 1, memGiB: 16, vcpus: 16, ramGiB: 64, arch: 'x86_64', ec2: [1.204, S, true], sm: [1.505, 'FMBENCH', true] },
  { name: 'g4dn.8xlarge', vendor: 'nvidia', model: 'T4', count: 1, memGiB: 16, vcpus: 32, ramGiB: 128, arch: 'x86_64', ec2: [2.176, 'DERIVED_SM', false], sm: [2.72, 'FMBENCH', true] },
  { name: 'g4dn.12xlarge', vendor: 'nvidia', model: 'T4', count: 4, memGiB: 16, vcpus: 48, ramGiB: 192, arch: 'x86_64', ec2: [3.912, S, true], sm: [4.89, 'FMBENCH', true] },
  { name: 'g4dn.16xlarge', vendor: 'nvidia', model: 'T4', count: 1, memGiB: 16, vcpus: 64, ramGiB: 256, arch: 'x86_64', ec2: [4.352, S, true], sm: [5.44, 'FMBENCH', true] },
  // g5: NVIDIA A10G
  { name: 'g5.xlarge', vendor: 'nvidia', model: 'A10G', count: 1, memGiB: A10G_GIB, vcpus: 4, ramGiB: 16, arch: 'x86_64', ec2: [1.006, S, true], sm: [1.4084, 'FMBENCH', true] },
  { name: 'g5.2xlarge', vendor: 'nvidia', model: 'A10G', count: 1, memGiB: A10G_GIB, vcpus: 8, ramGiB: 32, arch: 'x86_64', ec2: [1.212, S, true], sm: [1.515, 'FMBENCH', true] },
  { name: 'g5.4xlarge', vendor: 'nvidia', model: 'A10G', count: 1, memGiB: A10G_GIB, vcpus: 16, ramGiB: 64, arch: 'x86_64', ec2: [1.624, S, true], sm: [2.03, 'FMBENCH', true] },
  { name: 'g5.8xlarge', vendor: 'nvidia', model: 'A10G', count: 1, memGiB: A10G_GIB, vcpus: 32, ramGiB: 128, arch: 'x86_64', ec2: [2.448, S, true], sm: [3.06, 'FMBENCH', true] },
  { name: 'g5.12xlarge', vendor: 'nvidia', model: 'A10G', count: 4, memGiB: A10G_GIB, vcpus: 48, ramGiB: 192, arch: 'x86_64', ec2: [5.672, S, true], sm: [7.09, 'FMBENCH', true] },
  { name: 'g5.16xlarge', vendor: 'nvidia', model: 'A10G', count: 1, memGiB: A10G_GIB, vcpus: 64, ramGiB: 256, arch: 'x86_64', ec2: [4.096, S, true], sm: [5.12, 'SM_PREMIUM_25', false] },
  { name: 'g5.24xlarge', vendor: 'nvidia', model: 'A10G', count: 4, memGiB: A10G_GIB, vcpus: 96, ramGiB: 384, arch: 'x86_64', ec2: [8.144, S, true], sm: [10.18, 'FMBENCH', true] },
  { name: 'g5.48xlarge', vendor: 'nvidia', model: 'A10G', count: 8, memGiB: A10G_GIB, vcpus: 192, ramGiB: 768, arch: 'x86_64', ec2: [16.288, S, true], sm: [20.36, 'FMBENCH', true] },
  // g6: NVIDIA L4
  { name: 'g6.xlarge', vendor: 'nvidia', model: 'L4', count: 1, memGiB: L4_GIB, vcpus: 4, ramGiB: 16, arch: 'x86_64', ec2: [0.8048, S, true], sm: [1.006, 'SM_PREMIUM_25', false] },
  { name: 'g6.2xlarge', vendor: 'nvidia', model: 'L4', count: 1, memGiB: L4_GIB, vcpus: 8, ramGiB: 32, arch: 'x86_64', ec2: [0.9776, 'DERIVED_SM', false], sm: [1.222, 'SM_PREMIUM_25', false] },
  { name: 'g6.4xlarge', vendor: 'nvidia', model: 'L4', count: 1, memGiB: L4_GIB, vcpus: 16, ramGiB: 64, arch: 'x86_64', ec2: [1.3232, S, true], sm: [1.654, 'SM_PREMIUM_25', false] },
  { name: 'g6.8xlarge', vendor: 'nvidia', model: 'L4', count: 1, memGiB: L4_GIB, vcpus: 32, ramGiB: 128, arch: 'x86_64', ec2: [2.0144, S, true], sm: [2.518, 'SM_PREMIUM_25', false] },
  { name: 'g6.12xlarge', vendor: 'nvidia', model: 'L4', count: 4, memGiB: L4_GIB, vcpus: 48, ramGiB: 192, arch: 'x86_64', ec2: [4.6016, S, false], sm: [5.752, 'FMBENCH', true] },
  { name: 'g6.16xlarge', vendor: 'nvidia', model: 'L4', count: 1, memGiB: L4_GIB, vcpus: 64, ramGiB: 256, arch: 'x86_64', ec2: [3.3968, S, true], sm: [4.246, 'FMBENCH', true] },
  { name: 'g6.24xlarge', vendor: 'nvidia', model: 'L4', count: 4, memGiB: L4_GIB, vcpus: 96, ramGiB: 384, arch: 'x86_64', ec2: [6.6752, S, true], sm: [8.344, 'FMBENCH', true] },
  { name: 'g6.48xlarge', vendor: 'nvidia', model: 'L4', count: 8, memGiB: L4_GIB, vcpus: 192, ramGiB: 768, arch: 'x86_64', ec2: [13.3504, S, true], sm: [16.688, 'FMBENCH', true] },
  // g6e: NVIDIA L40S
  { name: 'g6e.xlarge', vendor: 'nvidia', model: 'L40S', count: 1, memGiB: L40S_GIB, vcpus: 4, ramGiB: 32, arch: 'x86_64', ec2: [1.861, S, true], sm: [2.326, 'SM_PREMIUM_25', false] },
  { name: 'g6e.2xlarge', vendor: 'nvidia', model: 'L40S', count: 1, memGiB: L40S_GIB, vcpus: 8, ramGiB: 64, arch: 'x86_64', ec2: [2.24208, S, false], sm: [2.803, 'SM_PREMIUM_25', false] },
  { name: 'g6e.4xlarge', vendor: 'nvidia', model: 'L40S', count: 1, memGiB: L40S_GIB, vcpus: 16, ramGiB: 128, arch: 'x86_64', ec2: [3.00424, S, true], sm: [3.755, 'SM_PREMIUM_25', false] },
  { name: 'g6e.8xlarge', vendor: 'nvidia', model: 'L40S', count: 1, memGiB: L40S_GIB, vcpus: 32, ramGiB: 256, arch: 'x86_64', ec2: [4.52856, S, true], sm: [5.661, 'SM_PREMIUM_25', false] },
  { name: 'g6e.12xlarge', vendor: 'nvidia', model: 'L40S', count: 4, memGiB: L40S_GIB, vcpus: 48, ramGiB: 384, arch: 'x86_64', ec2: [10.49264, S, true], sm: [13.116, 'SM_PREMIUM_25', false] },
  { name: 'g6e.16xlarge', vendor: 'nvidia', model: 'L40S', count: 1, memGiB: L40S_GIB, vcpus: 64, ramGiB: 512, arch: 'x86_64', ec2: [7.57719, S, true], sm: [9.471, 'SM_PREMIUM_25', false] },
  { name: 'g6e.24xlarge', vendor: 'nvidia', model: 'L40S', count: 4, memGiB: L40S_GIB, vcpus: 96, ramGiB: 768, arch: 'x86_64', ec2: [15.06559, S, true], sm: [18.832, 'SM_PREMIUM_25', false] },
  { name: 'g6e.48xlarge', vendor: 'nvidia', model: 'L40S', count: 8, memGiB: L40S_GIB, vcpus: 192, ramGiB: 1536, arch: 'x86_64', ec2: [30.13118, S, true], sm: [37.664, 'SM_PREMIUM_25', false] },
  // p4d / p4de: NVIDIA A100 (list prices before the June 2025 cut)
  { name: 'p4d.24xlarge', vendor: 'nvidia', model: 'A100', count: 8, memGiB: 40, vcpus: 96, ramGiB: 1152, arch: 'x86_64', ec2: [32.7726, 'PRE_CUT', false], sm: [37.688, 'FMBENCH', false] },
  { name: 'p4de.24xlarge', vendor: 'nvidia', model: 'A100', count: 8, memGiB: 80, vcpus: 96, ramGiB: 1152, arch: 'x86_64', ec2: [40.96575, 'PRE_CUT', false], sm: [47.11, 'SM_PREMIUM_15', false] },
  // p5 / p5en: NVIDIA H100 / H200
  { name: 'p5.48xlarge', vendor: 'nvidia', model: 'H100', count: 8, memGiB: 80, vcpus: 192, ramGiB: 2048, arch: 'x86_64', ec2: [98.32, 'PRE_CUT', false], sm: [113.068, 'FMBENCH', false] },
  { name: 'p5en.48xlarge', vendor: 'nvidia', model: 'H200', count: 8, memGiB: 141, vcpus: 192, ramGiB: 2048, arch: 'x86_64', ec2: [63.296, 'DSTACK_4110', true] },
  // inf2: AWS Inferentia2
  { name: 'inf2.xlarge', vendor: 'aws-neuron', model: 'Inferentia2', count: 1, memGiB: 32, vcpus: 4, ramGiB: 16, arch: 'x86_64', ec2: [0.7582, S, true], sm: [0.99, 'FMBENCH', true] },
  { name: 'inf2.8xlarge', vendor: 'aws-neuron', model: 'Inferentia2', count: 1, memGiB: 32, vcpus: 32, ramGiB: 128, arch: 'x86_64', ec2: [1.96786, S, true], sm: [2.36, 'FMBENCH', true] },
  { name: 'inf2.48xlarge', vendor: 'aws-neuron', model: 'Inferentia2', count: 12, memGiB: 32, vcpus: 192, ramGiB: 768, arch: 'x86_64', ec2: [12.98127, S, true], sm: [15.58, 'FMBENCH', true] },
  // trn1: AWS Trainium
  { name: 'trn1.2xlarge', vendor: 'aws-neuron', model: 'Trainium', count: 1, memGiB: 32, vcpus: 8, ramGiB: 32, arch: 'x86_64', ec2: [1.34375, S, true] },
  { name: 'trn1.32xlarge', vendor: 'aws-neuron', model: 'Trainium', count: 16, memGiB: 32, vcpus: 128, ramGiB: 512, arch: 'x86_64', ec2: [21.5, S, true], sm: [28.497, 'FMBENCH', true] },
];
