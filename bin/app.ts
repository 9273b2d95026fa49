#!/usr/bin/env node
// The CDK app that `cdk.json` runs: synthesizes the reference AI platform. It needs no AWS account:
// the stack is environment-agnostic and makes no context lookups.
//
// Set AIP_CLUSTER_ADMIN_ROLE_ARNS to the IAM roles (comma-separated ARNs) that may use the cluster's Kubernetes API,
// e.g. the role you run kubectl as to apply dist/k8s: EKS makes only CloudFormation's execution role an admin.
import { App } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AiPlatformStack } from '../lib/ai-platform-stack';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const adminRoleArns = (process.env.AIP_CLUSTER_ADMIN_ROLE_ARNS ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
for (const arn of adminRoleArns) {
  if (!ROLE_ARN.test(arn)) {
    console.error(`AIP_CLUSTER_ADMIN_ROLE_ARNS holds ${JSON.stringify(arn)}, which is no IAM role ARN `
      + '(arn:aws:iam::<account>:role/<name>): give the ARNs of the roles that may administer the cluster, separated by commas');
    process.exit(1);
  }
}

const app = new App();
const stack = new AiPlatformStack(app, 'AiPlatform', {
  description: 'ai-platform-constructs reference platform: EKS with GPU node groups for inference and spot training',
});
// Construct ids follow the ARN, so adding or removing a role leaves the other roles' access entries in place.
for (const arn of adminRoleArns) stack.grantClusterAdmin(iam.Role.fromRoleArn(stack, `ClusterAdminRole-${arn.replace(/\//g, '|')}`, arn));
if (adminRoleArns.length === 0) {
  console.warn('the cluster will have no administrator but CloudFormation\'s execution role, so nobody can run kubectl on it '
    + '(apply dist/k8s, install Argo CD or Flux): set AIP_CLUSTER_ADMIN_ROLE_ARNS to the ARNs of the IAM roles that may administer it');
}
app.synth();
