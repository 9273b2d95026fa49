import * as fs from 'node:fs';
import * as path from 'node:path';
import { CPU_PRICE_SOURCES, CPU_PRICES } from '../../lib/private/cpu-price-data';
import { describeValue, PlatformError } from '../../lib/private/errors';
import {
  BOTTLEROCKET_OS_VOLUME, EBS_GB_MONTH, EKS_DEFAULT_DISK, EKS_DEFAULT_INSTANCE_TYPE, HOURS_PER_MONTH, SERVICE_PRICES, ServicePrice,
} from '../../lib/private/service-price-data';
import { GpuInstanceType } from '../compute/gpu-instance-type';
import { countByType, money, usd } from './private/report-format';

/** What the estimate could say about a line. */
export enum CostStatus {
  /** Priced: the monthly figures are in the totals. */
  PRICED = 'priced',
  /**
   * Billed by the hour or month, but the estimate has no price for it (an instance type outside its tables) or cannot
   * read a figure it needs from the template (a `Ref` to a parameter, an `Fn::` it cannot resolve). Not in the totals:
   * the report lists it with the reason.
   */
  UNPRICED = 'unpriced',
  /** Billed per use only (requests, GB stored or processed): nothing at rest, no figure in the totals. */
  USAGE_BASED = 'usage-based',
  /** Not billed by itself (IAM, security groups, subnets, route tables, a gateway VPC endpoint). */
  NOT_BILLED = 'not-billed',
  /**
   * What the resource bills is unknown to the estimate: a resource type it does not know, or a nested stack whose
   * template it cannot read. It may or may not bill; nothing of it is in the totals.
   */
  UNKNOWN = 'unknown',
}

/** A unit price and where it came from. */
export interface CostUnitPrice {
  /** USD per `per`, us-east-1, on-demand list price. */
  readonly usd: number;
  /** The unit: `hour` (of one instance, cluster, gateway, address, endpoint interface), `month`, `GB-month`. */
  readonly per: string;
  /** Where the figure came from. */
  readonly source: string;
  /** Date the source was read (or published), ISO 8601; `not given` for a price the caller gave without one. */
  readonly asOf: string;
  /** False when the figure is derived, estimated or known to be out of date (see the GPU catalog). */
  readonly confirmed: boolean;
}

/** An hourly instance price the caller knows (a negotiated rate, or a type the estimate has no price for). */
export interface GivenInstancePrice {
  /** USD per instance-hour. */
  readonly usdPerHour: number;
  /** Where it comes from, as the report shows it. @default 'given by the caller (instancePrices)' */
  readonly source?: string;
  /** When it was read, ISO 8601. @default 'not given' */
  readonly asOf?: string;
}

/** Options of `CostEstimate.fromTemplates` and `fromCloudAssembly`. */
export interface CostEstimateOptions {
  /**
   * Hourly prices by instance type, used before the estimate's own tables: EC2 names (`m5.large`) for node groups,
   * SageMaker names (`ml.c6i.large`) for endpoint variants. A number is USD per hour.
   * @default - the GPU catalog and the CPU price table only
   *
   * @example
   * CostEstimate.fromCloudAssembly('cdk.out', { instancePrices: { 'ml.c6i.large': 0.119, 'm5.large': { usdPerHour: 0.096, source: 'our rate card', asOf: '2026-12-01' } } });
   */
  readonly instancePrices?: Readonly<Record<string, number | GivenInstancePrice>>;
}

/** One line of the estimate: a resource of a synthesized template, or one part of it (a node group's disks). */
export interface CostLineItem {
  /** The stack (template) the resource is in. */
  readonly stackName: string;
  /** The resource's logical id in the template. */
  readonly logicalId: string;
  /** The CloudFormation resource type. */
  readonly resourceType: string;
  /** What the line is, in words. */
  readonly description: string;
  readonly status: CostStatus;
  /** How many units bill at rest: the minimum capacity, what bills with no traffic. */
  readonly quantityAtRest?: number;
  /** How many units bill at most: the autoscaling maximum. */
  readonly quantityAtMost?: number;
  /** What is counted: `node`, `instance`, `GB`, `cluster`, `alarm metric`... */
  readonly unit?: string;
  /** The price of one unit at rest (a node group's cheapest listed type). */
  readonly unitPrice?: CostUnitPrice;
  /** The price of one unit at most, where it differs (a node group's dearest listed type). */
  readonly unitPriceAtMost?: CostUnitPrice;
  /** USD a month at rest (730 hours). Only for priced lines. */
  readonly monthlyUsdAtRest?: number;
  /** USD a month at most (730 hours). Only for priced lines. */
  readonly monthlyUsdAtMost?: number;
  /** Why a line is unpriced, what is left out (per-GB, per-request charges), and assumptions. */
  readonly note?: string;
  /** True for spot capacity, which is priced at the on-demand rate: an upper bound. */
  readonly spot?: boolean;
}

/** A monthly cost budget in US dollars, read from an `AWS::Budgets::Budget` resource (such as a `CostBudget`'s). */
export interface CostBudgetLimit {
  /** The stack that holds it. */
  readonly stackName: string;
  /** Its logical id. */
  readonly logicalId: string;
  /** Its name, when the template gives one. */
  readonly budgetName?: string;
  /** Its limit, US dollars a month. */
  readonly monthlyUsd: number;
  /**
   * The filter that narrows it to part of the account's cost (`CostFilters` or `FilterExpression`), in short, e.g.
   * `TagKeyValue user:team$ml-platform`. The estimate is not compared with a filtered budget: it covers the stacks, and
   * which of their costs the filter selects is not known here.
   * @default - none: the budget tracks the whole account's cost
   */
  readonly filter?: string;
}

/** A synthesized CloudFormation template and the name the report gives it. */
export interface StackTemplate {
  /** The stack's name, as the report shows it. */
  readonly stackName: string;
  /** The template, as parsed JSON (`JSON.parse` of `<stack>.template.json`, or `Template.fromStack(s).toJSON()`). */
  readonly template: Record<string, unknown>;
}

/** The estimate's assumptions, as `toJSON()` and `toMarkdown()` state them. */
export const COST_ESTIMATE_ASSUMPTIONS: readonly string[] = [
  'us-east-1 on-demand list prices (Linux), in USD; other regions cost more or less',
  `${HOURS_PER_MONTH} hours a month`,
  'no Savings Plans, Reserved Instances or spot discounts: spot capacity is priced at the on-demand rate, as an upper bound',
  'data transfer, per-request, per-GB-processed and storage-growth charges are excluded (usage-based lines have no figure)',
  'at rest = minimum capacity (what bills with no traffic); at most = autoscaling maxima',
];

/** The JSON form of an estimate (`CostEstimate.toJSON()`). */
export interface CostEstimateJson {
  readonly currency: 'USD';
  readonly region: 'us-east-1';
  readonly hoursPerMonth: number;
  readonly assumptions: readonly string[];
  readonly monthlyUsdAtRest: number;
  readonly monthlyUsdAtMost: number;
  /** Lines that bill but could not be priced (`CostStatus.UNPRICED`). */
  readonly unpricedCount: number;
  /** Resources the estimate cannot judge (`CostStatus.UNKNOWN`): they may bill. */
  readonly unknownCount: number;
  /** The monthly cost budgets the templates define, each with the share of it the estimate takes (not for a filtered budget). */
  readonly budgets: ReadonlyArray<CostBudgetLimit & { readonly shareAtRest?: number; readonly shareAtMost?: number }>;
  readonly stacks: ReadonlyArray<{
    readonly stackName: string;
    readonly monthlyUsdAtRest: number;
    readonly monthlyUsdAtMost: number;
    readonly items: readonly CostLineItem[];
  }>;
}

/**
 * A monthly cost estimate of synthesized CloudFormation templates: what bills at rest (minimum capacity, no traffic) and
 * at most (autoscaling maxima), line by line, with each unit price's source and date.
 *
 * It reads plain template JSON, so it prices stacks built without this library too: EKS clusters and managed node groups
 * (instance types, scaling, root volumes from `DiskSize` or the launch template, Bottlerocket's OS volume), SageMaker
 * endpoint variants (with the Application Auto Scaling target of the variant), NAT gateways, public IPv4 addresses
 * (Elastic IPs and internet-facing load balancers'), VPC endpoints, load balancers, KMS keys, CloudWatch alarms and EBS
 * volumes. A resource with a `Condition` is priced as if it is created; its note says so. Accelerator types are priced from the GPU catalog (`GpuInstanceType`),
 * a few CPU types from a small cited table; any other type is listed as unpriced, never priced at zero. S3 buckets,
 * log groups, Lambda functions and SNS topics bill per use and are listed without a figure.
 *
 * Prices are us-east-1 on-demand list prices for 730 hours a month, without Savings Plans, reservations, spot discounts,
 * data transfer or per-request charges.
 *
 * @example
 * const estimate = CostEstimate.fromCloudAssembly('cdk.out');
 * console.log(estimate.monthlyUsdAtRest, estimate.monthlyUsdAtMost);
 * fs.writeFileSync('cost-report.md', estimate.toMarkdown());
 *
 * @see https://aws.amazon.com/pricing/
 */
export class CostEstimate {
  /**
   * Prices the given templates.
   * @param stacks one entry per stack: its name and its template as parsed JSON
   */
  public static fromTemplates(stacks: StackTemplate[], options: CostEstimateOptions = {}): CostEstimate {
    return CostEstimate.price(stacks, givenPrices(options?.instancePrices));
  }

