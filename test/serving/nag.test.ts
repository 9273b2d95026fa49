import { Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { EndpointInstanceType, EndpointVariant, ModelData } from '../../constructs/serving';
import { acknowledgements, newStack } from '../helpers';
import { newEndpoint } from './util';

describe('cdk-nag AwsSolutions', () => {
  let stack: Stack;
  beforeAll(() => {
    const created = newStack();
    stack = created.stack;
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'Test VPC: flow logs are not the subject of this test.' });
    const topic = new sns.Topic(stack, 'Done', { enforceSSL: true });
    const gpu = newEndpoint(stack, {
      variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE) })],
      vpc,
      dataCapture: {},
      asyncInference: { successTopic: topic, errorTopic: topic },
    }, 'Gpu');
    gpu.autoScale({ minCapacity: 0, maxCapacity: 2 }).scaleOnBacklog('Backlog');
    const cpu = newEndpoint(stack, { dataCapture: { samplingPercentage: 5 } }, 'Cpu');
    cpu.autoScale({ maxCapacity: 3 }).scaleOnInvocations('Rps', { maxRequestsPerSecond: 10 });
    newEndpoint(stack, { variants: [EndpointVariant.serverless()] }, 'Serverless');
    Validations.of(created.app).addPlugins(new AwsSolutionsChecks(created.app));
  });

  test('reports no unacknowledged errors', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.filter((v) => v.severity === 'error').map((v) => v.ruleName)).toEqual([]);
  });

  test('synthesis with the AwsSolutions plugin and CloudFormation validation succeeds, with no nag annotations', () => {
    expect(() => Template.fromStack(stack)).not.toThrow();
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  test('every acknowledgement is a granular finding with a written reason', () => {
    const acks = acknowledgements(stack);
    const ours = Object.entries(acks).filter(([id]) => id.startsWith('AwsSolutions-') && id !== 'AwsSolutions-VPC7');
    expect(ours.length).toBeGreaterThan(0);
    for (const [id, reason] of ours) {
      expect(id).toMatch(/^AwsSolutions-(IAM5\[(Action|Resource)::.*\*.*\]|S1)$/); // only findings that name a wildcard
      expect(reason.length).toBeGreaterThan(40);
    }
    expect(Object.keys(acks)).toEqual(expect.arrayContaining([
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-S1',
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<GpuBucket[0-9A-F]{8}\.Arn>\/data-capture\/\*\]$/),
    ]));
  });

  test('an uncompressed model under a bucket prefix: the read of the objects under it is acknowledged, with its reason', () => {
    const { stack: other } = newStack();
    const bucket = s3.Bucket.fromBucketName(other, 'Models', 'models');
    newEndpoint(other, { modelData: ModelData.fromBucket(bucket, 'fraud/v3/') });
    const report = new AwsSolutionsChecks().validateScope(other);
    expect(report.violations.filter((v) => v.severity === 'error').map((v) => v.ruleName)).toEqual([]);
    expect(acknowledgements(other)).toEqual(expect.objectContaining({
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::models/fraud/v3/*]': expect.stringMatching(/under the model prefix/),
    }));
  });

  test('a wildcard the user adds to the execution role is still reported', () => {
    const { stack: other } = newStack();
    const endpoint = newEndpoint(other);
    endpoint.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    const report = new AwsSolutionsChecks().validateScope(other);
    expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-IAM5[Action::s3:*]']));
  });
});
