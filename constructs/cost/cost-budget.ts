import { Annotations, Aws, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as ce from 'aws-cdk-lib/aws-ce';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { PlatformError, requireProp } from '../../lib/private/errors';

/** When a budget alert fires: on the month's cost so far, or on AWS's forecast of it. */
export class BudgetAlert {
  /** Alert once the month's actual cost passes `percent` of the budget. */
  public static actual(percent: number): BudgetAlert {
    return new BudgetAlert('ACTUAL', percent);
  }

  /** Alert once AWS forecasts that the month's cost will pass `percent` of the budget, before it is spent. */
  public static forecasted(percent: number): BudgetAlert {
    return new BudgetAlert('FORECASTED', percent);
  }

  private constructor(
    /** `ACTUAL` or `FORECASTED`, as AWS Budgets names them. */
    public readonly notificationType: 'ACTUAL' | 'FORECASTED',
    /** Percent of the budget. */
    public readonly percent: number,
  ) {}
}

/**
 * The part of the account's cost a budget tracks, when not all of it.
 *
 * A tag filter counts only the costs of resources that carry a cost allocation tag with one of the given values. The
 * tag must be activated as a cost allocation tag in the Billing and Cost Management console (in an organization, by its
 * management account); AWS Budgets sees tagged costs only from the activation on, and a budget filtered on a tag that
 * is not active counts nothing.
 *
 * @see https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/cost-alloc-tags.html
 */
export class BudgetCostFilter {
  /**
   * Costs of resources whose user-defined tag `key` has one of `values` (case-sensitive). Rendered as the budget's
   * `CostFilters` `{"TagKeyValue": ["user:<key>$<value>", ...]}`.
   *
   * @param key the tag key as the resources carry it, e.g. `team` (without the `user:` prefix the filter adds)
   * @param values the tag values to count, e.g. `['ml-platform']`
   */
  public static tag(key: string, values: string[]): BudgetCostFilter {
    return new BudgetCostFilter(key, values);
  }

  private constructor(
    /** The user-defined tag key. */
    public readonly tagKey: string,
    /** The tag values whose costs count. */
    public readonly tagValues: string[],
  ) {}
}

/** The Cost Anomaly Detection monitor whose anomalies `CostBudget` alerts on. */
export class AnomalyMonitor {
  /**
   * A new AWS services monitor (`DIMENSIONAL`, dimension `SERVICE`): each service's spend is evaluated on its own. An
   * account can have one only, and AWS creates one in new accounts: where it exists, pass `fromArn` with its ARN
   * instead, or the deployment fails.
   */
  public static services(): AnomalyMonitor {
    return new AnomalyMonitor(undefined);
  }

  /** A monitor that exists, by its ARN (`arn:aws:ce::<account>:anomalymonitor/<id>`, from the console or `aws ce get-anomaly-monitors`). */
  public static fromArn(monitorArn: string): AnomalyMonitor {
    return new AnomalyMonitor(monitorArn);
  }

  private constructor(
    /** The ARN of an existing monitor; undefined for a new AWS services monitor. */
    public readonly monitorArn: string | undefined,
  ) {}
}

/** Cost Anomaly Detection alerts, sent with the budget's. */
export interface AnomalyAlertOptions {
  /** The monitor whose anomalies are sent. */
  readonly monitor: AnomalyMonitor;
  /**
   * Alert on an anomaly once its total cost impact reaches this many US dollars.
   * @default 100
   */
  readonly minImpactUsd?: number;
}

export interface CostBudgetProps {
  /**
   * The monthly budget in US dollars: the account's cost (every service, unblended), or with `costFilter` the part of it
   * the filter selects, that the alerts compare with.
   */
  readonly monthlyLimitUsd: number;
  /**
   * Let credits and refunds reduce the cost the budget tracks, as AWS Budgets does when a budget does not say
   * (`CostTypes` `IncludeCredit` and `IncludeRefund` true). Off by default: an account that runs on promotional or
   * migration credits would otherwise show next to no cost and never alert while the credits last, and the cost
   * estimate it is compared with is at list prices too.
   * @default false - the budget counts spend before credits and refunds (`IncludeCredit` and `IncludeRefund` false)
   */
  readonly includeCreditsAndRefunds?: boolean;
  /**
   * Track only part of the account's cost, e.g. `BudgetCostFilter.tag('team', ['ml-platform'])`. `CostEstimate` lists a
   * filtered budget but does not compare the estimate with it, and `bin/cost.ts` does not fail on it: the estimate
   * covers the stacks, not the tagged resources.
   * @default - no filter: the whole account's cost
   */
  readonly costFilter?: BudgetCostFilter;
  /**
   * The budget's name, unique in the account. AWS Budgets cannot change a budget's alerts in place: CloudFormation
   * replaces the budget when `alerts` or `emails` change, and the replacement fails while the old budget still holds a
   * name you gave. Leave it unset unless you need a fixed name.
   * @default - a name CloudFormation generates
   */
  readonly budgetName?: string;
  /**
   * When to alert, each a share of the budget.
   * @default [BudgetAlert.actual(80), BudgetAlert.actual(100), BudgetAlert.forecasted(100)]
   */
  readonly alerts?: BudgetAlert[];
  /**
   * Email addresses that get every budget alert directly (up to 10), and the anomaly alerts once a day. With
   * `anomalyAlerts`, each must be a plain ASCII address, the form Cost Anomaly Detection accepts.
   * @default - none: alerts go to the topic only
   */
  readonly emails?: string[];
  /**
   * The SNS topic every alert is published to. Its policy must let `budgets.amazonaws.com` (and, with anomaly alerts,
   * `costalerts.amazonaws.com`) publish: `CostBudget` adds those statements to a topic of this app, and warns about an
   * imported topic, whose policy it cannot change. A topic encrypted with KMS needs a customer managed key whose policy
   * lets both services use it.
   * @default - a new topic, which only those two services may publish to, that refuses requests without TLS
   */
  readonly topic?: sns.ITopic;
  /**
   * Cost Anomaly Detection alerts, published to the topic at once (and sent to `emails` daily). CloudFormation has the
   * Cost Anomaly Detection resource types in us-east-1 only: in a stack of another region, or of a region decided at
   * deployment, synthesis warns (`ai-platform:costAnomalyRegion`).
   * @default - none
   */
  readonly anomalyAlerts?: AnomalyAlertOptions;
}

/** The alerts a budget gets when `alerts` is not given. */
const DEFAULT_ALERTS = [BudgetAlert.actual(80), BudgetAlert.actual(100), BudgetAlert.forecasted(100)];
/** AWS Budgets: up to 10 email subscribers per notification (and one SNS topic); Cost Anomaly Detection: up to 10 per subscription. */
const MAX_EMAILS = 10;
const DEFAULT_MIN_IMPACT_USD = 100;
/** The email addresses AWS::CE::AnomalySubscription accepts (its Subscriber.Address pattern, without the SNS ARN half). */
const ANOMALY_EMAIL = /^[a-zA-Z0-9.!#$%&'*+=?^_‘{|}~-]+@[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)+$/;
/** The largest value a threshold expression takes (AnomalySubscription.ThresholdExpression). */
const MAX_IMPACT_USD = 10_000_000_000;

/**
 * A monthly AWS Budgets cost budget with alerts on actual and forecasted spend, published to an SNS topic (and sent to
 * email addresses), optionally with Cost Anomaly Detection alerts on the same topic.
 *
 * Budgets track the whole account's cost (billing data, updated up to three times a day), not only this stack's.
 * `CostEstimate` reads the budget back from the synthesized template, and `bin/cost.ts` fails when the estimate at rest
 * already exceeds it.
 */
export class CostBudget extends Construct {
  /** The budget. */
  public readonly budget: budgets.CfnBudget;
  /** The topic every alert is published to. */
  public readonly topic: sns.ITopic;
  /** The monthly limit, in US dollars. */
  public readonly monthlyLimitUsd: number;
  /** The anomaly monitor this construct created (`AnomalyMonitor.services()`). */
  public readonly anomalyMonitor?: ce.CfnAnomalyMonitor;
  /** The anomaly subscriptions: to the topic, and to `emails` when there are any. */
  public readonly anomalySubscriptions: ce.CfnAnomalySubscription[] = [];

  constructor(scope: Construct, id: string, props: CostBudgetProps) {
    super(scope, id);
    requireProp(this, 'monthlyLimitUsd', props?.monthlyLimitUsd, 'number', 'the monthly budget in US dollars, e.g. 1500');
    const limit = props.monthlyLimitUsd;
    if (!Token.isUnresolved(limit) && !(Number.isFinite(limit) && limit > 0)) {
      throw new PlatformError(this, 'monthlyLimitUsd', limit, 'must be a positive number of US dollars', 'give the monthly budget, e.g. 1500');
    }
    this.monthlyLimitUsd = limit;
    // JavaScript callers may pass null for an optional prop: it means unset, as undefined does.
    const name = props.budgetName ?? undefined;
    if (name !== undefined && !Token.isUnresolved(name) && (typeof name !== 'string' || !/^[^:\\]{1,100}$/.test(name) || name.includes('/action/'))) {
      throw new PlatformError(this, 'budgetName', name, 'must be 1 to 100 characters without ":", "\\" or "/action/" (AWS Budgets\' rule)',
        'pick another name, or leave it unset for a generated one');
    }
    const alerts = props.alerts ?? DEFAULT_ALERTS;
    if (!Array.isArray(alerts) || alerts.length === 0) {
      throw new PlatformError(this, 'alerts', alerts, 'must hold at least one BudgetAlert', 'e.g. [BudgetAlert.actual(100), BudgetAlert.forecasted(100)]');
    }
    const seen = new Set<string>();
    for (const [i, alert] of alerts.entries()) {
      if (!(alert instanceof BudgetAlert)) {
        throw new PlatformError(this, `alerts[${i}]`, alert, 'must be a BudgetAlert', 'use BudgetAlert.actual(percent) or BudgetAlert.forecasted(percent)');
      }
      if (!(Number.isFinite(alert.percent) && alert.percent > 0)) {
        throw new PlatformError(this, `alerts[${i}].percent`, alert.percent, 'must be a positive percentage of the budget', 'e.g. BudgetAlert.actual(80)');
      }
      const key = `${alert.notificationType} ${alert.percent}`;
      if (seen.has(key)) {
        throw new PlatformError(this, `alerts[${i}]`, key, 'repeats an alert given before it (AWS Budgets refuses two alike)', 'remove one of them');
      }
      seen.add(key);
    }
    const emails = props.emails ?? [];
    if (!Array.isArray(emails) || emails.length > MAX_EMAILS) {
      throw new PlatformError(this, 'emails', emails, `must be a list of at most ${MAX_EMAILS} addresses (AWS Budgets' and Cost Anomaly Detection's limit)`,
        'send alerts to a mailing list, or subscribe more addresses to the topic');
    }
    for (const [i, email] of emails.entries()) {
      if (!Token.isUnresolved(email) && (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))) {
        throw new PlatformError(this, `emails[${i}]`, email, 'must be an email address', 'e.g. "finops@example.com"');
      }
    }
    if (props.anomalyAlerts) {
      for (const [i, email] of emails.entries()) {
        if (!Token.isUnresolved(email) && !ANOMALY_EMAIL.test(email)) {
          throw new PlatformError(this, `emails[${i}]`, email, `must be an address Cost Anomaly Detection accepts (${ANOMALY_EMAIL.source}): `
            + 'with anomalyAlerts the emails also get its daily digest, and it refuses other addresses', 'use a plain ASCII address, or drop anomalyAlerts');
        }
      }
    }
    if (new Set(emails).size !== emails.length) {
      throw new PlatformError(this, 'emails', emails, 'must not name an address twice', 'remove the repeated address');
    }
    const includeCreditsAndRefunds = props.includeCreditsAndRefunds ?? false;
    if (typeof includeCreditsAndRefunds !== 'boolean') {
      throw new PlatformError(this, 'includeCreditsAndRefunds', includeCreditsAndRefunds, 'must be true or false',
        'true lets credits and refunds reduce the tracked cost; leave it unset to count spend before them');
    }
    const costFilter = props.costFilter ?? undefined;
    if (costFilter !== undefined) validateCostFilter(this, costFilter);
    const anomaly = props.anomalyAlerts ?? undefined;
    const minImpactUsd = anomaly?.minImpactUsd ?? DEFAULT_MIN_IMPACT_USD;
    if (anomaly !== undefined) {
      if (!(anomaly?.monitor instanceof AnomalyMonitor)) {
        throw new PlatformError(this, 'anomalyAlerts.monitor', anomaly?.monitor, 'must be an AnomalyMonitor',
          'use AnomalyMonitor.fromArn(arn) for a monitor the account has, or AnomalyMonitor.services() for a new AWS services monitor');
      }
      if (!(Number.isFinite(minImpactUsd) && minImpactUsd >= 0 && minImpactUsd <= MAX_IMPACT_USD)) {
        throw new PlatformError(this, 'anomalyAlerts.minImpactUsd', minImpactUsd, `must be a number of US dollars from 0 to ${MAX_IMPACT_USD} (Cost Anomaly Detection's range)`, 'e.g. 100');
      }
      const arn = anomaly.monitor.monitorArn;
      if (arn !== undefined && !Token.isUnresolved(arn) && !/^arn:aws[a-z-]*:ce::\d{12}:anomalymonitor\/[\w-]+$/.test(arn)) {
        throw new PlatformError(this, 'anomalyAlerts.monitor', arn, 'must be an anomaly monitor ARN, arn:aws:ce::<account>:anomalymonitor/<id>',
          'copy the ARN from `aws ce get-anomaly-monitors`');
      }
    }

    if (props.topic) {
      this.topic = props.topic;
    } else {
      const topic = new sns.Topic(this, 'Topic', { displayName: 'Cost alerts', enforceSSL: true });
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason: 'AWS Budgets and Cost Anomaly Detection publish to this topic. With server-side encryption they would need a '
          + 'customer managed KMS key whose policy lets them use it (the AWS managed key cannot); the messages hold budget '
          + 'names, amounts and services, no workload data. Pass an encrypted topic of your own as `topic` if you need one.',
      });
      this.topic = topic;
    }
    const publishers = ['budgets.amazonaws.com', ...(anomaly ? ['costalerts.amazonaws.com'] : [])];
    // Both services publish on behalf of this account only: the conditions keep another account's budget or anomaly
    // subscription from publishing here (AWS's "confused deputy" guidance for these topics).
    const added = publishers.map((service) => this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: service === 'budgets.amazonaws.com' ? 'AWSBudgetsPublish' : 'CostAnomalyDetectionPublish',
      principals: [new iam.ServicePrincipal(service)],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ...(service === 'budgets.amazonaws.com' ? { ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:*` } } : {}),
      },
    })).statementAdded);
    if (added.some((a) => !a)) {
      Annotations.of(this).addWarningV2('ai-platform:costBudgetTopicPolicy',
        `The topic ${this.topic.node.path} is imported, so its policy is not changed here: it must let ${publishers.join(' and ')} `
        + 'publish (sns:Publish), or the alerts are dropped (and AWS Budgets refuses to create the budget).');
    }

    const subscribers = [
      { subscriptionType: 'SNS', address: this.topic.topicArn },
      ...emails.map((address) => ({ subscriptionType: 'EMAIL', address })),
    ];
    this.budget = new budgets.CfnBudget(this, 'Resource', {
      budget: {
        budgetName: name,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: limit, unit: 'USD' },
        costTypes: includeCreditsAndRefunds ? undefined : { includeCredit: false, includeRefund: false },
        costFilters: costFilter ? { TagKeyValue: costFilter.tagValues.map((v) => `user:${costFilter.tagKey}$${v}`) } : undefined,
      },
      notificationsWithSubscribers: alerts.map((alert) => ({
        notification: {
          notificationType: alert.notificationType,
          comparisonOperator: 'GREATER_THAN',
          threshold: alert.percent,
          thresholdType: 'PERCENTAGE',
        },
        subscribers,
      })),
    });
    // AWS Budgets checks that it may publish to the topic when the budget is created: the topic policy comes first.
    this.budget.node.addDependency(this.topic);

    if (anomaly) {
      // CloudFormation knows AWS::CE::AnomalyMonitor and AWS::CE::AnomalySubscription in us-east-1 only: elsewhere the
      // template is refused ("Unrecognized resource types") before anything is created.
      const region = Stack.of(this).region;
      if (Token.isUnresolved(region) || region !== 'us-east-1') {
        Annotations.of(this).addWarningV2('ai-platform:costAnomalyRegion',
          `anomalyAlerts adds AWS::CE::AnomalyMonitor and AWS::CE::AnomalySubscription resources, which CloudFormation has in us-east-1 only; `
          + `this stack's region is ${Token.isUnresolved(region) ? 'decided at deployment' : region}. Put the CostBudget with anomalyAlerts in a `
          + 'stack in us-east-1 (Cost Anomaly Detection covers every region of the account), or drop anomalyAlerts here.');
      }
      let monitorArn = anomaly.monitor.monitorArn;
      if (monitorArn === undefined) {
        this.anomalyMonitor = new ce.CfnAnomalyMonitor(this, 'AnomalyMonitor', {
          monitorName: Names.uniqueResourceName(this, { maxLength: 100, separator: '-' }),
          monitorType: 'DIMENSIONAL',
          monitorDimension: 'SERVICE',
        });
        monitorArn = this.anomalyMonitor.attrMonitorArn;
      }
      const threshold = JSON.stringify({
        Dimensions: { Key: 'ANOMALY_TOTAL_IMPACT_ABSOLUTE', MatchOptions: ['GREATER_THAN_OR_EQUAL'], Values: [String(minImpactUsd)] },
      });
      // A subscription sends to one SNS topic at once (IMMEDIATE), or to up to 10 addresses in a daily or weekly digest.
      const topicSubscription = new ce.CfnAnomalySubscription(this, 'AnomalySubscription', {
        subscriptionName: Names.uniqueResourceName(this, { maxLength: 100, separator: '-' }),
        frequency: 'IMMEDIATE',
        monitorArnList: [monitorArn],
        subscribers: [{ type: 'SNS', address: this.topic.topicArn }],
        thresholdExpression: threshold,
      });
      topicSubscription.node.addDependency(this.topic);
      this.anomalySubscriptions.push(topicSubscription);
      if (emails.length > 0) {
        this.anomalySubscriptions.push(new ce.CfnAnomalySubscription(this, 'AnomalyEmailSubscription', {
          subscriptionName: `${Names.uniqueResourceName(this, { maxLength: 94, separator: '-' })}-email`,
          frequency: 'DAILY',
          monitorArnList: [monitorArn],
          subscribers: emails.map((address) => ({ type: 'EMAIL', address })),
          thresholdExpression: threshold,
        }));
      }
    }
  }
}

