#!/usr/bin/env node
// The CDK app that `cdk.json` runs: synthesizes the reference AI platform. It needs no AWS account:
// the stack is environment-agnostic and makes no context lookups.
import { App } from 'aws-cdk-lib';
import { AiPlatformStack } from '../lib/ai-platform-stack';

const app = new App();
new AiPlatformStack(app, 'AiPlatform', {
  description: 'ai-platform-constructs reference platform: EKS with GPU node groups for inference and spot training',
});
app.synth();
