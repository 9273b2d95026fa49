import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import { AnomalyMonitor, BudgetAlert, BudgetCostFilter, CostBudget, CostBudgetProps, CostEstimate } from '../../constructs/cost';
import { acknowledgements, newStack } from '../helpers';

function synth(props: Partial<CostBudgetProps> = {}): { stack: Stack; budget: CostBudget; template: Template } {
  const { stack } = newStack();
  const budget = new CostBudget(stack, 'Budget', { monthlyLimitUsd: 1500, ...props });
  return { stack, budget, template: Template.fromStack(stack) };
}

const topicRef = (template: Template) => ({ Ref: Object.keys(template.findResources('AWS::SNS::Topic'))[0] });

describe('CostBudget', () => {
  test('a monthly cost budget in USD, alerting at 80 % and 100 % of actual spend and 100 % of the forecast, each to its topic', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::Budgets::Budget', 1);
    const topic = topicRef(template);
    const alert = (type: string, threshold: number) => ({
      Notification: { NotificationType: type, ComparisonOperator: 'GREATER_THAN', Threshold: threshold, ThresholdType: 'PERCENTAGE' },
      Subscribers: [{ SubscriptionType: 'SNS', Address: topic }],
    });
    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: { BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 1500, Unit: 'USD' }, BudgetName: Match.absent() },
      NotificationsWithSubscribers: [alert('ACTUAL', 80), alert('ACTUAL', 100), alert('FORECASTED', 100)],
    });
    // No anomaly detection unless asked.
    template.resourceCountIs('AWS::CE::AnomalyMonitor', 0);
    template.resourceCountIs('AWS::CE::AnomalySubscription', 0);
  });

  test('the topic lets AWS Budgets publish for this account only, refuses requests without TLS, and exists before the budget', () => {
    const { template } = synth();
    const topic = topicRef(template);
    const [policyId] = Object.keys(template.findResources('AWS::SNS::TopicPolicy'));
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topic],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          {
            Sid: 'AWSBudgetsPublish',
            Effect: 'Allow',
            Principal: { Service: 'budgets.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: topic,
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':budgets::', { Ref: 'AWS::AccountId' }, ':*']] } },
            },
          },
        ]),
      },
    });
    const statements = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0].Properties.PolicyDocument.Statement;
    expect(statements.filter((s: { Principal?: { Service?: string } }) => s.Principal?.Service === 'costalerts.amazonaws.com')).toEqual([]);
    const [budget] = Object.values(template.findResources('AWS::Budgets::Budget'));
    expect(budget.DependsOn).toEqual(expect.arrayContaining([policyId]));
  });

  test('emails get every alert directly, beside the topic; alerts and name are as given', () => {
    const { template } = synth({
      budgetName: 'ml-platform', emails: ['finops@example.com', 'oncall@example.com'], alerts: [BudgetAlert.forecasted(90), BudgetAlert.actual(110)],
    });
    const subscribers = [
      { SubscriptionType: 'SNS', Address: topicRef(template) },
      { SubscriptionType: 'EMAIL', Address: 'finops@example.com' },
      { SubscriptionType: 'EMAIL', Address: 'oncall@example.com' },
    ];
    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({ BudgetName: 'ml-platform' }),
      NotificationsWithSubscribers: [
        { Notification: Match.objectLike({ NotificationType: 'FORECASTED', Threshold: 90 }), Subscribers: subscribers },
        { Notification: Match.objectLike({ NotificationType: 'ACTUAL', Threshold: 110 }), Subscribers: subscribers },
      ],
    });
  });

  test('anomaly alerts on a new AWS services monitor: at once to the topic, which Cost Anomaly Detection may publish to, and daily to the emails', () => {
    const { template } = synth({ emails: ['finops@example.com'], anomalyAlerts: { monitor: AnomalyMonitor.services(), minImpactUsd: 250 } });
    template.resourceCountIs('AWS::CE::AnomalyMonitor', 1);
    template.hasResourceProperties('AWS::CE::AnomalyMonitor', { MonitorType: 'DIMENSIONAL', MonitorDimension: 'SERVICE' });
    const [monitorId] = Object.keys(template.findResources('AWS::CE::AnomalyMonitor'));
    const threshold = JSON.stringify({ Dimensions: { Key: 'ANOMALY_TOTAL_IMPACT_ABSOLUTE', MatchOptions: ['GREATER_THAN_OR_EQUAL'], Values: ['250'] } });
    template.resourceCountIs('AWS::CE::AnomalySubscription', 2);
    template.hasResourceProperties('AWS::CE::AnomalySubscription', {
      Frequency: 'IMMEDIATE',
      MonitorArnList: [{ 'Fn::GetAtt': [monitorId, 'MonitorArn'] }],
      Subscribers: [{ Type: 'SNS', Address: topicRef(template) }],
      ThresholdExpression: threshold,
    });
    template.hasResourceProperties('AWS::CE::AnomalySubscription', {
      Frequency: 'DAILY',
      Subscribers: [{ Type: 'EMAIL', Address: 'finops@example.com' }],
      ThresholdExpression: threshold,
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Sid: 'CostAnomalyDetectionPublish',
          Effect: 'Allow',
          Principal: { Service: 'costalerts.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: topicRef(template),
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        }]),
      },
    });
  });

  test('anomaly alerts on a monitor the account has: no new monitor, and without emails one subscription, to the topic; $100 by default', () => {
    const arn = 'arn:aws:ce::123456789012:anomalymonitor/0e2c9a0f-1b7d-4b8e-9f3a-2d6c5e4b3a21';
    const { template } = synth({ anomalyAlerts: { monitor: AnomalyMonitor.fromArn(arn) } });
    template.resourceCountIs('AWS::CE::AnomalyMonitor', 0);
    template.resourceCountIs('AWS::CE::AnomalySubscription', 1);
    template.hasResourceProperties('AWS::CE::AnomalySubscription', {
      Frequency: 'IMMEDIATE',
      MonitorArnList: [arn],
      ThresholdExpression: Match.stringLikeRegexp('"Values":\\["100"\\]'),
    });
  });

  test('anomaly alerts in a stack outside us-east-1, or of a region decided at deployment, get a warning: CloudFormation has the AWS::CE types in us-east-1 only', () => {
    const anomalyAlerts = { monitor: AnomalyMonitor.services() };
    const warnings = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('ai-platform:costAnomalyRegion'));
    const { stack: ireland } = newStack({ env: { region: 'eu-west-1' } });
    new CostBudget(ireland, 'Budget', { monthlyLimitUsd: 100, anomalyAlerts });
    expect(warnings(ireland)).toHaveLength(1);
    expect(warnings(ireland)[0].entry.data).toMatch(/eu-west-1.*us-east-1/);
    const { stack: agnostic } = newStack();
    new CostBudget(agnostic, 'Budget', { monthlyLimitUsd: 100, anomalyAlerts });
    expect(warnings(agnostic)).toHaveLength(1);
    const { stack: virginia } = newStack({ env: { region: 'us-east-1' } });
    new CostBudget(virginia, 'Budget', { monthlyLimitUsd: 100, anomalyAlerts });
    expect(warnings(virginia)).toEqual([]);
    // A budget alone deploys in the stack's region.
    const { stack: plain } = newStack({ env: { region: 'eu-west-1' } });
    new CostBudget(plain, 'Budget', { monthlyLimitUsd: 100 });
    expect(warnings(plain)).toEqual([]);
  });

  test('a topic of the app is used as given, with the publish statements added; an imported one gets a warning naming what its policy needs', () => {
    const { stack } = newStack({ env: { region: 'us-east-1' } });
    const own = new sns.Topic(stack, 'Alerts');
    const budget = new CostBudget(stack, 'Budget', { monthlyLimitUsd: 100, topic: own, anomalyAlerts: { monitor: AnomalyMonitor.services() } });
    expect(budget.topic).toBe(own);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AWSBudgetsPublish' }), Match.objectLike({ Sid: 'CostAnomalyDetectionPublish' })]) },
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);

    const { stack: other } = newStack();
    const imported = sns.Topic.fromTopicArn(other, 'Shared', 'arn:aws:sns:us-east-1:123456789012:cost-alerts');
    new CostBudget(other, 'Budget', { monthlyLimitUsd: 100, topic: imported });
    const t = Template.fromStack(other);
    t.resourceCountIs('AWS::SNS::TopicPolicy', 0);
    t.hasResourceProperties('AWS::Budgets::Budget', {
      NotificationsWithSubscribers: Match.arrayWith([Match.objectLike({ Subscribers: [{ SubscriptionType: 'SNS', Address: 'arn:aws:sns:us-east-1:123456789012:cost-alerts' }] })]),
    });
    const warnings = Annotations.fromStack(other).findWarning('*', Match.stringLikeRegexp('must let budgets.amazonaws.com publish'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toMatch(/TestStack\/Shared is imported/);
  });

  test('passes cdk-nag AwsSolutions, with the unencrypted topic acknowledged and the reason written', () => {
    const { app, stack } = newStack();
    new CostBudget(stack, 'Budget', { monthlyLimitUsd: 1500, emails: ['finops@example.com'], anomalyAlerts: { monitor: AnomalyMonitor.services() } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.filter((v) => v.severity === 'error').map((v) => v.ruleName)).toEqual([]);
    expect(() => Template.fromStack(stack)).not.toThrow();
    const acks = acknowledgements(stack);
    expect(Object.keys(acks)).toEqual(['AwsSolutions-SNS2']);
    expect(acks['AwsSolutions-SNS2']).toMatch(/customer managed KMS key/);
  });

  test('CostEstimate reads the budget back, and reports what share of it the estimate takes; budgets and anomaly detection are not priced', () => {
    const app = new App();
    const stack = new Stack(app, 'Cost');
    new CostBudget(stack, 'Budget', { monthlyLimitUsd: 50, budgetName: 'platform', anomalyAlerts: { monitor: AnomalyMonitor.services() } });
    new kms.Key(stack, 'Key'); // $1.00 a month
    const estimate = CostEstimate.fromCloudAssembly(app.synth());
    const [budgetId] = Object.keys(Template.fromStack(stack).findResources('AWS::Budgets::Budget'));
    expect(estimate.budgets).toEqual([{ stackName: 'Cost', logicalId: budgetId, budgetName: 'platform', monthlyUsd: 50 }]);
    expect(estimate.toJSON().budgets).toEqual([expect.objectContaining({ monthlyUsd: 50, shareAtRest: 0.02, shareAtMost: 0.02 })]);
    expect(estimate.toMarkdown()).toContain(`| \`${budgetId} (platform)\` | $50.00 | 2 % | 2 % |`);
    expect(estimate.unknown).toEqual([]);
    expect(estimate.items.find((i) => i.resourceType === 'AWS::Budgets::Budget')?.status).toBe('usage-based');
    expect(estimate.items.filter((i) => i.resourceType.startsWith('AWS::CE::')).map((i) => i.status)).toEqual(['not-billed', 'not-billed']);
  });

  test('the budget counts spend before credits and refunds unless asked to subtract them', () => {
    synth().template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({ CostTypes: { IncludeCredit: false, IncludeRefund: false } }),
    });
    synth({ includeCreditsAndRefunds: true }).template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({ CostTypes: Match.absent() }),
    });
  });

  test('with a tag cost filter, the budget tracks only costs that carry the cost allocation tag with one of the values', () => {
    const { template } = synth({ costFilter: BudgetCostFilter.tag('team', ['ml-platform', 'research']) });
    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({ CostFilters: { TagKeyValue: ['user:team$ml-platform', 'user:team$research'] } }),
    });
    // Without one, no filter: the whole account.
    synth().template.hasResourceProperties('AWS::Budgets::Budget', { Budget: Match.objectLike({ CostFilters: Match.absent() }) });
  });

  test('CostEstimate reads a filtered budget back as filtered, and does not compare the estimate with it', () => {
    const app = new App();
    const stack = new Stack(app, 'Cost');
    new CostBudget(stack, 'Team', { monthlyLimitUsd: 50, costFilter: BudgetCostFilter.tag('team', ['ml-platform']) });
    // A budget of the L1, filtered on a service, is filtered too.
    new budgets.CfnBudget(stack, 'Sagemaker', {
      budget: { budgetType: 'COST', timeUnit: 'MONTHLY', budgetLimit: { amount: 20, unit: 'USD' }, costFilters: { Service: ['Amazon SageMaker'] } },
    });
    new kms.Key(stack, 'Key');
    const estimate = CostEstimate.fromCloudAssembly(app.synth());
    const ids = Object.keys(Template.fromStack(stack).findResources('AWS::Budgets::Budget'));
    expect(estimate.budgets).toEqual([
      { stackName: 'Cost', logicalId: ids[0], monthlyUsd: 50, filter: 'TagKeyValue user:team$ml-platform' },
      { stackName: 'Cost', logicalId: 'Sagemaker', monthlyUsd: 20, filter: 'Service Amazon SageMaker' },
    ]);
    expect(estimate.toJSON().budgets[0]).not.toHaveProperty('shareAtRest');
    expect(estimate.toMarkdown()).toContain(`| \`${ids[0]}\` filtered by TagKeyValue user:team$ml-platform | $50.00 | not compared | not compared |`);
  });

  test('an address only AWS Budgets accepts is fine without anomaly alerts', () => {
    const { template } = synth({ emails: ['ops/team@example.com'] });
    template.hasResourceProperties('AWS::Budgets::Budget', {
      NotificationsWithSubscribers: Match.arrayWith([Match.objectLike({ Subscribers: Match.arrayWith([{ SubscriptionType: 'EMAIL', Address: 'ops/team@example.com' }]) })]),
    });
  });

  test('from JavaScript, null for an optional prop means unset, as undefined does', () => {
    const nulls = { budgetName: null, alerts: null, emails: null, topic: null, anomalyAlerts: null, costFilter: null, includeCreditsAndRefunds: null };
    const { template } = synth(nulls as unknown as Partial<CostBudgetProps>);
    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: { BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 1500, Unit: 'USD' }, BudgetName: Match.absent(), CostFilters: Match.absent(),
        CostTypes: { IncludeCredit: false, IncludeRefund: false } },
    });
    template.resourceCountIs('AWS::CE::AnomalySubscription', 0);
    const anomaly = synth({ anomalyAlerts: { monitor: AnomalyMonitor.services(), minImpactUsd: null as unknown as number } }).template;
    anomaly.hasResourceProperties('AWS::CE::AnomalySubscription', { ThresholdExpression: Match.stringLikeRegexp('"Values":\\["100"\\]') });
  });

  describe('refuses, naming the prop, the value and what is allowed', () => {
    test.each([
      [{ monthlyLimitUsd: 0 }, /'monthlyLimitUsd' \(0\) must be a positive number of US dollars/],
      [{ monthlyLimitUsd: Number.NaN }, /'monthlyLimitUsd' \(NaN\) must be a positive number/],
      [{ monthlyLimitUsd: undefined }, /'monthlyLimitUsd' \(undefined\) is required/],
      [{ budgetName: 'team:ml' }, /'budgetName' \("team:ml"\) must be 1 to 100 characters without ":"/],
      [{ budgetName: 'x'.repeat(101) }, /'budgetName' .* must be 1 to 100 characters/],
      [{ alerts: [] }, /'alerts' \(\[\]\) must hold at least one BudgetAlert/],
      [{ alerts: [BudgetAlert.actual(0)] }, /'alerts\[0\]\.percent' \(0\) must be a positive percentage/],
      [{ alerts: [BudgetAlert.actual(80), BudgetAlert.actual(80)] }, /'alerts\[1\]' \("ACTUAL 80"\) repeats an alert/],
      [{ alerts: [{ notificationType: 'ACTUAL', percent: 80 } as unknown as BudgetAlert] }, /'alerts\[0\]' .* must be a BudgetAlert/],
      [{ emails: Array.from({ length: 11 }, (_, i) => `a${i}@example.com`) }, /'emails' .* must be a list of at most 10 addresses/],
      [{ emails: ['finops at example.com'] }, /'emails\[0\]' \("finops at example.com"\) must be an email address/],
      [{ emails: ['a@example.com', 'a@example.com'] }, /'emails' .* must not name an address twice/],
      [{ anomalyAlerts: { monitor: 'arn:aws:ce::123456789012:anomalymonitor/x' as unknown as AnomalyMonitor } }, /'anomalyAlerts\.monitor' .* must be an AnomalyMonitor/],
      [{ anomalyAlerts: { monitor: AnomalyMonitor.fromArn('arn:aws:sns:us-east-1:123456789012:x') } }, /'anomalyAlerts\.monitor' \("arn:aws:sns:.*"\) must be an anomaly monitor ARN/],
      [{ anomalyAlerts: { monitor: AnomalyMonitor.services(), minImpactUsd: -1 } }, /'anomalyAlerts\.minImpactUsd' \(-1\) must be a number of US dollars from 0 to 10000000000/],
      [{ costFilter: { tagKey: 'team', tagValues: ['a'] } as unknown as BudgetCostFilter }, /'costFilter' .* must be a BudgetCostFilter/],
      [{ costFilter: BudgetCostFilter.tag('', ['a']) }, /'costFilter\.key' \(""\) must be a tag key of 1 to 128 characters/],
      [{ costFilter: BudgetCostFilter.tag('team$x', ['a']) }, /'costFilter\.key' \("team\$x"\) must be a tag key of 1 to 128 characters/],
      [{ costFilter: BudgetCostFilter.tag('user:team', ['a']) }, /'costFilter\.key' \("user:team"\) .*without the "user:" prefix/],
      [{ costFilter: BudgetCostFilter.tag('aws:createdBy', ['a']) }, /'costFilter\.key' \("aws:createdBy"\) .*user-defined/],
      [{ costFilter: BudgetCostFilter.tag('team', []) }, /'costFilter\.values' \(\[\]\) must hold at least one tag value/],
      [{ costFilter: BudgetCostFilter.tag('team', ['']) }, /'costFilter\.values\[0\]' \(""\) must be a tag value of 1 to 256 characters/],
      [{ costFilter: BudgetCostFilter.tag('team', ['a', 'a']) }, /'costFilter\.values' .* must not name a value twice/],
      [{ includeCreditsAndRefunds: 'yes' as unknown as boolean }, /'includeCreditsAndRefunds' \("yes"\) must be true or false/],
      [{ emails: ['ops/team@example.com'], anomalyAlerts: { monitor: AnomalyMonitor.services() } },
        /'emails\[0\]' \("ops\/team@example.com"\) must be an address Cost Anomaly Detection accepts/],
    ] as Array<[Partial<CostBudgetProps>, RegExp]>)('%j', (props, message) => {
      expect(() => synth(props)).toThrow(message);
    });
  });
});