/** Tag keys and values: letters, numbers, spaces and `_ . : / = + - @` (AWS's tagging rule); `$` separates them in the filter. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function validateCostFilter(scope: Construct, filter: BudgetCostFilter): void {
  if (!(filter instanceof BudgetCostFilter)) {
    throw new PlatformError(scope, 'costFilter', filter, 'must be a BudgetCostFilter', "use BudgetCostFilter.tag('team', ['ml-platform'])");
  }
  const key = filter.tagKey;
  if (!Token.isUnresolved(key)) {
    if (typeof key !== 'string' || key.length < 1 || key.length > 128 || !TAG_TEXT.test(key)) {
      throw new PlatformError(scope, 'costFilter.key', key, 'must be a tag key of 1 to 128 characters: letters, numbers, spaces and _ . : / = + - @',
        'give the key of the cost allocation tag, e.g. "team"');
    }
    if (key.startsWith('user:')) {
      throw new PlatformError(scope, 'costFilter.key', key, 'must be the tag key without the "user:" prefix the filter adds',
        `give ${JSON.stringify(key.slice('user:'.length))}`);
    }
    if (key.startsWith('aws:')) {
      throw new PlatformError(scope, 'costFilter.key', key, 'must be a user-defined tag key: AWS-generated tags ("aws:") are not supported here',
        "filter on a tag of your own, or set the budget's CostFilters with addPropertyOverride");
    }
  }
  const values = filter.tagValues;
  if (!Array.isArray(values) || values.length === 0) {
    throw new PlatformError(scope, 'costFilter.values', values, 'must hold at least one tag value', "e.g. BudgetCostFilter.tag('team', ['ml-platform'])");
  }
  for (const [i, value] of values.entries()) {
    if (Token.isUnresolved(value)) continue;
    if (typeof value !== 'string' || value.length < 1 || value.length > 256 || !TAG_TEXT.test(value)) {
      throw new PlatformError(scope, `costFilter.values[${i}]`, value, 'must be a tag value of 1 to 256 characters: letters, numbers, spaces and _ . : / = + - @',
        'give a value the resources carry, e.g. "ml-platform"');
    }
  }
  if (new Set(values).size !== values.length) {
    throw new PlatformError(scope, 'costFilter.values', values, 'must not name a value twice', 'remove the repeated value');
  }
}
