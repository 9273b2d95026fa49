import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CostEstimate } from '../../constructs/cost';
import { SpotTrainingStack } from '../../examples/spot-training/app';
import { TEST_CONTEXT } from '../helpers';

describe('example: spot GPU training on AWS Batch with the account\'s budget', () => {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new SpotTrainingStack(app, 'Example', {
    env: { account: '123456789012', region: 'us-east-1' },
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
    privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'],
    repositoryName: 'training',
    imageTag: '1.0.0',
    monthlyBudgetUsd: 3000,
    budgetEmails: ['ml-platform@example.com'],
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // With the cdk-nag plugin registered, synthesis throws on any unacknowledged AwsSolutions error.
  const template = Template.fromStack(stack);

  test('a spot environment of the five listed types in the imported subnets, scaling from zero to eight of the largest', () => {
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      ComputeResources: Match.objectLike({
        Type: 'SPOT',
        InstanceTypes: ['g5.xlarge', 'g5.2xlarge', 'g6.xlarge', 'g6.2xlarge', 'g6.4xlarge'],
        MinvCpus: 0,
        MaxvCpus: 128,
        Subnets: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
      }),
    });
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: Match.objectLike({ Command: ['python', 'train.py'] }),
    });
    template.hasOutput('CheckpointS3Uri', Match.anyValue());
    template.hasOutput('JobQueueArn', Match.anyValue());
  });

  test('a monthly budget of $3,000 with four alerts to the topic and the email', () => {
    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({ BudgetLimit: { Amount: 3000, Unit: 'USD' } }),
      NotificationsWithSubscribers: Match.arrayWith([
        Match.objectLike({ Notification: Match.objectLike({ NotificationType: 'ACTUAL', Threshold: 50 }) }),
        Match.objectLike({ Notification: Match.objectLike({ NotificationType: 'FORECASTED', Threshold: 100 }) }),
      ]),
    });
    expect(template.toJSON().Resources[stack.getLogicalId(stack.budget.budget)].Properties.NotificationsWithSubscribers).toHaveLength(4);
  });

  test('synthesizes without warnings', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('the cost estimate knows every resource, finds the budget, and stays within it at rest: nothing runs while the queue is empty', () => {
    const estimate = CostEstimate.fromTemplates([{ stackName: stack.stackName, template: template.toJSON() }]);
    expect(estimate.unknown).toEqual([]);
    expect(estimate.unpriced).toEqual([]);
    expect(estimate.budgets).toEqual([expect.objectContaining({ monthlyUsd: 3000 })]);
    expect(estimate.monthlyUsdAtRest).toBe(1); // the checkpoint bucket's KMS key
    expect(estimate.monthlyUsdAtMost).toBeGreaterThan(3000); // 128 vCPUs of GPUs for a whole month would not fit
  });
});