  /**
   * Prices every CloudFormation stack of a cloud assembly, as its `manifest.json` lists them (stages' nested assemblies
   * included), and the nested stacks (`AWS::CloudFormation::Stack`) whose templates `cdk synth` wrote beside them, each
   * as a stack of its own named `<parent>/<logical id>`.
   * @param assembly the assembly's directory (`cdk.out`), or a cloud assembly (`app.synth()`)
   */
  public static fromCloudAssembly(assembly: string | { readonly directory: string }, options: CostEstimateOptions = {}): CostEstimate {
    const directory = typeof assembly === 'string' ? assembly : assembly?.directory;
    if (typeof directory !== 'string') {
      throw new PlatformError(undefined, 'assembly', assembly, 'must be a cloud assembly directory or a CloudAssembly', 'pass "cdk.out" or app.synth()');
    }
    const given = givenPrices(options?.instancePrices); // checked before the assembly is read
    return CostEstimate.price(readAssembly(path.resolve(directory)), given);
  }

  /** Prices the stacks with the caller's instance prices (already checked). */
  private static price(stacks: StackTemplate[], given: ReadonlyMap<string, CostUnitPrice>): CostEstimate {
    if (!Array.isArray(stacks)) {
      throw new PlatformError(undefined, 'stacks', stacks, 'must be an array of { stackName, template }', 'pass one entry per synthesized template');
    }
    const items: CostLineItem[] = [];
    for (const [i, stack] of stacks.entries()) {
      if (typeof stack?.stackName !== 'string' || stack.stackName === '') {
        throw new PlatformError(undefined, `stacks[${i}].stackName`, stack?.stackName, 'must be a non-empty string', 'name the stack');
      }
      if (typeof stack.template !== 'object' || stack.template === null || Array.isArray(stack.template)) {
        throw new PlatformError(undefined, `stacks[${i}].template`, stack.template, 'must be a CloudFormation template object',
          'pass the parsed JSON of the synthesized template');
      }
      items.push(...new TemplatePricer(stack.stackName, stack.template, given, (stack as AssemblyStack).nestedStacks).price());
    }
    return new CostEstimate(stacks.map((s) => s.stackName), items, stacks.flatMap((s) => readBudgets(s.stackName, s.template)));
  }

  /** The stacks priced, in order. */
  public readonly stackNames: readonly string[];
  /** Every line, stack by stack, in template order. */
  public readonly items: readonly CostLineItem[];

  /**
   * The monthly cost budgets in US dollars that the templates define (`AWS::Budgets::Budget` of type `COST`, monthly, with
   * a literal limit in USD): what the estimate can be checked against. A budget without a filter tracks the whole
   * account's cost, so an estimate at rest above one means the budget will be exceeded even before anything else in the
   * account bills. A budget with a filter (`filter`) tracks only part of it, and the estimate is not compared with it.
   */
  public readonly budgets: readonly CostBudgetLimit[];

  private constructor(stackNames: string[], items: CostLineItem[], budgetLimits: CostBudgetLimit[]) {
    this.stackNames = stackNames;
    this.items = items;
    this.budgets = budgetLimits;
  }

  /** USD a month at rest: the sum of the priced lines (unpriced lines are not in it). */
  public get monthlyUsdAtRest(): number {
    return sum(this.items, 'monthlyUsdAtRest');
  }

  /** USD a month at most (autoscaling maxima): the sum of the priced lines. */
  public get monthlyUsdAtMost(): number {
    return sum(this.items, 'monthlyUsdAtMost');
  }

  /** The lines that bill but could not be priced, with the reason in each `note`. */
  public get unpriced(): CostLineItem[] {
    return this.items.filter((i) => i.status === CostStatus.UNPRICED);
  }

  /**
   * The resources of types this estimate does not know (a nested stack, a custom resource that deploys Kubernetes
   * manifests, a database): they may bill, and nothing of theirs is in the totals.
   */
  public get unknown(): CostLineItem[] {
    return this.items.filter((i) => i.status === CostStatus.UNKNOWN);
  }

  /** The estimate as JSON-serializable data: totals, per-stack totals, every line, the assumptions. */
  public toJSON(): CostEstimateJson {
    return {
      currency: 'USD',
      region: 'us-east-1',
      hoursPerMonth: HOURS_PER_MONTH,
      assumptions: COST_ESTIMATE_ASSUMPTIONS,
      monthlyUsdAtRest: this.monthlyUsdAtRest,
      monthlyUsdAtMost: this.monthlyUsdAtMost,
      unpricedCount: this.unpriced.length,
      unknownCount: this.unknown.length,
      budgets: this.budgets.map((b) => (b.filter !== undefined ? b : {
        ...b, shareAtRest: this.monthlyUsdAtRest / b.monthlyUsd, shareAtMost: this.monthlyUsdAtMost / b.monthlyUsd,
      })),
      stacks: this.stackNames.map((stackName) => {
        const items = this.items.filter((i) => i.stackName === stackName);
        return { stackName, monthlyUsdAtRest: sum(items, 'monthlyUsdAtRest'), monthlyUsdAtMost: sum(items, 'monthlyUsdAtMost'), items };
      }),
    };
  }

