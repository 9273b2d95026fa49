#!/usr/bin/env node
// The CDK app that `cdk.json` runs: synthesizes the reference AI platform. It needs no AWS account:
// the stack is environment-agnostic and makes no context lookups.
//
// Set AIP_CLUSTER_ADMIN_ROLE_ARNS to the IAM roles (comma-separated ARNs) that may use the cluster's Kubernetes API,
// e.g. the role you run kubectl as to apply dist/k8s: EKS makes only CloudFormation's execution role an admin.
import { App } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AiPlatformStack } from '../lib/ai-platform-stack';
import { PlatformError } from '../lib/private/errors';
import { readMonthlyBudget } from './private/monthly-budget';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const adminRoleArns = (process.env.AIP_CLUSTER_ADMIN_ROLE_ARNS ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
for (const arn of adminRoleArns) {
  if (!ROLE_ARN.test(arn)) {
    console.error(`AIP_CLUSTER_ADMIN_ROLE_ARNS holds ${JSON.stringify(arn)}, which is no IAM role ARN `
      + '(arn:aws:iam::<account>:role/<name>): give the ARNs of the roles that may administer the cluster, separated by commas');
    process.exit(1);
  }
}

// AIP_MONTHLY_BUDGET_USD gives the stack a monthly cost budget (AWS Budgets, alerts at 80 % and 100 % of actual spend and
// 100 % of the forecast) that bin/cost.ts also checks the estimate against; AIP_BUDGET_EMAILS, comma-separated, get its alerts.
const monthlyLimitUsd = readMonthlyBudget();
const emails = (process.env.AIP_BUDGET_EMAILS ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
if (emails.length > 0 && monthlyLimitUsd === undefined) {
  console.error('AIP_BUDGET_EMAILS is set but AIP_MONTHLY_BUDGET_USD is not: set the monthly budget whose alerts they get');
  process.exit(1);
}

const app = new App();
let stack: AiPlatformStack;
try {
  stack = new AiPlatformStack(app, 'AiPlatform', {
    description: 'ai-platform-constructs reference platform: EKS with GPU node groups for inference and spot training',
    budget: monthlyLimitUsd !== undefined ? { monthlyLimitUsd, emails } : undefined,
  });
} catch (e) {
  // A setting the library refuses (an email address that is not one, say): its message names it.
  if (!(e instanceof PlatformError)) throw e;
  console.error(e.message);
  process.exit(1);
}
// Construct ids follow the ARN, so adding or removing a role leaves the other roles' access entries in place.
for (const arn of adminRoleArns) stack.grantClusterAdmin(iam.Role.fromRoleArn(stack, `ClusterAdminRole-${arn.replace(/\//g, '|')}`, arn));
if (adminRoleArns.length === 0) {
  console.warn('the cluster will have no administrator but CloudFormation\'s execution role, so nobody can run kubectl on it '
    + '(apply dist/k8s, install Argo CD or Flux): set AIP_CLUSTER_ADMIN_ROLE_ARNS to the ARNs of the IAM roles that may administer it');
}
app.synth();
