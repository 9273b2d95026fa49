// Example: a training account's stack. Spot GPU training on AWS Batch in a VPC that already exists, with the account's
// monthly budget and its alerts beside it. Synthesize with: npx cdk synth --app 'npx tsx examples/spot-training/app.ts'
// (and price it: npx tsx bin/cost.ts cdk.out).
import { App, CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { BudgetAlert, CostBudget, GpuInstanceType, SpotTrainingFleet } from '../../lib';

export interface SpotTrainingStackProps extends StackProps {
  /** ID of the VPC, its zones and private subnets (with a NAT gateway or endpoints for ECR, S3 and CloudWatch Logs). */
  readonly vpcId: string;
  readonly availabilityZones: string[];
  readonly privateSubnetIds: string[];
  readonly privateSubnetRouteTableIds: string[];
  /** ECR repository and tag of the training image. */
  readonly repositoryName: string;
  readonly imageTag: string;
  /** The account's monthly budget in USD, and who gets its alerts. */
  readonly monthlyBudgetUsd: number;
  readonly budgetEmails: string[];
}

export class SpotTrainingStack extends Stack {
  public readonly fleet: SpotTrainingFleet;
  public readonly budget: CostBudget;

  constructor(scope: Construct, id: string, props: SpotTrainingStackProps) {
    super(scope, id, props);
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: props.vpcId, availabilityZones: props.availabilityZones, privateSubnetIds: props.privateSubnetIds,
      privateSubnetRouteTableIds: props.privateSubnetRouteTableIds,
    });
    const repository = ecr.Repository.fromRepositoryName(this, 'Repository', props.repositoryName);

    // One A10G or L4 per job, from five spot pools; up to eight of the largest type at once, none while the queue is empty.
    this.fleet = new SpotTrainingFleet(this, 'Training', {
      vpc,
      image: ecs.ContainerImage.fromEcrRepository(repository, props.imageTag),
      command: ['python', 'train.py'], // reads CHECKPOINT_S3_URI, resumes from the latest checkpoint there
      instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.G5_2XLARGE, GpuInstanceType.G6_XLARGE, GpuInstanceType.G6_2XLARGE, GpuInstanceType.G6_4XLARGE],
      maxInstances: 8,
    });

    this.budget = new CostBudget(this, 'Budget', {
      monthlyLimitUsd: props.monthlyBudgetUsd,
      emails: props.budgetEmails,
      alerts: [BudgetAlert.actual(50), BudgetAlert.actual(80), BudgetAlert.actual(100), BudgetAlert.forecasted(100)],
    });

    new CfnOutput(this, 'JobQueueArn', { value: this.fleet.jobQueue.jobQueueArn });
    new CfnOutput(this, 'JobDefinitionArn', { value: this.fleet.jobDefinition.jobDefinitionArn });
    new CfnOutput(this, 'CheckpointS3Uri', { value: this.fleet.checkpointS3Uri });
    new CfnOutput(this, 'CostAlertsTopicArn', { value: this.budget.topic.topicArn });
  }
}

if (require.main === module) {
  const app = new App();
  new SpotTrainingStack(app, 'SpotTraining', {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
    privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'],
    repositoryName: 'training',
    imageTag: '1.0.0',
    monthlyBudgetUsd: 3000,
    budgetEmails: ['ml-platform@example.com'],
  });
  app.synth();
}