  /**
   * The estimate as a Markdown report: the totals, a table of priced lines per stack, what is unpriced and why, what
   * bills per use, what is not billed or not known, the prices used with their sources, and the assumptions.
   */
  public toMarkdown(): string {
    const out: string[] = [];
    const unpriced = this.unpriced;
    const unknown = this.unknown;
    const spotAtMost = sum(this.items.filter((i) => i.spot), 'monthlyUsdAtMost');
    out.push('# Cost estimate', '');
    out.push(`Monthly USD, us-east-1 on-demand list prices, ${HOURS_PER_MONTH} hours a month. `
      + `**At rest: ${usd(this.monthlyUsdAtRest)}** (minimum capacity: what bills with no traffic); `
      + `**at most: ${usd(this.monthlyUsdAtMost)}** (autoscaling maxima).`
      + (spotAtMost > 0 ? ` Of the figure at most, ${usd(spotAtMost)} is spot capacity priced at the on-demand rate, an upper bound: spot usually costs less.` : '')
      + (unpriced.length > 0 ? ` ${unpriced.length} unpriced ${unpriced.length === 1 ? 'line is' : 'lines are'} not in these totals (see below).` : '')
      + (unknown.length > 0 ? ` ${unknown.length === 1 ? '1 resource of a type' : `${unknown.length} resources of types`} this estimate does not know `
        + `(${countByType(unknown)}) ${unknown.length === 1 ? 'is' : 'are'} not in these totals and may bill.` : ''));
    if (this.budgets.length > 0) {
      out.push('', '## Budgets', '', '| Budget | Limit | Estimate at rest | Estimate at most |', '|---|---:|---:|---:|');
      for (const b of this.budgets) {
        const name = `${this.stackNames.length > 1 ? `${b.stackName}/` : ''}${b.logicalId}${b.budgetName ? ` (${b.budgetName})` : ''}`;
        const share = (value: number) => (b.filter !== undefined ? 'not compared'
          : `${Math.round((value / b.monthlyUsd) * 100)} %${value > b.monthlyUsd ? ' (over)' : ''}`);
        out.push(`| \`${cell(name)}\`${b.filter !== undefined ? ` filtered by ${cell(b.filter)}` : ''} | ${usd(b.monthlyUsd)} `
          + `| ${share(this.monthlyUsdAtRest)} | ${share(this.monthlyUsdAtMost)} |`);
      }
      out.push('', 'A budget without a filter tracks the whole account\'s cost, not only these stacks\'. A filtered budget tracks '
        + 'only the costs its filter selects, which the estimate cannot tell apart: it is not compared.');
    }
    for (const stackName of this.stackNames) {
      const items = this.items.filter((i) => i.stackName === stackName);
      out.push('', `## ${stackName}`, '');
      const priced = items.filter((i) => i.status === CostStatus.PRICED);
      if (priced.length > 0) {
        out.push('| Resource | What | At rest | At most | Unit price | $/month at rest | $/month at most | Note |');
        out.push('|---|---|---:|---:|---|---:|---:|---|');
        for (const i of priced) {
          out.push(`| \`${i.logicalId}\` (${i.resourceType}) | ${cell(i.description)} | ${quantity(i.quantityAtRest, i.unit)} | ${quantity(i.quantityAtMost, i.unit)} `
            + `| ${cell(unitPrices(i))} | ${money(i.monthlyUsdAtRest)} | ${money(i.monthlyUsdAtMost)} | ${cell(i.note ?? '')} |`);
        }
        out.push(`| **Total** | | | | | **${money(sum(items, 'monthlyUsdAtRest'))}** | **${money(sum(items, 'monthlyUsdAtMost'))}** | |`);
      } else {
        out.push('Nothing priced in this stack.');
      }
      const stackUnpriced = items.filter((i) => i.status === CostStatus.UNPRICED);
      if (stackUnpriced.length > 0) {
        out.push('', '**Unpriced** (billed, but not in the totals):', '');
        for (const i of stackUnpriced) {
          const counted = i.quantityAtRest !== undefined ? ` (${quantity(i.quantityAtRest, i.unit)} at rest, ${quantity(i.quantityAtMost, i.unit)} at most)` : '';
          out.push(`- \`${i.logicalId}\` (${i.resourceType}): ${i.description}${counted}: ${i.note ?? 'unpriced'}`);
        }
      }
      const usage = new Map<string, CostLineItem[]>();
      for (const i of items.filter((x) => x.status === CostStatus.USAGE_BASED)) {
        const key = `${i.resourceType}|${i.description}|${i.note ?? ''}`;
        usage.set(key, [...(usage.get(key) ?? []), i]);
      }
      if (usage.size > 0) {
        out.push('', '**Usage-based** (billed per use, nothing at rest, no figure here):', '');
        for (const group of usage.values()) {
          const i = group[0];
          out.push(`- ${i.resourceType} × ${group.length}: ${i.description}${i.note ? `; ${i.note}` : ''}`);
        }
      }
      const notBilled = countByType(items.filter((i) => i.status === CostStatus.NOT_BILLED));
      if (notBilled) out.push('', `**Not billed by themselves:** ${notBilled}.`);
      const unknownTypes = countByType(items.filter((i) => i.status === CostStatus.UNKNOWN));
      if (unknownTypes) out.push('', `**Unknown** (resource types this estimate does not know; they may bill): ${unknownTypes}.`);
    }
    // Each price once, with the lines that use it (stack and logical id), so a reader can tell which price is whose.
    const prices = new Map<string, { price: CostUnitPrice; users: string[] }>();
    for (const i of this.items) {
      for (const p of [i.unitPrice, i.unitPriceAtMost]) {
        if (!p) continue;
        const key = `${p.usd}|${p.per}|${p.source}`;
        const entry = prices.get(key) ?? { price: p, users: [] };
        const user = `${this.stackNames.length > 1 ? `${i.stackName}/` : ''}${i.logicalId}`;
        if (!entry.users.includes(user)) entry.users.push(user);
        prices.set(key, entry);
      }
    }
    if (prices.size > 0) {
      out.push('', '## Prices used', '', '| Price | Used by | Source | Read |', '|---|---|---|---|');
      for (const { price: p, users } of prices.values()) {
        const shown = users.slice(0, 3).map((u) => `\`${u}\``).join(', ') + (users.length > 3 ? ` and ${users.length - 3} more` : '');
        out.push(`| ${unitPrice(p)}${p.confirmed ? '' : ' (unconfirmed)'} | ${cell(shown)} | ${cell(p.source)} | ${p.asOf} |`);
      }
    }
    out.push('', '## Assumptions', '', ...COST_ESTIMATE_ASSUMPTIONS.map((a) => `- ${a}`), '');
    return out.join('\n');
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Reading templates

// Template JSON has no static shape: every value read from it is checked at run time before it is used.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = { [key: string]: any };

/** A value the template does not give as a literal. `why` says what it is, for the line's note. */
class Unresolved {
  constructor(public readonly why: string) {}
}

/** A piece of a string the template builds: a literal, or a reference to a resource (`Ref`, `Fn::GetAtt`). */
type Part = string | { readonly ref: string };

const USAGE_BASED: Readonly<Record<string, string>> = {
  'AWS::S3::Bucket': 'S3 bucket: billed per GB-month stored and per request',
  'AWS::Logs::LogGroup': 'CloudWatch Logs group: billed per GB ingested and per GB-month stored',
  'AWS::Lambda::Function': 'Lambda function: billed per request and per GB-second of run time',
  'AWS::SNS::Topic': 'SNS topic: billed per request and per delivery',
  'AWS::Budgets::Budget': 'AWS Budgets budget: an account\'s first budgets are free, and each one after them bills by the day (AWS Budgets pricing)',
};

const NOT_BILLED = new Set([
  'AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::RouteTable', 'AWS::EC2::Route', 'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::InternetGateway', 'AWS::EC2::VPCGatewayAttachment', 'AWS::EC2::SecurityGroup', 'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress', 'AWS::EC2::LaunchTemplate', 'AWS::EKS::AccessEntry', 'AWS::EKS::PodIdentityAssociation',
  'AWS::EKS::Addon', 'AWS::ApplicationAutoScaling::ScalableTarget', 'AWS::ApplicationAutoScaling::ScalingPolicy',
  'AWS::SageMaker::Model', 'AWS::SageMaker::Endpoint', 'AWS::S3::BucketPolicy', 'AWS::Lambda::Permission',
  'AWS::Lambda::LayerVersion', 'AWS::SSM::Parameter', 'AWS::CDK::Metadata', 'AWS::CloudFormation::WaitConditionHandle',
  'AWS::SNS::TopicPolicy', 'AWS::SQS::QueuePolicy', 'AWS::KMS::Alias',
  'AWS::Batch::JobQueue', 'AWS::Batch::JobDefinition', 'AWS::Batch::SchedulingPolicy',
  // Cost Anomaly Detection is free.
  'AWS::CE::AnomalyMonitor', 'AWS::CE::AnomalySubscription',
]);

const NOT_BILLED_CUSTOM = new Set([
  // aws-cdk's log retention and this library's node-template tags: a Lambda function (listed as usage-based) sets a
  // log group's retention or tags an Auto Scaling group, and creates nothing that bills.
  'Custom::LogRetention', 'Custom::NodeTemplateTags',
]);

const NOT_BILLED_WHY: Readonly<Record<string, string>> = {
  'Custom::LogRetention': 'a custom resource that sets a log group\'s retention (its Lambda function is listed)',
  'Custom::NodeTemplateTags': 'a custom resource that tags an Auto Scaling group (its Lambda function is listed)',
  'AWS::EC2::LaunchTemplate': 'its volumes are priced with the node group that uses it',
  'AWS::SageMaker::Endpoint': 'its instances are priced on its endpoint configuration',
  'AWS::ApplicationAutoScaling::ScalableTarget': 'its minimum and maximum are used for the capacity it scales',
  'AWS::EKS::Addon': 'AWS add-ons run on the nodes, which are priced',
  'AWS::SSM::Parameter': 'standard tier',
};

/** Prices the resources of one template. */
class TemplatePricer {
  private readonly resources: Record<string, Json>;
  private readonly parameters: Record<string, Json>;

  /**
   * @param nestedStacks the nested stacks of this template whose templates are priced as stacks of their own: logical id
   * to the name they are priced under
   */
  constructor(private readonly stackName: string, template: Json, private readonly given: ReadonlyMap<string, CostUnitPrice>,
    private readonly nestedStacks?: ReadonlyMap<string, string>) {
    const resources = template.Resources;
    this.resources = resources && typeof resources === 'object' && !Array.isArray(resources) ? resources : {};
    const parameters = template.Parameters;
    this.parameters = parameters && typeof parameters === 'object' ? parameters : {};
  }

  public price(): CostLineItem[] {
    const items: CostLineItem[] = [];
    for (const [logicalId, resource] of Object.entries(this.resources)) {
      const type = typeof resource?.Type === 'string' ? resource.Type : '(no Type)';
      const props: Json = resource?.Properties && typeof resource.Properties === 'object' ? resource.Properties : {};
      const base = { stackName: this.stackName, logicalId, resourceType: type };
      const extra = this.lifecycleNotes(resource);
      for (const line of this.priceResource(type, props, logicalId)) {
        const billed = line.status === CostStatus.PRICED || line.status === CostStatus.UNPRICED || line.status === CostStatus.USAGE_BASED;
        // A figure from an unconfirmed price (the GPU catalog's P family is a pre-cut list price) is flagged on its line,
        // not only in the report's table of prices.
        const unconfirmed = line.status === CostStatus.PRICED && [line.unitPrice, line.unitPriceAtMost].some((p) => p?.confirmed === false)
          ? ['unconfirmed unit price (derived, estimated or out of date): see its source under Prices used'] : [];
        const notes = [...unconfirmed, ...(billed ? extra : [])];
        items.push({ ...base, ...line, ...(notes.length > 0 ? { note: [line.note, ...notes].filter((n) => n).join('; ') } : {}) });
      }
    }
    return items;
  }

  /**
   * What the resource's `Condition` and `DeletionPolicy` change about its bill: a conditional resource is priced as if
   * it is created (an upper bound: the estimate does not evaluate conditions), and a retained one bills after the stack
   * is gone.
   */
  private lifecycleNotes(resource: Json | undefined): string[] {
    const notes: string[] = [];
    if (typeof resource?.Condition === 'string') {
      notes.push(`created only when the condition ${resource.Condition} holds: priced as if it does`);
    }
    const policy = resource?.DeletionPolicy;
    if (policy === 'Retain' || policy === 'RetainExceptOnCreate') {
      notes.push(`DeletionPolicy ${policy}: it stays, and bills, after the stack is deleted`);
    } else if (policy === 'Snapshot') {
      notes.push('DeletionPolicy Snapshot: a snapshot stays, and bills per GB-month, after the stack is deleted');
    }
    return notes;
  }

  private priceResource(type: string, props: Json, logicalId: string): Line[] {
    switch (type) {
      case 'AWS::EKS::Cluster':
        return this.eksCluster(props.Version, props.UpgradePolicy?.SupportType, props.ComputeConfig);
      case 'Custom::AWSCDK-EKS-Cluster':
        // aws-eks v1 passes its Config to the EKS CreateCluster API, whose fields are camelCase.
        return this.eksCluster(props.Config?.version, props.Config?.upgradePolicy?.supportType,
          props.Config?.computeConfig && { Enabled: props.Config.computeConfig.enabled, NodePools: props.Config.computeConfig.nodePools });
      case 'AWS::EKS::Nodegroup':
        return this.nodegroup(props);
      case 'AWS::SageMaker::EndpointConfig':
        return this.endpointConfig(props, logicalId);
      case 'AWS::EC2::NatGateway':
        return [fixed('NAT gateway', 1, 'gateway', SERVICE_PRICES.NAT_GATEWAY,
          `plus $${SERVICE_PRICES.NAT_GATEWAY_DATA.usd} per GB it processes (not in the estimate)`)];
      case 'AWS::EC2::EIP':
        return [fixed('Elastic IP address (public IPv4)', 1, 'address', SERVICE_PRICES.PUBLIC_IPV4,
          'every public IPv4 address bills, attached or idle, since 2024-02-01')];
      case 'AWS::EC2::VPCEndpoint':
        return [this.vpcEndpoint(props)];
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
        return this.loadBalancer(props);
      case 'AWS::KMS::Key':
      case 'AWS::KMS::ReplicaKey':
        return [fixed('KMS key', 1, 'key', SERVICE_PRICES.KMS_KEY,
          `plus $0.03 per 10,000 requests (not in the estimate)${props.EnableKeyRotation === true ? '; rotation keeps older key material, which can add to the monthly fee' : ''}`)];
      case 'AWS::CloudWatch::Alarm':
        return [this.alarm(props)];
      case 'AWS::EC2::Volume':
        return [this.volume(props)];
      case 'AWS::Batch::ComputeEnvironment':
        return [this.batchEnvironment(props)];
      default:
        break;
    }
    if (USAGE_BASED[type]) return [{ description: USAGE_BASED[type], status: CostStatus.USAGE_BASED }];
    if (NOT_BILLED.has(type) || NOT_BILLED_CUSTOM.has(type) || type.startsWith('AWS::IAM::')) {
      return [{ description: NOT_BILLED_WHY[type] ? `not billed by itself: ${NOT_BILLED_WHY[type]}` : 'not billed by itself', status: CostStatus.NOT_BILLED }];
    }
    const nestedAs = type === 'AWS::CloudFormation::Stack' ? this.nestedStacks?.get(logicalId) : undefined;
    if (nestedAs) return [{ description: `nested stack: its resources are priced as the stack ${nestedAs}`, status: CostStatus.NOT_BILLED }];
    return [{
      description: type === 'AWS::CloudFormation::Stack' ? 'nested stack: its template is not read' : 'resource type not known to this estimate',
      status: CostStatus.UNKNOWN,
    }];
  }

  // --- AWS Batch -----------------------------------------------------------------------------------------------------

  /**
   * A managed EC2 or spot compute environment: instances enough for `MinvCpus` at rest and `MaxvCpus` at most. Batch
   * mixes the listed types as capacity allows, so at rest the vCPUs are filled with the type cheapest per vCPU and at
   * most with the dearest: the bounds of what Batch may launch. Types must be in the GPU catalog, which knows their vCPUs.
   */
  private batchEnvironment(props: Json): Line {
    const resources: Json | undefined = props.ComputeResources;
    if (props.Type === 'UNMANAGED' || !resources || typeof resources !== 'object') {
      return { description: 'AWS Batch unmanaged compute environment: its instances are launched outside this template', status: CostStatus.NOT_BILLED };
    }
    const kind = resources.Type;
    if (kind === 'FARGATE' || kind === 'FARGATE_SPOT') {
      return { description: `AWS Batch ${kind} compute environment`, status: CostStatus.USAGE_BASED, note: 'billed per vCPU-hour and GB-hour of the jobs that run' };
    }
    const spot = kind === 'SPOT';
    const types: unknown = resources.InstanceTypes;
    const typeList = Array.isArray(types) && types.length > 0 && types.every((t) => typeof t === 'string') ? types as string[] : undefined;
    const what = `AWS Batch ${spot ? 'spot' : 'on-demand'} compute environment${typeList ? `: ${typeList.join(', ')}` : ''}`;
    const min = resources.MinvCpus === undefined ? 0 : this.count(resources.MinvCpus, 'ComputeResources.MinvCpus');
    const max = this.count(resources.MaxvCpus, 'ComputeResources.MaxvCpus');
    const problems = [min, max].filter((v): v is Unresolved => v instanceof Unresolved).map((u) => u.why);
    if (!typeList) problems.push(`ComputeResources.InstanceTypes is ${this.describe(types)}`);
    if (problems.length > 0) return unpricedLine(what, problems.join('; '));
    const catalog = GpuInstanceType.catalogTypes();
    const sized = typeList!.map((name) => ({ name, vcpus: catalog.find((t) => t.name === name)?.vcpus, price: this.given.get(name) ?? ec2Price(name) }));
    const unknownSize = sized.filter((t) => t.vcpus === undefined).map((t) => t.name);
    if (unknownSize.length > 0) {
      return unpricedLine(what, `${unknownSize.join(', ')} ${unknownSize.length === 1 ? 'is' : 'are'} not an instance type of the GPU catalog `
        + '(an instance family, "optimal" or a CPU type), so the vCPUs of an instance are not known here');
    }
    const missing = sized.filter((t) => !t.price).map((t) => t.name);
    if (missing.length > 0) return unpricedLine(what, `no price for ${missing.join(', ')} in the GPU catalog: give it in instancePrices`);
    // Instances to cover `vcpus` with one type, and their hourly price.
    const fill = (vcpus: number, t: { name: string; vcpus?: number; price?: CostUnitPrice }) => {
      const instances = Math.ceil(vcpus / t.vcpus!);
      return { ...t, instances, hourly: instances * t.price!.usd };
    };
    const perVcpu = [...sized].sort((a, b) => a.price!.usd / a.vcpus! - b.price!.usd / b.vcpus!);
    const atRest = fill(min as number, perVcpu[0]);
    const atMost = sized.map((t) => fill(max as number, t)).sort((a, b) => b.hourly - a.hourly)[0];
    const notes = [
      `MinvCpus ${min as number}, MaxvCpus ${max as number}: at rest ${atRest.instances} × ${atRest.name} (the cheapest per vCPU), at most ${atMost.instances} × ${atMost.name} `
        + '(the dearest way to fill MaxvCpus with one listed type); Batch may launch one instance beyond MaxvCpus to place a job',
      ...(spot ? ['spot capacity priced at the on-demand rate, as an upper bound: the price tables hold no spot prices'] : []),
      'the instances\' EBS volumes are not in this line',
    ];
    return {
      description: what,
      status: CostStatus.PRICED,
      quantityAtRest: atRest.instances,
      quantityAtMost: atMost.instances,
      unit: 'instance',
      unitPrice: atRest.price,
      unitPriceAtMost: atMost.price !== atRest.price ? atMost.price : undefined,
      monthlyUsdAtRest: round2(atRest.hourly * HOURS_PER_MONTH),
      monthlyUsdAtMost: round2(atMost.hourly * HOURS_PER_MONTH),
      note: notes.join('; '),
      ...(spot ? { spot: true } : {}),
    };
  }

  // --- EKS -----------------------------------------------------------------------------------------------------------

  private eksCluster(version: unknown, supportType: unknown, computeConfig: Json | undefined): Line[] {
    const v = typeof version === 'string' ? ` (Kubernetes ${version})` : '';
    const extended = SERVICE_PRICES.EKS_CLUSTER_EXTENDED;
    const rate = `$${extended.usd.toFixed(2)}/h (${usd(extended.usd * HOURS_PER_MONTH)}/month) once ${typeof version === 'string' ? `Kubernetes ${version}` : 'its Kubernetes version'} leaves standard support`;
    // EKS UpgradePolicy.SupportType: EXTENDED (the default) moves the cluster into extended support at the end of standard
    // support; STANDARD upgrades it to the next version instead.
    let support: string;
    if (supportType === 'STANDARD') {
      support = 'SupportType STANDARD: EKS upgrades the cluster at the end of standard support, so it never pays the extended-support rate';
    } else if (supportType === 'EXTENDED') {
      support = `SupportType EXTENDED: ${rate}`;
    } else if (supportType === undefined) {
      support = `no UpgradePolicy: EKS's default, EXTENDED, applies: ${rate}`;
    } else {
      support = `SupportType is ${this.describe(supportType)}: with EXTENDED, ${rate}`;
    }
    const lines = [fixed(`EKS control plane${v}`, 1, 'cluster', SERVICE_PRICES.EKS_CLUSTER_STANDARD, `standard support; ${support}`)];
    if (computeConfig?.Enabled === true || (computeConfig?.Enabled !== undefined && typeof computeConfig.Enabled !== 'boolean')) {
      const pools = Array.isArray(computeConfig.NodePools) && computeConfig.NodePools.every((p: unknown) => typeof p === 'string')
        ? ` (built-in node pools: ${computeConfig.NodePools.join(', ')})` : '';
      lines.push(unpricedLine(`EKS Auto Mode compute${pools}`,
        `Auto Mode launches nodes as pods need them${pools}; the template names neither their instance types nor a maximum, `
        + 'so the estimate cannot count them. Each node bills the EC2 on-demand rate plus the Auto Mode management fee for its '
        + 'instance type, and its EBS volumes'
        + (computeConfig.Enabled === true ? '' : `; ComputeConfig.Enabled is ${this.describe(computeConfig.Enabled)}`)));
    }
    return lines;
  }

  private nodegroup(props: Json): Line[] {
    const notes: string[] = [];
    const launchTemplate = this.launchTemplateOf(props.LaunchTemplate);
    const ltData: Json | undefined = launchTemplate instanceof Unresolved ? undefined : launchTemplate?.LaunchTemplateData;
    // Instance types: the node group's, else the launch template's, else EKS's default.
    let types: string[] | Unresolved;
    if (props.InstanceTypes !== undefined) {
      types = Array.isArray(props.InstanceTypes) && props.InstanceTypes.length > 0 && props.InstanceTypes.every((t: unknown) => typeof t === 'string')
        ? props.InstanceTypes : new Unresolved(`InstanceTypes is ${this.describe(props.InstanceTypes)}`);
    } else if (ltData?.InstanceType !== undefined) {
      const t = this.literal(ltData.InstanceType, 'the launch template\'s InstanceType');
      types = typeof t === 'string' ? [t] : t instanceof Unresolved ? t : new Unresolved(`the launch template's InstanceType is ${this.describe(t)}`);
    } else if (launchTemplate instanceof Unresolved) {
      types = new Unresolved(`no InstanceTypes, and ${launchTemplate.why}, which may set one`);
    } else {
      types = [EKS_DEFAULT_INSTANCE_TYPE];
      notes.push(`no InstanceTypes: EKS launches ${EKS_DEFAULT_INSTANCE_TYPE}`);
    }
    const scaling: Json = props.ScalingConfig ?? {};
    const min = this.count(scaling.MinSize, 'ScalingConfig.MinSize');
    const max = this.count(scaling.MaxSize, 'ScalingConfig.MaxSize');
    const desired = this.count(scaling.DesiredSize, 'ScalingConfig.DesiredSize');
    const spot = props.CapacityType === 'SPOT';
    const capacity = spot ? 'spot' : 'on-demand';
    const typeText = types instanceof Unresolved ? '' : `: ${types.join(', ')}`;
    const what = `EKS node group${props.Labels?.['ai-platform.dev/node-group'] ? ` "${props.Labels['ai-platform.dev/node-group']}"` : ''}, ${capacity} nodes${typeText}`;

    const lines: Line[] = [];
    const unresolved = [types, min, max].filter((v): v is Unresolved => v instanceof Unresolved);
    if (unresolved.length > 0) {
      lines.push(unpricedLine(what, unresolved.map((u) => u.why).join('; ')));
    } else {
      const typeList = types as string[];
      const prices = typeList.map((t) => ({ type: t, price: this.given.get(t) ?? ec2Price(t) }));
      const missing = prices.filter((p) => !p.price).map((p) => p.type);
      if (missing.length > 0) {
        lines.push(unpricedLine(what, `no price for ${missing.join(', ')} in the GPU catalog or the CPU price table: give it in instancePrices`,
          { quantityAtRest: min as number, quantityAtMost: max as number, unit: 'node' }));
      } else {
        const sorted = [...prices].sort((a, b) => a.price!.usd - b.price!.usd);
        const cheapest = sorted[0];
        const dearest = sorted[sorted.length - 1];
        if (typeList.length > 1) notes.push(`at rest priced as ${cheapest.type}, the cheapest listed type; at most as ${dearest.type}, the dearest`);
        if (spot) notes.push('spot capacity priced at the on-demand rate, as an upper bound: the price tables hold no spot prices (spot often costs 50-70% less, varying by zone and hour)');
        if (typeof desired === 'number' && desired > (min as number)) {
          notes.push(`starts with DesiredSize ${desired} nodes and comes down to MinSize only with an autoscaler`);
        }
        lines.push({
          description: what,
          status: CostStatus.PRICED,
          quantityAtRest: min as number,
          quantityAtMost: max as number,
          unit: 'node',
          unitPrice: cheapest.price,
          unitPriceAtMost: dearest.price !== cheapest.price ? dearest.price : undefined,
          monthlyUsdAtRest: round2((min as number) * cheapest.price!.usd * HOURS_PER_MONTH),
          monthlyUsdAtMost: round2((max as number) * dearest.price!.usd * HOURS_PER_MONTH),
          note: notes.join('; ') || undefined,
          ...(spot ? { spot: true } : {}),
        });
      }
    }
    lines.push(this.nodeDisks(props, launchTemplate, ltData, min, max));
    return lines;
  }

  /** The node group's root volumes: `DiskSize`, the launch template's block devices, or EKS's default. */
  private nodeDisks(props: Json, launchTemplate: Json | Unresolved | undefined, ltData: Json | undefined,
    min: number | Unresolved, max: number | Unresolved): Line {
    const what = 'EBS volumes of the node group\'s nodes';
    let perNode: Volume[] | Unresolved;
    let source: string;
    const amiType = typeof props.AmiType === 'string' ? props.AmiType : '';
    const bottlerocket = amiType.startsWith('BOTTLEROCKET');
    const osGiB = amiType.includes('NVIDIA') ? BOTTLEROCKET_OS_VOLUME.nvidiaGiB : BOTTLEROCKET_OS_VOLUME.sizeGiB;
    const osVolume: Volume | undefined = bottlerocket ? { sizeGiB: osGiB, type: BOTTLEROCKET_OS_VOLUME.volumeType } : undefined;
    const osVolumeText = `Bottlerocket's OS volume (${BOTTLEROCKET_OS_VOLUME.deviceName}) from the AMI: ${osGiB} GiB ${BOTTLEROCKET_OS_VOLUME.volumeType}`;
    if (launchTemplate instanceof Unresolved) {
      perNode = new Unresolved(`${launchTemplate.why}: its volumes are unknown`);
      source = '';
    } else if (launchTemplate) {
      source = 'the launch template';
      const mappings = ltData?.BlockDeviceMappings;
      if (mappings === undefined) {
        perNode = new Unresolved('the launch template maps no block device: the AMI decides the root volume');
      } else if (!Array.isArray(mappings)) {
        perNode = new Unresolved(`the launch template's BlockDeviceMappings is ${this.describe(mappings)}`);
      } else {
        perNode = this.volumes(mappings.filter((m: Json) => m?.Ebs).map((m: Json) => m.Ebs));
        // Bottlerocket boots from its OS volume (/dev/xvda); a launch template that maps only the data volume
        // (/dev/xvdb) still gets the OS volume from the AMI.
        if (bottlerocket && !(perNode instanceof Unresolved) && !mappings.some((m: Json) => m?.DeviceName === BOTTLEROCKET_OS_VOLUME.deviceName)) {
          perNode = [osVolume!, ...perNode];
          source += `, plus ${osVolumeText}`;
        }
      }
    } else if (props.DiskSize !== undefined) {
      const size = this.count(props.DiskSize, 'DiskSize');
      perNode = size instanceof Unresolved ? size : [...(osVolume ? [osVolume] : []), { sizeGiB: size, type: EKS_DEFAULT_DISK.volumeType }];
      source = `DiskSize, ${EKS_DEFAULT_DISK.volumeType} (EKS's volume type without a launch template)${bottlerocket ? ` for the data volume, plus ${osVolumeText}` : ''}`;
    } else {
      const windows = typeof props.AmiType === 'string' && props.AmiType.startsWith('WINDOWS');
      const size = windows ? EKS_DEFAULT_DISK.windowsGiB : EKS_DEFAULT_DISK.linuxGiB;
      perNode = [...(osVolume ? [osVolume] : []), { sizeGiB: size, type: EKS_DEFAULT_DISK.volumeType }];
      source = bottlerocket
        ? `EKS's default data volume (no DiskSize, no launch template): ${size} GiB ${EKS_DEFAULT_DISK.volumeType}, plus ${osVolumeText}`
        : `EKS's default root volume (no DiskSize, no launch template): ${size} GiB ${EKS_DEFAULT_DISK.volumeType}`;
    }
    const unresolved = [perNode, min, max].filter((v): v is Unresolved => v instanceof Unresolved);
    if (unresolved.length > 0) return unpricedLine(what, unresolved.map((u) => u.why).join('; '));
    const volumes = perNode as Volume[];
    const priced = volumes.map((v) => priceVolume(v));
    const failed = priced.find((p): p is Unresolved => p instanceof Unresolved);
    if (failed) return unpricedLine(what, failed.why);
    const costs = priced as VolumeCost[];
    const gibPerNode = volumes.reduce((a, v) => a + v.sizeGiB, 0);
    const perNodeMonthly = costs.reduce((a, c) => a + c.monthly, 0);
    const onePrice = costs.every((c) => c.price === costs[0].price && c.extras === 0);
    const sizes = volumes.map((v) => `${v.sizeGiB} GiB ${v.type}`).join(' + ');
    return {
      description: `${what}: ${sizes} per node`,
      status: CostStatus.PRICED,
      quantityAtRest: (min as number) * gibPerNode,
      quantityAtMost: (max as number) * gibPerNode,
      unit: 'GB',
      unitPrice: onePrice && costs.length > 0 ? costs[0].price : undefined,
      monthlyUsdAtRest: round2((min as number) * perNodeMonthly),
      monthlyUsdAtMost: round2((max as number) * perNodeMonthly),
      note: [`from ${source}`, ...costs.flatMap((c) => c.notes)].join('; '),
    };
  }

  /** The launch template a node group names: the resource in this template, undefined if none, or why it is unknown. */
  private launchTemplateOf(spec: unknown): Json | Unresolved | undefined {
    if (spec === undefined) return undefined;
    if (typeof spec !== 'object' || spec === null) return new Unresolved(`LaunchTemplate is ${this.describe(spec)}`);
    const s = spec as Json;
    for (const key of ['Id', 'Name']) {
      if (s[key] === undefined) continue;
      const parts = this.parts(s[key]);
      if (parts && parts.length === 1 && typeof parts[0] !== 'string') {
        const target = this.resources[parts[0].ref];
        if (target?.Type === 'AWS::EC2::LaunchTemplate') return target.Properties ?? {};
      }
      if (parts && parts.length === 1 && typeof parts[0] === 'string' && key === 'Name') {
        const name = parts[0];
        const found = Object.values(this.resources).find((r) => r?.Type === 'AWS::EC2::LaunchTemplate' && r.Properties?.LaunchTemplateName === name);
        if (found) return found.Properties ?? {};
      }
      return new Unresolved(`the launch template (${key} ${this.describe(s[key])}) is not in this template`);
    }
    return new Unresolved('LaunchTemplate names neither Id nor Name');
  }

  private volumes(ebs: Json[]): Volume[] | Unresolved {
    const out: Volume[] = [];
    for (const e of ebs) {
      if (e.VolumeSize === undefined) return new Unresolved('a block device mapping sets no VolumeSize: the AMI\'s snapshot decides it');
      const size = this.count(e.VolumeSize, 'VolumeSize');
      if (size instanceof Unresolved) return size;
      const type = e.VolumeType === undefined ? 'gp2' : this.literal(e.VolumeType, 'VolumeType');
      if (type instanceof Unresolved) return type;
      const iops = e.Iops === undefined ? undefined : this.count(e.Iops, 'Iops');
      if (iops instanceof Unresolved) return iops;
      const throughput = e.Throughput === undefined ? undefined : this.count(e.Throughput, 'Throughput');
      if (throughput instanceof Unresolved) return throughput;
      out.push({ sizeGiB: size, type: String(type), iops, throughput, typeDefaulted: e.VolumeType === undefined });
    }
    return out;
  }

  // --- SageMaker -----------------------------------------------------------------------------------------------------

  private endpointConfig(props: Json, logicalId: string): Line[] {
    const variants = props.ProductionVariants;
    if (!Array.isArray(variants)) {
      return [unpricedLine('SageMaker endpoint configuration', `ProductionVariants is ${this.describe(variants)}`)];
    }
    const endpoints = this.endpointsUsing(logicalId, props);
    const endpointText = endpoints.length > 0 ? ` of endpoint ${endpoints.map((e) => e.name ?? e.logicalId).join(', ')}` : '';
    return variants.map((variant: Json, index: number) => {
      const variantName = typeof variant?.VariantName === 'string' ? variant.VariantName : `#${index + 1}`;
      const what = `SageMaker endpoint variant ${variantName}${endpointText}`;
      if (variant?.ServerlessConfig) {
        return {
          description: `${what}, serverless`,
          status: CostStatus.USAGE_BASED,
          note: 'serverless inference bills per request and per second of compute: nothing at rest'
            + (variant.ServerlessConfig.ProvisionedConcurrency ? '; its provisioned concurrency bills by the hour (not in the estimate)' : ''),
        };
      }
      const type = this.literal(variant?.InstanceType, 'InstanceType');
      if (type instanceof Unresolved || typeof type !== 'string') {
        return unpricedLine(what, type instanceof Unresolved ? type.why : `InstanceType is ${this.describe(type)}`);
      }
      const whatTyped = `${what}: ${type}`;
      const notes: string[] = [];
      if (endpoints.length === 0) notes.push('no endpoint in this template uses this configuration: it bills once one does');
      // Capacity: the variant's scalable target, else managed instance scaling, else the initial count.
      let min: number | Unresolved;
      let max: number | Unresolved;
      const target = endpoints.map((e) => this.scalableTarget(e, variantName)).find((t) => t !== undefined);
      if (target) {
        min = this.count(target.props.MinCapacity, 'the scalable target\'s MinCapacity');
        max = this.count(target.props.MaxCapacity, 'the scalable target\'s MaxCapacity');
        notes.push(`autoscaled by ${target.logicalId}`);
      } else if (variant.ManagedInstanceScaling?.Status === 'ENABLED') {
        min = this.count(variant.ManagedInstanceScaling.MinInstanceCount ?? 0, 'ManagedInstanceScaling.MinInstanceCount');
        max = this.count(variant.ManagedInstanceScaling.MaxInstanceCount, 'ManagedInstanceScaling.MaxInstanceCount');
        notes.push('managed instance scaling');
      } else {
        min = max = this.count(variant.InitialInstanceCount, 'InitialInstanceCount');
        if (!(min instanceof Unresolved)) notes.push('no autoscaling: InitialInstanceCount');
      }
      const unresolved = [min, max].filter((v): v is Unresolved => v instanceof Unresolved);
      if (unresolved.length > 0) return unpricedLine(whatTyped, unresolved.map((u) => u.why).join('; '));
      const price = this.given.get(type) ?? sageMakerPrice(type);
      if (!price) {
        return unpricedLine(whatTyped, [`no SageMaker price for ${type}: the GPU catalog prices only ml. accelerator types; see Amazon SageMaker AI pricing, and give it in instancePrices`, ...notes].join('; '),
          { quantityAtRest: min as number, quantityAtMost: max as number, unit: 'instance' });
      }
      return {
        description: whatTyped,
        status: CostStatus.PRICED,
        quantityAtRest: min as number,
        quantityAtMost: max as number,
        unit: 'instance',
        unitPrice: price,
        monthlyUsdAtRest: round2((min as number) * price.usd * HOURS_PER_MONTH),
        monthlyUsdAtMost: round2((max as number) * price.usd * HOURS_PER_MONTH),
        note: notes.join('; '),
      };
    });
  }

  /** The `AWS::SageMaker::Endpoint`s of this template whose `EndpointConfigName` points at this configuration. */
  private endpointsUsing(configId: string, configProps: Json): Array<{ logicalId: string; name?: string }> {
    const out: Array<{ logicalId: string; name?: string }> = [];
    for (const [logicalId, r] of Object.entries(this.resources)) {
      if (r?.Type !== 'AWS::SageMaker::Endpoint') continue;
      const parts = this.parts(r.Properties?.EndpointConfigName);
      if (!parts || parts.length !== 1) continue;
      const p = parts[0];
      const matches = typeof p === 'string' ? p === configProps.EndpointConfigName : p.ref === configId;
      if (matches) out.push({ logicalId, name: typeof r.Properties?.EndpointName === 'string' ? r.Properties.EndpointName : undefined });
    }
    return out;
  }

  /**
   * The Application Auto Scaling target of an endpoint's variant: its `ResourceId` is `endpoint/<name>/variant/<variant>`,
   * the name a literal equal to the endpoint's `EndpointName`, or a `Ref` / `Fn::GetAtt` of the endpoint (in an `Fn::Join`
   * or `Fn::Sub`).
   */
  private scalableTarget(endpoint: { logicalId: string; name?: string }, variantName: string): { logicalId: string; props: Json } | undefined {
    for (const [logicalId, r] of Object.entries(this.resources)) {
      if (r?.Type !== 'AWS::ApplicationAutoScaling::ScalableTarget') continue;
      const props: Json = r.Properties ?? {};
      if (props.ServiceNamespace !== 'sagemaker' || props.ScalableDimension !== 'sagemaker:variant:DesiredInstanceCount') continue;
      const parts = this.parts(props.ResourceId);
      if (!parts) continue;
      const text = parts.map((p) => (typeof p === 'string' ? p : `\uE000${p.ref}\uE000`)).join('');
      const m = /^endpoint\/(.+)\/variant\/([^/\uE000]+)$/.exec(text);
      if (!m || m[2] !== variantName) continue;
      const name = m[1];
      const byRef = /^\uE000([^\uE000]+)\uE000$/.exec(name)?.[1];
      if (byRef === endpoint.logicalId || (byRef === undefined && endpoint.name !== undefined && name === endpoint.name)) {
        return { logicalId, props };
      }
    }
    return undefined;
  }

  // --- Networking, keys, alarms, volumes -----------------------------------------------------------------------------

  private vpcEndpoint(props: Json): Line {
    const type = props.VpcEndpointType ?? 'Gateway';
    const service = this.parts(props.ServiceName)?.map((p) => (typeof p === 'string' ? p : '')).join('').replace(/^com\.amazonaws\.\.?/, '');
    const what = `VPC endpoint (${type}${service ? `, ${service}` : ''})`;
    if (type === 'Gateway') {
      return { description: `${what}: gateway endpoints have no hourly or per-GB charge`, status: CostStatus.NOT_BILLED };
    }
    if (type !== 'Interface' && type !== 'GatewayLoadBalancer') return unpricedLine(what, `no price for a VpcEndpointType of ${this.describe(type)}`);
    const subnets = props.SubnetIds;
    if (!Array.isArray(subnets)) {
      return unpricedLine(what, subnets === undefined ? 'no SubnetIds: it bills per subnet (zone) it has a network interface in'
        : `SubnetIds is ${this.describe(subnets)}: it bills per subnet`);
    }
    return fixed(what, subnets.length, 'subnet', SERVICE_PRICES.VPC_ENDPOINT_INTERFACE,
      `one network interface per subnet; plus $${SERVICE_PRICES.VPC_ENDPOINT_DATA.usd} per GB it processes (not in the estimate)`);
  }

  private loadBalancer(props: Json): Line[] {
    const type = props.Type ?? 'application';
    const internal = props.Scheme === 'internal';
    const what = `${type === 'network' ? 'Network' : type === 'application' ? 'Application' : String(type)} load balancer${internal ? ' (internal)' : ''}`;
    if (type !== 'application' && type !== 'network') return [unpricedLine(what, `no price for a load balancer Type of ${this.describe(type)}`)];
    const lines = [fixed(what, 1, 'load balancer', SERVICE_PRICES.LOAD_BALANCER, 'plus capacity units per use (not in the estimate)')];
    // An internet-facing load balancer holds a public IPv4 address in each zone it is enabled in, billed like any other
    // public IPv4 address; an IPv6-only front end (ALB's dualstack-without-public-ipv4) has none. An NLB's Elastic IPs
    // (SubnetMappings' AllocationId) are priced on their own lines.
    if (internal || props.IpAddressType === 'dualstack-without-public-ipv4') return lines;
    const ipv4 = 'load balancer\'s public IPv4 addresses, one per zone';
    const subnets = props.SubnetMappings ?? props.Subnets;
    const which = props.SubnetMappings !== undefined ? 'SubnetMappings' : 'Subnets';
    if (!Array.isArray(subnets)) {
      lines.push(unpricedLine(ipv4, subnets === undefined ? 'neither Subnets nor SubnetMappings is set: it holds one address per zone'
        : `${which} is ${this.describe(subnets)}: it holds one address per zone`));
      return lines;
    }
    const zones = which === 'SubnetMappings' ? subnets.filter((m: Json) => m?.AllocationId === undefined).length : subnets.length;
    if (zones > 0) {
      lines.push(fixed(ipv4, zones, 'address', SERVICE_PRICES.PUBLIC_IPV4,
        'every public IPv4 address bills, attached or idle, since 2024-02-01'
        + (type === 'application' ? '; an application load balancer can add addresses as it scales' : '')));
    }
    return lines;
  }

  private alarm(props: Json): Line {
    let metrics = 1;
    let highResolution = typeof props.Period === 'number' && props.Period < 60;
    if (Array.isArray(props.Metrics)) {
      const stats = props.Metrics.filter((m: Json) => m?.MetricStat);
      metrics = Math.max(1, stats.length);
      highResolution = stats.some((m: Json) => typeof m.MetricStat.Period === 'number' && m.MetricStat.Period < 60);
    }
    // An anomaly-detection alarm (one of these comparison operators) bills three alarm metrics for each metric it reads:
    // the metric and the band's upper and lower bounds (infracost's cloudwatch_metric_alarm, after the CloudWatch price list).
    const anomaly = ['LessThanLowerOrGreaterThanUpperThreshold', 'LessThanLowerThreshold', 'GreaterThanUpperThreshold'].includes(props.ComparisonOperator);
    const price = highResolution ? SERVICE_PRICES.ALARM_HIGH_RESOLUTION : SERVICE_PRICES.ALARM_STANDARD;
    const what = `CloudWatch alarm, ${highResolution ? 'high' : 'standard'} resolution${anomaly ? ', anomaly detection' : ''}`
      + `${metrics > 1 ? `, metric math over ${metrics} metrics` : ''}`;
    const notes = [
      ...(metrics > 1 ? ['each metric the alarm reads is billed'] : []),
      ...(anomaly ? ['an anomaly-detection alarm bills 3 alarm metrics per metric: the metric and the band\'s two bounds'] : []),
    ];
    return fixed(what, anomaly ? metrics * 3 : metrics, 'alarm metric', price, notes.join('; ') || undefined);
  }

  private volume(props: Json): Line {
    const what = 'EBS volume';
    const volumes = this.volumes([{ VolumeSize: props.Size, VolumeType: props.VolumeType, Iops: props.Iops, Throughput: props.Throughput }]);
    if (volumes instanceof Unresolved) {
      return unpricedLine(what, props.Size === undefined ? 'no Size: the snapshot decides it' : volumes.why);
    }
    const v = volumes[0];
    const cost = priceVolume(v);
    if (cost instanceof Unresolved) return unpricedLine(`${what}: ${v.sizeGiB} GiB ${v.type}`, cost.why);
    const perMonth = round2(cost.monthly);
    return {
      description: `${what}: ${v.sizeGiB} GiB ${v.type}`,
      status: CostStatus.PRICED,
      quantityAtRest: v.sizeGiB,
      quantityAtMost: v.sizeGiB,
      unit: 'GB',
      unitPrice: cost.extras === 0 ? cost.price : undefined,
      monthlyUsdAtRest: perMonth,
      monthlyUsdAtMost: perMonth,
      note: cost.notes.join('; ') || undefined,
    };
  }

  // --- Template values -----------------------------------------------------------------------------------------------

  /** A whole number >= 0 from a literal (or a numeric string), else why not. */
  private count(value: unknown, prop: string): number | Unresolved {
    const v = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    if (value === undefined) return new Unresolved(`${prop} is not set`);
    return new Unresolved(`${prop} is ${this.describe(value)}`);
  }

  /** A string or number literal, else why not. */
  private literal(value: unknown, prop: string): string | number | Unresolved {
    if (typeof value === 'string' || typeof value === 'number') return value;
    if (value === undefined) return new Unresolved(`${prop} is not set`);
    return new Unresolved(`${prop} is ${this.describe(value)}`);
  }

  /** Words for a value that is not a literal: a parameter reference (with its default), or the intrinsic. */
  private describe(value: unknown): string {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const v = value as Json;
      if (typeof v.Ref === 'string') {
        const parameter = this.parameters[v.Ref];
        if (parameter) {
          return `a Ref to the parameter ${v.Ref}${parameter.Default !== undefined ? ` (default ${describeValue(parameter.Default)})` : ''}, known only at deployment`;
        }
        return `a Ref to ${v.Ref}, known only at deployment`;
      }
      const fn = Object.keys(v).find((k) => k.startsWith('Fn::'));
      if (fn) return `an ${fn} this estimate does not resolve`;
    }
    return describeValue(value);
  }

  /** The pieces of a string the template builds, or undefined when it uses an intrinsic this reader does not follow. */
  private parts(value: unknown): Part[] | undefined {
    if (typeof value === 'string') return [value];
    if (typeof value === 'number') return [String(value)];
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const v = value as Json;
    if (typeof v.Ref === 'string') return [{ ref: v.Ref }];
    const getAtt = v['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return [{ ref: getAtt[0] }];
    if (typeof getAtt === 'string') return [{ ref: getAtt.split('.')[0] }];
    const join = v['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      const out: Part[] = [];
      for (const [i, item] of join[1].entries()) {
        const p = this.parts(item);
        if (!p) return undefined;
        if (i > 0 && join[0] !== '') out.push(join[0]);
        out.push(...p);
      }
      return merge(out);
    }
    const sub = v['Fn::Sub'];
    const [text, vars] = typeof sub === 'string' ? [sub, {}] : Array.isArray(sub) && typeof sub[0] === 'string' ? [sub[0], sub[1] ?? {}] : [undefined, {}];
    if (text !== undefined) {
      const out: Part[] = [];
      let last = 0;
      for (const m of text.matchAll(/\$\{([^}]*)\}/g)) {
        out.push(text.slice(last, m.index));
        last = m.index + m[0].length;
        const name = m[1];
        if (name.startsWith('!')) {
          out.push(`\${${name.slice(1)}}`);
        } else if (vars && typeof vars === 'object' && name in vars) {
          const p = this.parts((vars as Json)[name]);
          if (!p) return undefined;
          out.push(...p);
        } else {
          out.push({ ref: name.split('.')[0] });
        }
      }
      out.push(text.slice(last));
      return merge(out);
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Prices

type Line = Omit<CostLineItem, 'stackName' | 'logicalId' | 'resourceType'>;

interface Volume {
  readonly sizeGiB: number;
  readonly type: string;
  readonly iops?: number;
  readonly throughput?: number;
  readonly typeDefaulted?: boolean;
}

interface VolumeCost {
  /** USD a month, unrounded. */
  readonly monthly: number;
  readonly price: CostUnitPrice;
  /** USD a month above the per-GB charge (provisioned IOPS, throughput). */
  readonly extras: number;
  readonly notes: string[];
}

/** The monthly cost of one volume. */
function priceVolume(v: Volume): VolumeCost | Unresolved {
  const gb = EBS_GB_MONTH[v.type];
  if (!gb) return new Unresolved(`no price for EBS volume type ${describeValue(v.type)}`);
  const notes: string[] = [];
  if (v.typeDefaulted) notes.push('no VolumeType: priced as gp2, the default');
  let extras = 0;
  if (v.type === 'gp3') {
    if (v.iops !== undefined && v.iops > 3000) extras += (v.iops - 3000) * SERVICE_PRICES.EBS_GP3_IOPS.usd;
    if (v.throughput !== undefined && v.throughput > 125) extras += (v.throughput - 125) * SERVICE_PRICES.EBS_GP3_THROUGHPUT.usd;
    if (extras > 0) notes.push('gp3 IOPS above 3,000 and throughput above 125 MB/s priced too');
  } else if ((v.type === 'io1' || v.type === 'io2') && v.iops !== undefined) {
    extras += v.iops * SERVICE_PRICES.EBS_PROVISIONED_IOPS.usd;
    notes.push(`${v.iops} provisioned IOPS priced at $${SERVICE_PRICES.EBS_PROVISIONED_IOPS.usd} each${v.type === 'io2' ? ' (io2 IOPS above 32,000 cost less)' : ''}`);
  }
  return { monthly: v.sizeGiB * gb.usd + extras, price: unit(gb), extras, notes };
}

function unit(p: ServicePrice, confirmed = true): CostUnitPrice {
  return { usd: p.usd, per: p.per, source: p.source, asOf: p.asOf, confirmed };
}

const GIVEN_SOURCE = 'given by the caller (instancePrices)';

/** The caller's instance prices as unit prices, checked: a name, and a positive, finite USD per hour. */
function givenPrices(prices: CostEstimateOptions['instancePrices']): Map<string, CostUnitPrice> {
  const out = new Map<string, CostUnitPrice>();
  if (prices === undefined || prices === null) return out;
  if (typeof prices !== 'object' || Array.isArray(prices)) {
    throw new PlatformError(undefined, 'instancePrices', prices, 'must be an object of instance type names to USD per hour',
      "pass e.g. { 'ml.c6i.large': 0.119 }");
  }
  for (const [name, value] of Object.entries(prices)) {
    const given: GivenInstancePrice | undefined = typeof value === 'number' ? { usdPerHour: value } : value ?? undefined;
    const usdPerHour = given?.usdPerHour;
    if (!/^(ml\.)?[a-z][a-z0-9-]*\.[a-z0-9-]+$/.test(name)) {
      throw new PlatformError(undefined, 'instancePrices', name, 'must be keyed by instance type names: EC2 names such as "m5.large", SageMaker names such as "ml.c6i.large"',
        'use the name the template has');
    }
    if (typeof usdPerHour !== 'number' || !Number.isFinite(usdPerHour) || usdPerHour <= 0) {
      throw new PlatformError(undefined, `instancePrices["${name}"]`, value, 'must be a positive number of USD per hour, or { usdPerHour, source?, asOf? }',
        'give the on-demand hourly price');
    }
    out.set(name, { usd: usdPerHour, per: 'hour', source: given?.source ?? GIVEN_SOURCE, asOf: given?.asOf ?? 'not given', confirmed: true });
  }
  return out;
}

/** EC2 on-demand price per hour: the GPU catalog, then the CPU table. */
function ec2Price(type: string): CostUnitPrice | undefined {
  const gpu = GpuInstanceType.catalogTypes().find((t) => t.name === type)?.onDemandPrice;
  if (gpu) return { usd: gpu.usdPerHour, per: 'hour', source: gpu.source, asOf: gpu.asOf, confirmed: gpu.confirmed };
  const cpu = CPU_PRICES.find((r) => r.name === type);
  if (cpu) return { usd: cpu.usdPerHour, per: 'hour', ...CPU_PRICE_SOURCES[cpu.source], confirmed: true };
  return undefined;
}

/** SageMaker `ml.*` price per hour, from the GPU catalog. */
function sageMakerPrice(type: string): CostUnitPrice | undefined {
  if (!type.startsWith('ml.')) return undefined;
  const p = GpuInstanceType.catalogTypes().find((t) => t.sageMakerInstanceType === type)?.sageMakerPrice;
  return p && { usd: p.usdPerHour, per: 'hour', source: p.source, asOf: p.asOf, confirmed: p.confirmed };
}

/** A fixed number of units at an hourly or monthly price, the same at rest and at most. */
function fixed(description: string, quantity: number, unitName: string, price: ServicePrice, note?: string): Line {
  const perMonth = price.per === 'hour' ? price.usd * HOURS_PER_MONTH : price.usd;
  return {
    description,
    status: CostStatus.PRICED,
    quantityAtRest: quantity,
    quantityAtMost: quantity,
    unit: unitName,
    unitPrice: unit(price),
    monthlyUsdAtRest: round2(quantity * perMonth),
    monthlyUsdAtMost: round2(quantity * perMonth),
    note,
  };
}

function unpricedLine(description: string, why: string, extra: Partial<Line> = {}): Line {
  return { description, status: CostStatus.UNPRICED, ...extra, note: why };
}

/** Rounded to cents. */
function round2(usdValue: number): number {
  return Math.round(usdValue * 100) / 100;
}

function sum(items: readonly CostLineItem[], field: 'monthlyUsdAtRest' | 'monthlyUsdAtMost'): number {
  const cents = items.filter((i) => i.status === CostStatus.PRICED).reduce((a, i) => a + Math.round((i[field] ?? 0) * 100), 0);
  return cents / 100;
}

function merge(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    if (p === '') continue;
    const prev = out[out.length - 1];
    if (typeof p === 'string' && typeof prev === 'string') out[out.length - 1] = prev + p;
    else out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Cloud assembly

/** The monthly USD cost budgets of a template whose limit is a literal (a number, or a string of one). */
function readBudgets(stackName: string, template: Json): CostBudgetLimit[] {
  const resources: Json = template.Resources && typeof template.Resources === 'object' ? template.Resources : {};
  const out: CostBudgetLimit[] = [];
  for (const [logicalId, resource] of Object.entries<Json>(resources)) {
    if (resource?.Type !== 'AWS::Budgets::Budget') continue;
    const budget = resource.Properties?.Budget;
    const amount = budget?.BudgetLimit?.Amount;
    const monthlyUsd = typeof amount === 'number' ? amount : typeof amount === 'string' && amount.trim() !== '' ? Number(amount) : NaN;
    if (budget?.BudgetType !== 'COST' || budget.TimeUnit !== 'MONTHLY' || budget.BudgetLimit?.Unit !== 'USD' || !(Number.isFinite(monthlyUsd) && monthlyUsd > 0)) continue;
    const filter = describeBudgetFilter(budget.CostFilters ?? budget.FilterExpression);
    out.push({
      stackName, logicalId, ...(typeof budget.BudgetName === 'string' ? { budgetName: budget.BudgetName } : {}), monthlyUsd,
      ...(filter !== undefined ? { filter } : {}),
    });
  }
  return out;
}

/**
 * A budget's `CostFilters` (`{"TagKeyValue": ["user:team$ml-platform"]}`) in short, `TagKeyValue user:team$ml-platform`;
 * a `FilterExpression` or anything else as compact JSON. Undefined when there is no filter (absent or empty).
 */
function describeBudgetFilter(filter: unknown): string | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter === 'object' && !Array.isArray(filter)) {
    const entries = Object.entries(filter as Record<string, unknown>);
    if (entries.length === 0) return undefined;
    if (entries.every(([, v]) => Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
      return entries.map(([k, v]) => `${k} ${(v as string[]).join(', ')}`).join('; ');
    }
  }
  return JSON.stringify(filter);
}

/** The CloudFormation stacks a cloud assembly's manifest lists, nested assemblies (stages) included. */
function readAssembly(directory: string): AssemblyStack[] {
  const manifestFile = path.join(directory, 'manifest.json');
  if (!fs.existsSync(manifestFile)) {
    throw new PlatformError(undefined, 'assembly', directory, 'has no manifest.json, so it is not a cloud assembly',
      'run `cdk synth` first, or pass the directory it writes (cdk.out)');
  }
  const manifest = readJson(manifestFile, 'assembly', 'its manifest.json', 'cloud assembly manifest');
  const stacks: AssemblyStack[] = [];
  for (const [id, artifact] of Object.entries<Json>(manifest.artifacts ?? {})) {
    if (artifact?.type === 'aws:cloudformation:stack' && typeof artifact.properties?.templateFile === 'string') {
      const stackName = artifact.displayName ?? artifact.properties.stackName ?? id;
      const file = path.join(directory, artifact.properties.templateFile);
      if (!fs.existsSync(file)) {
        throw new PlatformError(undefined, 'assembly', directory,
          `is incomplete: the manifest lists stack ${stackName} with the template ${artifact.properties.templateFile}, which is not there`,
          'synthesize the app again into an empty directory');
      }
      const template = readJson(file, 'template', `stack ${stackName}'s template`, 'CloudFormation template');
      stacks.push(...withNestedStacks(directory, stackName, template));
    } else if (artifact?.type === 'cdk:cloud-assembly' && typeof artifact.properties?.directoryName === 'string') {
      const nested = path.join(directory, artifact.properties.directoryName);
      if (!fs.existsSync(path.join(nested, 'manifest.json'))) {
        throw new PlatformError(undefined, 'assembly', directory,
          `is incomplete: the manifest lists the nested assembly ${id} in ${artifact.properties.directoryName}, which has no manifest.json`,
          'synthesize the app again into an empty directory');
      }
      stacks.push(...readAssembly(nested));
    }
  }
  return stacks;
}

/** A stack read from a cloud assembly, with the nested stacks whose templates were read too. */
interface AssemblyStack extends StackTemplate {
  /** Logical id of an `AWS::CloudFormation::Stack` to the name its template is priced under. */
  readonly nestedStacks?: ReadonlyMap<string, string>;
}

/**
 * The stack, then its nested stacks (depth first): `cdk synth` writes a nested stack's template into the assembly and
 * names the file in the resource's `aws:asset:path` metadata. A nested stack whose template is not there stays not
 * priced.
 */
function withNestedStacks(directory: string, stackName: string, template: Json): AssemblyStack[] {
  const nestedStacks = new Map<string, string>();
  const nested: AssemblyStack[] = [];
  const resources: Json = template.Resources && typeof template.Resources === 'object' ? template.Resources : {};
  for (const [logicalId, resource] of Object.entries<Json>(resources)) {
    const file = resource?.Metadata?.['aws:asset:path'];
    if (resource?.Type !== 'AWS::CloudFormation::Stack' || typeof file !== 'string' || !file.endsWith('.json')) continue;
    const full = path.join(directory, file);
    if (!fs.existsSync(full)) continue;
    const name = `${stackName}/${logicalId}`;
    nestedStacks.set(logicalId, name);
    nested.push(...withNestedStacks(directory, name, readJson(full, 'template', `nested stack ${name}'s template`, 'CloudFormation template')));
  }
  return [{ stackName, template, nestedStacks }, ...nested];
}

/** A JSON object read from a file of the assembly, or a PlatformError naming the file and what is wrong with it. */
function readJson(file: string, prop: string, what: string, kind: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PlatformError(undefined, prop, file, `(${what}) is not a ${kind}: it is not valid JSON (${(e as Error).message})`,
      'synthesize the app again into an empty directory');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PlatformError(undefined, prop, file, `(${what}) is not a ${kind}: it holds ${describeValue(value)}, not a JSON object`,
      'synthesize the app again into an empty directory');
  }
  return value as Json;
}

// ---------------------------------------------------------------------------------------------------------------------
// Markdown

function quantity(value: number | undefined, unitName: string | undefined): string {
  if (value === undefined) return '';
  if (!unitName) return String(value);
  return `${value} ${unitName === 'GB' || value === 1 ? unitName : `${unitName}s`}`;
}

function unitPrice(p: CostUnitPrice): string {
  const digits = (String(p.usd).split('.')[1] ?? '').length;
  return `$${p.usd.toFixed(Math.max(2, digits))}/${p.per === 'hour' ? 'h' : p.per}`;
}

function unitPrices(i: CostLineItem): string {
  if (!i.unitPrice) return '';
  return i.unitPriceAtMost ? `${unitPrice(i.unitPrice)} (at most ${unitPrice(i.unitPriceAtMost)})` : unitPrice(i.unitPrice);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
