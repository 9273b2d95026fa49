import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Aws, CfnParameter, CfnResource, Duration, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import {
  ContainerImage, EndpointInstanceType, EndpointVariant, ModelData, ModelEndpoint, ModelEndpointProps, RolloutStrategy, TrafficSize,
} from '../../constructs/serving';
import { resolveConfig } from '../../container/src/config';
import { PlatformError } from '../../lib/private/errors';
import { newStack } from '../helpers';
import { FIXTURE_IMAGE_DIR, newEndpoint } from './util';

const G5 = EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE);
/** One variant of two instances: the fewest a canary or linear rollout can shift in steps. */
const twoInstances = () => [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE, initialInstanceCount: 2 })];

/** Statements of the endpoint's execution policy. */
function executionStatements(template: Template): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { PolicyName: Match.stringLikeRegexp('ExecutionPolicy') },
  });
  const [policy] = Object.values(policies);
  return (policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
}

function statement(template: Template, sid: string): Record<string, unknown> {
  const found = executionStatements(template).find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
}

describe('with defaults', () => {
  let template: Template;
  let stack: Stack;
  let endpoint: ModelEndpoint;
  beforeAll(() => {
    ({ stack } = newStack());
    endpoint = newEndpoint(stack);
    template = Template.fromStack(stack);
  });

  test('creates one model, one endpoint configuration and one endpoint', () => {
    template.resourceCountIs('AWS::SageMaker::Model', 1);
    template.resourceCountIs('AWS::SageMaker::EndpointConfig', 1);
    template.resourceCountIs('AWS::SageMaker::Endpoint', 1);
  });

  test('serves one ml.m5.large instance as the AllTraffic variant', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({
        VariantName: 'AllTraffic', InstanceType: 'ml.m5.large', InitialInstanceCount: 1, InitialVariantWeight: 1,
        ModelName: { 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointModel'), 'ModelName'] },
      })],
      DataCaptureConfig: Match.absent(),
      AsyncInferenceConfig: Match.absent(),
    });
  });

  test('the endpoint gets a lower-case name derived from its path', () => {
    expect(endpoint.endpointName).toMatch(/^teststackendpoint[0-9a-f]{8}$/);
    template.hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: endpoint.endpointName });
  });

  test('the primary L1 is the endpoint, with the logical id prefix Endpoint', () => {
    expect((endpoint.node.defaultChild as CfnResource).cfnResourceType).toBe('AWS::SageMaker::Endpoint');
  });

  test('the model runs the image with network isolation and the packed model archive', () => {
    template.hasResourceProperties('AWS::SageMaker::Model', {
      EnableNetworkIsolation: true,
      ExecutionRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointRole'), 'Arn'] },
      PrimaryContainer: {
        Image: { 'Fn::Sub': Match.stringLikeRegexp('container-assets') },
        ModelDataUrl: { 'Fn::Sub': Match.stringLikeRegexp('^s3://cdk-.*-assets-.*\\.gz$') },
        Environment: Match.absent(),
      },
      VpcConfig: Match.absent(),
    });
  });

  test('the model is created after the execution policy', () => {
    const models = template.findResources('AWS::SageMaker::Model');
    const [model] = Object.values(models);
    expect(model.DependsOn).toEqual([expect.stringMatching(/EndpointExecutionPolicy/)]);
  });

  test('the endpoint is created after its log group (else SageMaker creates the group, without retention, and the stack cannot)', () => {
    const [resource] = Object.values(template.findResources('AWS::SageMaker::Endpoint'));
    expect(resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^EndpointLogs[0-9A-F]{8}$/)]));
  });

  test('creates a KMS key with rotation and encrypts the storage volume with it (ml.m5 has no local storage)', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointKey'), 'Arn'] },
    });
  });

  test('the stateful children keep their logical ids', () => {
    expect(Object.keys(template.findResources('AWS::KMS::Key'))).toEqual([expect.stringMatching(/^EndpointKey[0-9A-F]{8}$/)]);
    expect(Object.keys(template.findResources('AWS::Logs::LogGroup'))).toEqual([expect.stringMatching(/^EndpointLogs[0-9A-F]{8}$/)]);
  });

  test('creates no bucket when nothing is captured and the endpoint is real-time', () => {
    template.resourceCountIs('AWS::S3::Bucket', 0);
  });

  test('the container log group has one month retention and is retained', () => {
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: `/aws/sagemaker/Endpoints/${endpoint.endpointName}`, RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    });
  });

  test('the execution role is assumed by SageMaker and has no managed policies', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } })] },
      ManagedPolicyArns: Match.absent(),
    });
  });

  test('the role may pull from the image repository only', () => {
    expect(statement(template, 'PullImage')).toMatchObject({
      Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
      Resource: { 'Fn::Join': ['', expect.arrayContaining([':repository/', { 'Fn::Sub': expect.stringMatching(/^cdk-.*-container-assets-/) }])] },
    });
    expect(statement(template, 'EcrLogin')).toMatchObject({ Action: 'ecr:GetAuthorizationToken', Resource: '*' });
  });

  test('the role may read the model archive object only', () => {
    const read = executionStatements(template).find((s) => s.Action === 's3:GetObject')!;
    const flat = JSON.stringify(read.Resource);
    expect(flat).toMatch(/cdk-hnb659fds-assets-.*\/[0-9a-f]{64}\.gz/);
    expect(flat).not.toMatch(/\/\*/);
  });

  test('the role writes only its own log group and streams', () => {
    const logs = statement(template, 'WriteLogs');
    expect(logs.Action).toEqual(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams']);
    // The group itself (logs:CreateLogGroup, logs:DescribeLogStreams) and its streams.
    expect((logs.Resource as unknown[]).map((r) => JSON.stringify(r))).toEqual([
      expect.stringContaining(`:log-group:/aws/sagemaker/Endpoints/${endpoint.endpointName}"`),
      expect.stringContaining(`:log-group:/aws/sagemaker/Endpoints/${endpoint.endpointName}:log-stream:*"`),
    ]);
  });

  test('the role publishes metrics only to the SageMaker endpoint namespace', () => {
    // Nothing in the endpoint publishes elsewhere (the bundled server exposes Prometheus metrics and, network
    // isolated, cannot reach CloudWatch); a wider namespace would only let a holder of the role forge metrics
    // that custom-metric autoscaling may act on.
    expect(statement(template, 'PublishMetrics')).toEqual({
      Sid: 'PublishMetrics',
      Effect: 'Allow',
      Action: 'cloudwatch:PutMetricData',
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/Endpoints' } },
    });
  });

  test('the role may use the endpoint key, without wildcard actions', () => {
    expect(statement(template, 'UseKey')).toMatchObject({
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/EndpointKey/), 'Arn'] },
    });
  });

  test('no statement allows every action, and none is SageMaker full access', () => {
    for (const s of executionStatements(template)) {
      expect([s.Action].flat()).not.toContain('*');
      expect(JSON.stringify(s.Action)).not.toMatch(/sagemaker:\*/);
    }
    expect(JSON.stringify(template.toJSON())).not.toContain('AmazonSageMakerFullAccess');
  });

  test('on its one instance, rolls out all at once with a 5-minute baking period, rolled back by the default alarms: a canary needs two instances', () => {
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      EndpointConfigName: { 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointConfig'), 'EndpointConfigName'] },
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0, CanarySize: Match.absent() },
          TerminationWaitInSeconds: 300,
        },
        AutoRollbackConfiguration: {
          Alarms: [
            { AlarmName: { Ref: Match.stringLikeRegexp('EndpointAllTrafficErrorRateAlarm') } },
            { AlarmName: { Ref: Match.stringLikeRegexp('EndpointAllTrafficModelLatencyAlarm') } },
          ],
        },
      },
    });
  });

  test('the role may read the rollback alarms, which SageMaker checks with its execution role during an update', () => {
    expect(statement(template, 'ReadRollbackAlarms')).toMatchObject({
      Action: 'cloudwatch:DescribeAlarms',
      Resource: [
        { 'Fn::GetAtt': [expect.stringMatching(/EndpointAllTrafficErrorRateAlarm/), 'Arn'] },
        { 'Fn::GetAtt': [expect.stringMatching(/EndpointAllTrafficModelLatencyAlarm/), 'Arn'] },
      ],
    });
  });

  test('without autoscaling, updates apply the configuration\'s instance counts', () => {
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      RetainAllVariantProperties: Match.absent(),
      ExcludeRetainedVariantProperties: Match.absent(),
    });
  });

  test('alarms on a 5XX error rate above 1% (Average of Invocation5XXErrors)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker', MetricName: 'Invocation5XXErrors', Statistic: 'Average', Period: 60,
      Threshold: 0.01, EvaluationPeriods: 3, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching',
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'EndpointName', Value: endpoint.endpointName }, { Name: 'VariantName', Value: 'AllTraffic' }],
    });
  });

  test('alarms on p99 model latency above 1 second, in microseconds', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker', MetricName: 'ModelLatency', ExtendedStatistic: 'p99', Threshold: 1_000_000,
    });
  });
});

describe('variants', () => {
  test('a GPU variant keeps the KMS key off the volume (local NVMe) and says so', () => {
    const { stack } = newStack();
    newEndpoint(stack, { variants: [EndpointVariant.instance({ instanceType: G5, initialInstanceCount: 2 })], dataCapture: {} });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      KmsKeyId: Match.absent(),
      ProductionVariants: [Match.objectLike({ InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 2 })],
      DataCaptureConfig: Match.objectLike({ KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointKey'), 'Arn'] } }),
    });
    Annotations.fromStack(stack).hasInfo('/TestStack/Endpoint', Match.stringLikeRegexp('ml.g5.xlarge have local NVMe storage'));
  });

  test('two weighted variants render in order with their names and timeouts', () => {
    const { stack } = newStack();
    newEndpoint(stack, {
      variants: [
        EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_XLARGE, initialWeight: 9, containerStartupHealthCheckTimeout: Duration.minutes(5) }),
        EndpointVariant.instance({ instanceType: G5, initialWeight: 1, variantName: 'gpu', modelDataDownloadTimeout: Duration.minutes(20) }),
      ],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectLike({ VariantName: 'AllTraffic', InstanceType: 'ml.c6i.xlarge', InitialVariantWeight: 9, ContainerStartupHealthCheckTimeoutInSeconds: 300 }),
        Match.objectLike({ VariantName: 'gpu', InstanceType: 'ml.g5.xlarge', InitialVariantWeight: 1, ModelDataDownloadTimeoutInSeconds: 1200 }),
      ],
      // SageMaker rejects a KmsKeyId when any variant has local NVMe storage (ml.g5), not only when all do.
      KmsKeyId: Match.absent(),
    });
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
  });

  test('an unnamed variant after the first is named Variant<position>', () => {
    const variant = EndpointVariant.instance({ instanceType: G5 });
    expect([variant.nameAt(0), variant.nameAt(1), variant.nameAt(2)]).toEqual(['AllTraffic', 'Variant2', 'Variant3']);
  });

  test('a serverless variant renders memory and concurrency, without network isolation or a KMS key', () => {
    const { stack } = newStack();
    newEndpoint(stack, { variants: [EndpointVariant.serverless({ memorySize: Size.gibibytes(4), maxConcurrency: 20, provisionedConcurrency: 2 })] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [{
        VariantName: 'AllTraffic',
        ModelName: Match.anyValue(),
        ServerlessConfig: { MemorySizeInMB: 4096, MaxConcurrency: 20, ProvisionedConcurrency: 2 },
      }],
      KmsKeyId: Match.absent(),
    });
    template.hasResourceProperties('AWS::SageMaker::Model', { EnableNetworkIsolation: Match.absent() });
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  test('serverless defaults to 2048 MiB and 5 concurrent invocations', () => {
    const { stack } = newStack();
    newEndpoint(stack, { variants: [EndpointVariant.serverless()] });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 } })],
    });
  });
});

describe('validation', () => {
  const build = (overrides: Parameters<typeof newEndpoint>[1]) => () => newEndpoint(newStack().stack, overrides);
  const serverless = (o: Parameters<typeof EndpointVariant.serverless>[0]) => build({ variants: [EndpointVariant.serverless(o)] });
  const instance = (o: Partial<Parameters<typeof EndpointVariant.instance>[0]>) => build({ variants: [EndpointVariant.instance({ instanceType: G5, ...o })] });

  test('serverless memory below 1024 MiB fails, naming the allowed sizes', () => {
    expect(serverless({ memorySize: Size.mebibytes(512) })).toThrow(/'variants\[0\]\.memorySize' \("512 MiB"\) must be 1024, 2048, 3072, 4096, 5120 or 6144 MiB/);
  });
  test('serverless memory above 6144 MiB fails', () => {
    expect(serverless({ memorySize: Size.gibibytes(8) })).toThrow(/memorySize.*8192 MiB/);
  });
  test('serverless memory of 6144 MiB, the largest size, is allowed; the next step, 7168 MiB, fails', () => {
    expect(serverless({ memorySize: Size.mebibytes(6144) })).not.toThrow();
    expect(serverless({ memorySize: Size.mebibytes(7168) })).toThrow(/'variants\[0\]\.memorySize' \("7168 MiB"\) must be 1024, 2048, 3072, 4096, 5120 or 6144 MiB/);
  });
  test('serverless memory off the 1 GiB steps fails', () => {
    expect(serverless({ memorySize: Size.mebibytes(1536) })).toThrow(/memorySize.*1536 MiB.*1 GiB steps/);
  });
  test('serverless max concurrency 0 fails', () => {
    expect(serverless({ maxConcurrency: 0 })).toThrow(/'variants\[0\]\.maxConcurrency' \(0\) must be a whole number from 1 to 200/);
  });
  test('serverless max concurrency 201 fails', () => {
    expect(serverless({ maxConcurrency: 201 })).toThrow(/maxConcurrency' \(201\)/);
  });
  test('provisioned concurrency above max concurrency fails', () => {
    expect(serverless({ maxConcurrency: 4, provisionedConcurrency: 5 })).toThrow(/'variants\[0\]\.provisionedConcurrency' \(5\) must be <= 'maxConcurrency' \(4\): lower provisionedConcurrency or raise maxConcurrency/);
  });
  test('provisioned concurrency equal to max concurrency is allowed', () => {
    expect(serverless({ maxConcurrency: 4, provisionedConcurrency: 4 })).not.toThrow();
  });
  test('provisioned concurrency 0 fails', () => {
    expect(serverless({ provisionedConcurrency: 0 })).toThrow(/provisionedConcurrency' \(0\) must be a whole number >= 1/);
  });
  test('a serverless variant with another variant fails', () => {
    expect(build({ variants: [EndpointVariant.serverless(), EndpointVariant.instance({ instanceType: G5, variantName: 'b' })] }))
      .toThrow(/'variants' \("2 variants"\) must be a single variant when one is serverless/);
  });
  test.each([
    ['dataCapture', { dataCapture: {} }],
    ['asyncInference', { asyncInference: {} }],
    ['networkIsolation', { networkIsolation: true }],
  ])('serverless with %s fails', (prop, extra) => {
    expect(build({ variants: [EndpointVariant.serverless()], ...extra })).toThrow(new RegExp(`'${prop}' .* is not supported with a serverless variant`));
  });
  test('serverless with an encryptionKey fails: the key would encrypt nothing there', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'Key');
    expect(() => newEndpoint(stack, { variants: [EndpointVariant.serverless()], encryptionKey: key }))
      .toThrow(/'encryptionKey' \(.*\) has no effect with a serverless variant: SageMaker takes no storage volume key \(KmsKeyId\) for serverless endpoints, and data capture and asynchronous inference, the key's other uses, are not available there: remove encryptionKey, or use an instance variant/);
  });
  test('serverless with a bucket fails: it would hold nothing there', () => {
    const fail = () => {
      const { stack } = newStack();
      newEndpoint(stack, { variants: [EndpointVariant.serverless()], bucket: new s3.Bucket(stack, 'Given') });
    };
    expect(fail).toThrow(PlatformError);
    expect(fail).toThrow(/'bucket' \(.*\) has no effect with a serverless variant: it holds captured data and asynchronous inference payloads and results, and neither data capture nor asynchronous inference is available on a serverless endpoint: remove bucket, or use an instance variant/);
  });
  test('serverless with an imported bucket fails naming it', () => {
    const { stack } = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Imported', 'my-capture-bucket');
    expect(() => newEndpoint(stack, { variants: [EndpointVariant.serverless()], bucket }))
      .toThrow(/'bucket' \("my-capture-bucket"\) has no effect with a serverless variant/);
  });
  test('a bucket or an access-log bucket the endpoint does not use gets a warning naming it', () => {
    const warnings = (props: Record<string, unknown>) => {
      const { stack } = newStack();
      const bucket = props.bucket ? s3.Bucket.fromBucketName(stack, 'Given', 'my-capture-bucket') : undefined;
      const serverAccessLogsBucket = props.logs ? s3.Bucket.fromBucketName(stack, 'Logs', 'my-access-logs') : undefined;
      newEndpoint(stack, { variants: twoInstances(), bucket, serverAccessLogsBucket, dataCapture: props.dataCapture as undefined });
      return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('is unused')).map((w) => String(w.entry.data));
    };
    // A bucket with neither data capture nor async inference holds nothing.
    expect(warnings({ bucket: true })).toEqual([expect.stringMatching(/^'bucket' is unused: .*sets neither dataCapture nor asyncInference\. Remove it, or set one of them/)]);
    // The access-log bucket serves only a bucket the endpoint creates.
    expect(warnings({ logs: true })).toEqual([expect.stringMatching(/^'serverAccessLogsBucket' is unused: .*the endpoint creates none, as it sets neither dataCapture nor asyncInference/)]);
    expect(warnings({ logs: true, bucket: true, dataCapture: {} })).toEqual([expect.stringMatching(/^'serverAccessLogsBucket' is unused: .*with 'bucket' given it creates none/)]);
    // Used as documented: no warning.
    expect(warnings({ bucket: true, dataCapture: {} })).toEqual([]);
    expect(warnings({ logs: true, dataCapture: {} })).toEqual([]);
  });
  test('serverless memory that is no whole number of MiB fails naming the prop, not with CDK\'s conversion error', () => {
    const fail = serverless({ memorySize: Size.kibibytes(1500) });
    expect(fail).toThrow(PlatformError);
    expect(fail).toThrow(/'variants\[0\]\.memorySize' \("Size\.kibibytes\(1500\)"\) must be 1024, 2048, 3072, 4096, 5120 or 6144 MiB \(serverless memory is 1-6 GiB in 1 GiB steps\): pick one of those sizes, e.g. Size.gibibytes\(2\)/);
  });
  test('serverless memory given as a token in a unit other than MiB fails naming the prop, not with CDK\'s conversion error', () => {
    const fail = () => {
      const { stack } = newStack();
      const gib = new CfnParameter(stack, 'MemoryGiB', { type: 'Number' }).valueAsNumber;
      newEndpoint(stack, { variants: [EndpointVariant.serverless({ memorySize: Size.gibibytes(gib) })] });
    };
    expect(fail).toThrow(PlatformError);
    expect(fail).toThrow(/'variants\[0\]\.memorySize' \(.*\) must be given in mebibytes when it is a token \(it is rendered as MemorySizeInMB, and a token cannot be converted\): use Size.mebibytes\(token\)/);
  });
  test('serverless memory as a token in MiB is left to SageMaker', () => {
    const { stack } = newStack();
    const mib = new CfnParameter(stack, 'MemoryMiB', { type: 'Number' }).valueAsNumber;
    newEndpoint(stack, { variants: [EndpointVariant.serverless({ memorySize: Size.mebibytes(mib) })] });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ServerlessConfig: Match.objectLike({ MemorySizeInMB: { Ref: 'MemoryMiB' } }) })],
    });
  });
  test('serverless in a VPC fails', () => {
    const { stack } = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc');
    expect(() => newEndpoint(stack, { variants: [EndpointVariant.serverless()], vpc })).toThrow(/'vpc' .* is not supported with a serverless variant/);
  });
  test('initial instance count 0 fails', () => {
    expect(instance({ initialInstanceCount: 0 })).toThrow(/'variants\[0\]\.initialInstanceCount' \(0\) must be a whole number >= 1/);
  });
  test('a negative variant weight fails', () => {
    expect(instance({ initialWeight: -1 })).toThrow(/'variants\[0\]\.initialWeight' \(-1\) must be a number >= 0/);
  });
  test('weights summing to 0 fail', () => {
    expect(instance({ initialWeight: 0 })).toThrow(/initialWeight' \(0\) must sum to more than 0/);
  });
  test('weights of two variants from parameters are passed as the parameters', () => {
    const { stack } = newStack();
    const blue = new CfnParameter(stack, 'BlueWeight', { type: 'Number' }).valueAsNumber;
    const green = new CfnParameter(stack, 'GreenWeight', { type: 'Number' }).valueAsNumber;
    newEndpoint(stack, {
      variants: [
        EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE, variantName: 'blue', initialWeight: blue }),
        EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE, variantName: 'green', initialWeight: green }),
      ],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectLike({ VariantName: 'blue', InitialVariantWeight: { Ref: 'BlueWeight' } }),
        Match.objectLike({ VariantName: 'green', InitialVariantWeight: { Ref: 'GreenWeight' } }),
      ],
    });
  });
  test('a capture prefix with a leading slash fails: the destination and the role\'s permission would name different keys', () => {
    expect(build({ dataCapture: { prefix: '/capture' } })).toThrow(/'dataCapture\.prefix' \("\/capture"\) must be a non-empty S3 key prefix without a leading or trailing "\/"/);
  });
  test('an empty capture prefix fails', () => {
    expect(build({ dataCapture: { prefix: '' } })).toThrow(/'dataCapture\.prefix' \(""\) must be a non-empty S3 key prefix/);
  });
  test('async prefixes with a leading slash fail, naming the prop', () => {
    expect(build({ asyncInference: { outputPrefix: '/out' } })).toThrow(/'asyncInference\.outputPrefix' \("\/out"\) must be a non-empty S3 key prefix/);
    expect(build({ asyncInference: { failurePrefix: '/failed' } })).toThrow(/'asyncInference\.failurePrefix' \("\/failed"\)/);
    expect(build({ asyncInference: { inputPrefix: '' } })).toThrow(/'asyncInference\.inputPrefix' \(""\)/);
  });
  test('a prefix ending in a slash fails: the destination s3://bucket/capture/ and the role\'s bucket/capture//* name different keys', () => {
    expect(build({ dataCapture: { prefix: 'capture/' } })).toThrow(/'dataCapture\.prefix' \("capture\/"\) must be a non-empty S3 key prefix without a leading or trailing "\/"/);
    expect(build({ asyncInference: { outputPrefix: 'out/' } })).toThrow(/'asyncInference\.outputPrefix' \("out\/"\)/);
    expect(build({ asyncInference: { inputPrefix: 'in//' } })).toThrow(/'asyncInference\.inputPrefix' \("in\/\/"\)/);
  });
  test('a capture prefix from a parameter is accepted', () => {
    const { stack } = newStack();
    const prefix = new CfnParameter(stack, 'Prefix').valueAsString;
    expect(() => newEndpoint(stack, { dataCapture: { prefix } })).not.toThrow();
  });
  test('a variant name from a parameter does not leak its token placeholder into logical ids', () => {
    const { stack } = newStack();
    const name = new CfnParameter(stack, 'VariantName').valueAsString;
    newEndpoint(stack, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE, variantName: name })] }).autoScale({ maxCapacity: 2 });
    const ids = Object.keys(Template.fromStack(stack).toJSON().Resources);
    expect(ids.filter((id) => /TOKEN/i.test(id))).toEqual([]);
    expect(ids).toEqual(expect.arrayContaining([
      expect.stringMatching(/^EndpointVariant0ErrorRateAlarm/), expect.stringMatching(/^EndpointScalingVariant0Target/),
    ]));
  });
  test('an instance type from a parameter synthesizes, with a warning naming what the construct assumes about it', () => {
    const { stack } = newStack();
    const type = new CfnParameter(stack, 'InstanceType').valueAsString;
    newEndpoint(stack, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.of(type) })] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', { ProductionVariants: [Match.objectLike({ InstanceType: { Ref: 'InstanceType' } })] });
    Annotations.fromStack(stack).hasWarning('/TestStack/Endpoint',
      Match.stringLikeRegexp("'variants\\[0\\]\\.instanceType' is a token.*x86_64 CPU type without local storage.*\\[ack: @ai-platform/serving:instanceTypeUnresolved\\]"));
  });
  test('a variant name with invalid characters fails', () => {
    expect(instance({ variantName: 'all_traffic' })).toThrow(/'variants\[0\]\.variantName' \("all_traffic"\) must be 1-63 letters, digits or hyphens/);
  });
  test('two variants with one name fail', () => {
    expect(build({ variants: [EndpointVariant.instance({ instanceType: G5, variantName: 'a' }), EndpointVariant.instance({ instanceType: G5, variantName: 'a' })] }))
      .toThrow(/'variants' \("a"\) is used by two variants/);
  });
  test('two variant names that differ only in hyphens fail, naming both: their alarms and scaling would share construct ids', () => {
    expect(build({ variants: [EndpointVariant.instance({ instanceType: G5, variantName: 'blue-1' }), EndpointVariant.instance({ instanceType: G5, variantName: 'blue1' })] }))
      .toThrow(/'variants\[1\]\.variantName' \("blue1"\) differs from variants\[0\]\.variantName \('blue-1'\) only in characters other than letters and digits.*: rename one of the two variants/);
  });
  test('no variants fail', () => {
    expect(build({ variants: [] })).toThrow(/'variants' \("0 variants"\) must hold 1 to 10 variants/);
  });
  test('eleven variants fail', () => {
    expect(build({ variants: Array.from({ length: 11 }, (_, i) => EndpointVariant.instance({ instanceType: G5, variantName: `v${i}` })) }))
      .toThrow(/"11 variants"/);
  });
  test('a startup health check timeout above 3600 seconds fails', () => {
    expect(instance({ containerStartupHealthCheckTimeout: Duration.hours(2) })).toThrow(/containerStartupHealthCheckTimeout' \("7200 seconds"\) must be from 60 to 3600 seconds/);
  });
  test('startup health check and model download timeouts of exactly 60 and 3600 seconds are allowed; 3601 seconds fails', () => {
    for (const seconds of [60, 3600]) {
      expect(instance({ containerStartupHealthCheckTimeout: Duration.seconds(seconds), modelDataDownloadTimeout: Duration.seconds(seconds) })).not.toThrow();
    }
    expect(instance({ containerStartupHealthCheckTimeout: Duration.seconds(3601) })).toThrow(/containerStartupHealthCheckTimeout' \("3601 seconds"\) must be from 60 to 3600 seconds/);
    expect(instance({ modelDataDownloadTimeout: Duration.seconds(3601) })).toThrow(/modelDataDownloadTimeout' \("3601 seconds"\) must be from 60 to 3600 seconds/);
  });
  test('a startup health check timeout that is not a whole number of seconds fails, naming the prop', () => {
    expect(instance({ containerStartupHealthCheckTimeout: Duration.millis(90500) }))
      .toThrow(/'variants\[0\]\.containerStartupHealthCheckTimeout' \("90\.5 seconds"\) must be a whole number of seconds/);
  });
  test('a bake time from a parameter in seconds is passed as the parameter', () => {
    const { stack } = newStack();
    const wait = new CfnParameter(stack, 'Bake', { type: 'Number' }).valueAsNumber;
    newEndpoint(stack, { variants: twoInstances(), rollout: RolloutStrategy.canary({ bakeTime: Duration.seconds(wait) }) });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: Match.objectLike({ BlueGreenUpdatePolicy: Match.objectLike({ TrafficRoutingConfiguration: Match.objectLike({ WaitIntervalInSeconds: { Ref: 'Bake' } }) }) }),
    });
  });
  test('a bake time from a parameter in minutes fails, naming the prop: CloudFormation wants seconds and a token cannot be converted', () => {
    const { stack } = newStack();
    const wait = new CfnParameter(stack, 'Bake', { type: 'Number' }).valueAsNumber;
    expect(() => newEndpoint(stack, { rollout: RolloutStrategy.canary({ bakeTime: Duration.minutes(wait) }) }))
      .toThrow(/'rollout\.bakeTime' \(.*\) must be given in seconds when it is a token.*use Duration\.seconds/);
  });
  test('a model download timeout below 60 seconds fails', () => {
    expect(instance({ modelDataDownloadTimeout: Duration.seconds(30) })).toThrow(/modelDataDownloadTimeout' \("30 seconds"\)/);
  });
  test('an invalid endpoint name fails', () => {
    expect(build({ endpointName: 'my_endpoint' })).toThrow(/'endpointName' \("my_endpoint"\) must be 1-63 letters/);
  });
  test('an environment variable name with a dash fails', () => {
    expect(build({ environment: { 'MAX-BATCH': '8' } })).toThrow(/'environment' \("MAX-BATCH"\) must be a variable name/);
  });
  test('an environment variable name over 1024 characters fails, saying the limit and showing its length rather than the name', () => {
    expect(build({ environment: { [`V${'A'.repeat(1024)}`]: '8' } })).toThrow(/'environment' \("VAAAAAAAAAAAAAAAAAAAAA\.\.\. \(1025 characters\)"\) must be a variable name of at most 1024 characters/);
  });
  test('more than 100 environment variables fail', () => {
    const environment = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`V${i}`, 'x']));
    expect(build({ environment })).toThrow(/'environment' \("101 variables"\) must hold at most 100 variables, SageMaker's limit/);
  });
  test('the variables the construct adds count towards the 100, and the error names them', () => {
    const environment = Object.fromEntries(Array.from({ length: 99 }, (_, i) => [`V${i}`, 'x']));
    expect(build({ environment, asyncInference: {} }))
      .toThrow(/'environment' \("99 variables"\) must hold at most 100 variables together with the 2 the construct adds \(BODY_LIMIT_BYTES, REQUEST_TIMEOUT_MS\): 101 in all/);
    const gpu = { variants: [EndpointVariant.instance({ instanceType: G5 })], image: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR, file: 'Dockerfile.gpu' }) };
    const hundred = { ...environment, V99: 'x' };
    expect(build({ environment: hundred, ...gpu })).toThrow(/together with the 1 the construct adds \(ORT_EXECUTION_PROVIDERS\): 101 in all/);
    // A variable the user sets replaces the construct's: it is counted once.
    expect(build({ environment: { ...environment, ORT_EXECUTION_PROVIDERS: 'cuda,cpu' }, ...gpu })).not.toThrow();
    expect(build({ environment: { ...environment, BODY_LIMIT_BYTES: '1024' }, asyncInference: {} })).toThrow(/the 1 the construct adds \(REQUEST_TIMEOUT_MS\)/);
  });
  test('an environment value over 1024 bytes fails, counted in UTF-8 as SageMaker counts it', () => {
    expect(build({ environment: { BIG: 'x'.repeat(1025) } })).toThrow(/'environment\.BIG' \("1025 bytes"\) must be at most 1024 bytes/);
    expect(build({ environment: { BIG: 'x'.repeat(1024) } })).not.toThrow();
    // 600 characters, 1200 bytes.
    expect(build({ environment: { LABEL: '\u00e9'.repeat(600) } })).toThrow(/'environment\.LABEL' \("1200 bytes"\) must be at most 1024 bytes/);
  });
  test('environment variables over 32 KB in all fail, counting those the construct adds: SageMaker\'s limit for the map, read as 32,000 bytes', () => {
    // 31 variables of 1000 bytes and a 2- or 3-byte name: within every per-variable limit, 31,083 bytes in all.
    const environment = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`V${i}`, 'x'.repeat(1000)]));
    expect(build({ environment })).not.toThrow();
    // 32,000 bytes exactly pass; one more fails (AWS's "32 KB" may mean 32,000 or 32,768 bytes: the lower holds under both).
    expect(build({ environment: { ...environment, EXTRA: 'x'.repeat(912) } })).not.toThrow();
    expect(build({ environment: { ...environment, EXTRA: 'x'.repeat(913) } }))
      .toThrow(/'environment' \("32001 bytes"\) must hold at most 32000 bytes of names and values in all, SageMaker's limit for a container's environment \("32 KB", held to 32,000 bytes/);
    // The async limits the construct adds (BODY_LIMIT_BYTES=524288000, REQUEST_TIMEOUT_MS=3600000: 49 bytes) take it over.
    expect(build({ environment: { ...environment, EXTRA: 'x'.repeat(880) } })).not.toThrow();
    expect(build({ environment: { ...environment, EXTRA: 'x'.repeat(880) }, asyncInference: {} }))
      .toThrow(/together with the 2 the construct adds \(BODY_LIMIT_BYTES, REQUEST_TIMEOUT_MS\)/);
  });
  test('with the bundled server, SAGEMAKER_BIND_TO_PORT, PORT and MODEL_DIR are reserved', () => {
    expect(build({ environment: { SAGEMAKER_BIND_TO_PORT: '9000' } }))
      .toThrow(/'environment.SAGEMAKER_BIND_TO_PORT' \("9000"\) is reserved with the bundled server: SageMaker sends requests and health checks to port 8080.*: remove it from environment/);
    expect(build({ environment: { PORT: '8080' } })).toThrow(/'environment.PORT' \("8080"\) is reserved with the bundled server/);
    expect(build({ environment: { MODEL_DIR: '/models' } }))
      .toThrow(/'environment.MODEL_DIR' \("\/models"\) is reserved with the bundled server: SageMaker puts the model data in \/opt\/ml\/model.*: remove it from environment; modelData chooses the model/);
    expect(build({ environment: { HOST: '127.0.0.1' } }))
      .toThrow(/'environment.HOST' \("127.0.0.1"\) must be 0.0.0.0 or :: \(every address\), or unset, with the bundled server: SageMaker sends requests and health checks to the container's address/);
    expect(build({ environment: { HOST: '::' } })).not.toThrow();
    expect(build({ environment: { HOST: '' } })).not.toThrow();
  });
  test('with the bundled server, a value it would refuse at start fails, naming the variable, the value and what it accepts', () => {
    expect(build({ environment: { DRAIN_TIMEOUT_MS: '28001' } }))
      .toThrow(/'environment.DRAIN_TIMEOUT_MS' \("28001"\) must be a whole number from 0 to 28000 \(ms; the server exits at most 1 s after it, and SageMaker kills the process 30 s after SIGTERM\)/);
    expect(build({ environment: { LOG_REQUESTS: 'true' } })).toThrow(/'environment.LOG_REQUESTS' \("true"\) must be on or off, or empty for the server's default: the bundled inference server refuses anything else and does not start/);
    expect(build({ environment: { BATCHING: 'disabled' } })).toThrow(/'environment.BATCHING' \("disabled"\) must be on or off/);
    expect(build({ environment: { BODY_LIMIT_BYTES: '6291456.5' } })).toThrow(/'environment.BODY_LIMIT_BYTES' \("6291456.5"\) must be a whole number from 1024 to 524288000 \(bytes\)/);
    expect(build({ environment: { ORT_EXECUTION_PROVIDERS: 'cuda,rocm' } })).toThrow(/'environment.ORT_EXECUTION_PROVIDERS' \("cuda,rocm"\) must be a comma-separated list of cpu, cuda, tensorrt/);
    expect(build({ environment: { DRAIN_TIMEOUT_MS: '28000', BATCHING: 'off', MAX_BATCH_SIZE: '', MY_OWN: 'x' } })).not.toThrow();
  });
  test('with the bundled server, a SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT it cannot answer in fails, naming the types it can; one it can passes to the model', () => {
    expect(build({ environment: { SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'application/x-recordio-protobuf' } }))
      .toThrow(/'environment.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT' \("application\/x-recordio-protobuf"\) must be one of application\/json, text\/csv, application\/jsonlines, application\/jsonl, application\/x-jsonlines, application\/x-npy \(in any case; parameters such as "; charset=utf-8" are ignored\), or empty for the server's default/);
    const { stack } = newStack();
    newEndpoint(stack, { environment: { SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'Text/CSV; charset=utf-8' } });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Model', Match.objectLike({
      PrimaryContainer: Match.objectLike({ Environment: Match.objectLike({ SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'Text/CSV; charset=utf-8' }) }),
    }));
  });
  test('with the bundled server, a MODEL_NAME it cannot serve under (., .. or a name with /) fails: it is a segment of the /v2/models/{name} URLs', () => {
    for (const name of ['.', '..', 'fraud/v3', '/']) {
      expect(build({ environment: { MODEL_NAME: name } }))
        .toThrow(new RegExp(`'environment.MODEL_NAME' \\(${JSON.stringify(name).replace(/[./]/g, '\\$&')}\\) must be a name that can be one segment of a URL path \\(not \\. or \\.\\., no /\\)`));
    }
    for (const name of ['', 'fraud-mlp', 'fraud v3', '.hidden', 'a..b']) expect(build({ environment: { MODEL_NAME: name } })).not.toThrow();
  });
  test('with the bundled server, a request deadline past the 60 s a real-time or serverless endpoint waits fails; an asynchronous endpoint may wait longer', () => {
    // InvokeEndpoint: "A customer's model containers must respond to requests within 60 seconds."
    expect(build({ environment: { REQUEST_TIMEOUT_MS: '60001' } }))
      .toThrow(/'environment.REQUEST_TIMEOUT_MS' \("60001"\) must be at most 60000 on a real-time or serverless endpoint, which gives the container 60 s to answer: .*: leave it unset \(the server answers within 55 s\), or use asyncInference for longer runs/);
    expect(build({ environment: { REQUEST_TIMEOUT_MS: '120000' }, variants: [EndpointVariant.serverless()] })).toThrow(/'environment.REQUEST_TIMEOUT_MS' \("120000"\) must be at most 60000/);
    // SAGEMAKER_BATCH=true alone gives the server batch transform's 595 s deadline.
    expect(build({ environment: { SAGEMAKER_BATCH: 'TRUE' } }))
      .toThrow(/'environment.SAGEMAKER_BATCH' \("TRUE"\) must not be true on a real-time or serverless endpoint unless REQUEST_TIMEOUT_MS is at most 60000: it sets the bundled server's request deadline to 595 s.*: remove it from environment/);
    const accepted: Array<Record<string, string>> = [{ REQUEST_TIMEOUT_MS: '60000' }, { REQUEST_TIMEOUT_MS: '' }, { SAGEMAKER_BATCH: 'true', REQUEST_TIMEOUT_MS: '30000' }, { SAGEMAKER_BATCH: 'false' }];
    for (const environment of accepted) {
      expect(build({ environment })).not.toThrow();
    }
    expect(build({ environment: { REQUEST_TIMEOUT_MS: '3600000' }, asyncInference: {} })).not.toThrow();
    expect(build({ environment: { REQUEST_TIMEOUT_MS: '120000' }, image: ContainerImage.fromImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/my-server:1') })).not.toThrow();
  });
  test('with the bundled server, token values are not checked', () => {
    const { stack } = newStack();
    const drain = new CfnParameter(stack, 'Drain', { type: 'String' }).valueAsString;
    expect(() => newEndpoint(stack, { environment: { DRAIN_TIMEOUT_MS: drain } })).not.toThrow();
  });
  test('another image keeps its own environment contract', () => {
    const image = ContainerImage.fromImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/my-server:1');
    expect(build({ image, environment: { PORT: '9000', BATCHING: 'true', MODEL_DIR: '/models' } })).not.toThrow();
  });
  test('a sampling percentage above 100 fails', () => {
    expect(build({ dataCapture: { samplingPercentage: 101 } })).toThrow(/'dataCapture\.samplingPercentage' \(101\) must be a whole number from 0 to 100/);
    expect(build({ dataCapture: { samplingPercentage: 100 } })).not.toThrow();
  });
  test('capturing neither requests nor responses fails', () => {
    expect(build({ dataCapture: { captureRequests: false, captureResponses: false } })).toThrow(/'dataCapture\.captureRequests' \(false\) and 'captureResponses' cannot both be false/);
  });
  test('more than 10 JSON content types fail', () => {
    expect(build({ dataCapture: { jsonContentTypes: Array.from({ length: 11 }, (_, i) => `application/x-${i}`) } })).toThrow(/'dataCapture\.jsonContentTypes'.*must hold 1 to 10 content types/);
  });
  test('an empty list of content types fails', () => {
    expect(build({ dataCapture: { csvContentTypes: [] } })).toThrow(/'dataCapture\.csvContentTypes' \(\[\]\) must hold 1 to 10 content types/);
  });
  test('a content type SageMaker refuses (parameters, a "+" suffix, an empty string) fails, naming its position', () => {
    // CaptureContentTypeHeader: 1-256 characters, [a-zA-Z0-9](-*[a-zA-Z0-9])*\/[a-zA-Z0-9](-*[a-zA-Z0-9.])*
    expect(build({ dataCapture: { jsonContentTypes: ['application/json', 'application/json; charset=utf-8'] } }))
      .toThrow(/'dataCapture\.jsonContentTypes\[1\]' \("application\/json; charset=utf-8"\) must be a bare MIME type/);
    expect(build({ dataCapture: { jsonContentTypes: ['application/vnd.api+json'] } })).toThrow(/'dataCapture\.jsonContentTypes\[0\]' \("application\/vnd\.api\+json"\)/);
    expect(build({ dataCapture: { csvContentTypes: [''] } })).toThrow(/'dataCapture\.csvContentTypes\[0\]' \(""\)/);
    expect(build({ dataCapture: { csvContentTypes: [`text/${'c'.repeat(252)}`] } })).toThrow(/at most 256 characters/);
    expect(build({ dataCapture: { jsonContentTypes: ['application/jsonlines', 'application/x-ndjson', 'application/vnd.example.v2'] } })).not.toThrow();
  });
  test('async max concurrent invocations above 1000 fails', () => {
    expect(build({ asyncInference: { maxConcurrentInvocationsPerInstance: 1001 } })).toThrow(/'asyncInference\.maxConcurrentInvocationsPerInstance' \(1001\) must be a whole number from 1 to 1000/);
  });
  test('async max concurrent invocations of 0 fails', () => {
    expect(build({ asyncInference: { maxConcurrentInvocationsPerInstance: 0 } })).toThrow(/'asyncInference\.maxConcurrentInvocationsPerInstance' \(0\) must be a whole number from 1 to 1000/);
  });
  test('no security group, or more than 5, fails: SageMaker\'s VpcConfig takes 1-5', () => {
    const { stack } = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const groups = Array.from({ length: 6 }, (_, i) => new ec2.SecurityGroup(stack, `Sg${i}`, { vpc }));
    const vpcSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    expect(() => newEndpoint(stack, { vpc, vpcSubnets, securityGroups: [] }, 'None')).toThrow(/'securityGroups' \("0 groups"\) must hold 1 to 5 security groups/);
    expect(() => newEndpoint(stack, { vpc, vpcSubnets, securityGroups: groups }, 'Six')).toThrow(/'securityGroups' \("6 groups"\) must hold 1 to 5 security groups/);
    expect(() => newEndpoint(stack, { vpc, vpcSubnets, securityGroups: groups.slice(0, 5) }, 'Five')).not.toThrow();
  });
  test('a subnet selection of no subnets, or more than 16, fails: SageMaker\'s VpcConfig takes 1-16', () => {
    const { stack } = newStack();
    const azs = Array.from({ length: 17 }, (_, i) => `us-east-1-az${i}`);
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: azs, privateSubnetIds: azs.map((_, i) => `subnet-${i}`) });
    expect(() => newEndpoint(stack, { vpc }, 'All')).toThrow(/'vpcSubnets' \("17 subnets"\) must select 1 to 16 subnets/);
    expect(() => newEndpoint(stack, { vpc, vpcSubnets: { subnets: [] } }, 'None')).toThrow(/'vpcSubnets' \("0 subnets"\) must select 1 to 16 subnets/);
    expect(() => newEndpoint(stack, { vpc, vpcSubnets: { availabilityZones: azs.slice(0, 16) } }, 'Sixteen')).not.toThrow();
  });
  test('vpcSubnets without a vpc fails', () => {
    expect(build({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } })).toThrow(/'vpcSubnets' .* needs 'vpc'/);
  });
  test('securityGroups without a vpc fails', () => {
    const { stack } = newStack();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0');
    expect(() => newEndpoint(stack, { securityGroups: [sg] })).toThrow(/'securityGroups' \("1 groups"\) needs 'vpc'/);
  });
  test('x86_64 and Graviton variants together fail: one image serves every variant', () => {
    expect(build({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE }), EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C7G_LARGE, variantName: 'arm' })] }))
      .toThrow(/'variants' \(\["ml.c6i.large","ml.c7g.large"\]\) must all run on one CPU architecture/);
  });
  test('an error-rate threshold above 1 fails', () => {
    expect(build({ alarms: { errorRateThreshold: 5 } })).toThrow(/'alarms\.errorRateThreshold' \(5\) must be a fraction above 0 and below 1/);
  });
  test('an error-rate threshold of 1 fails: the alarm fires above it, and a share of requests never exceeds 1', () => {
    expect(build({ alarms: { errorRateThreshold: 1 } })).toThrow(/'alarms\.errorRateThreshold' \(1\) must be a fraction above 0 and below 1/);
    expect(build({ alarms: { errorRateThreshold: 0.99 } })).not.toThrow();
  });
  test('an error-rate threshold of 0 fails (the alarm would fire on the first error)', () => {
    expect(build({ alarms: { errorRateThreshold: 0 } })).toThrow(/'alarms\.errorRateThreshold' \(0\) must be a fraction above 0/);
  });
  test('zero evaluation periods fail', () => {
    expect(build({ alarms: { evaluationPeriods: 0, datapointsToAlarm: 1 } })).toThrow(/'alarms\.evaluationPeriods' \(0\) must be a whole number from 1 to 1440/);
  });
  test('more than 1440 one-minute evaluation periods fail: CloudWatch evaluates an alarm with a period under an hour over one day at most', () => {
    expect(build({ alarms: { evaluationPeriods: 1441 } })).toThrow(/'alarms\.evaluationPeriods' \(1441\) must be a whole number from 1 to 1440.*one day/);
    expect(build({ alarms: { evaluationPeriods: 1440 } })).not.toThrow();
  });
  test('evaluation periods and datapoints to alarm from parameters are passed to the alarms as the parameters', () => {
    const { stack } = newStack();
    const periods = new CfnParameter(stack, 'Periods', { type: 'Number' }).valueAsNumber;
    const datapoints = new CfnParameter(stack, 'Datapoints', { type: 'Number' }).valueAsNumber;
    newEndpoint(stack, { alarms: { evaluationPeriods: periods, datapointsToAlarm: datapoints } });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocation5XXErrors', EvaluationPeriods: { Ref: 'Periods' }, DatapointsToAlarm: { Ref: 'Datapoints' },
    });
  });
  test('an error-rate threshold from a parameter is the threshold, and the alarm description shows the parameter', () => {
    const { stack } = newStack();
    const rate = new CfnParameter(stack, 'Rate', { type: 'Number' }).valueAsNumber;
    newEndpoint(stack, { alarms: { errorRateThreshold: rate } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocation5XXErrors', Threshold: { Ref: 'Rate' },
      AlarmDescription: { 'Fn::Join': ['', Match.arrayWith([{ Ref: 'Rate' }])] },
    });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/e\+2\d\d/);
  });
  test('a model latency threshold from a parameter fails, naming the prop: it is converted to microseconds at synthesis', () => {
    const { stack } = newStack();
    const ms = new CfnParameter(stack, 'Latency', { type: 'Number' }).valueAsNumber;
    expect(() => newEndpoint(stack, { alarms: { modelLatencyThreshold: Duration.millis(ms) } }))
      .toThrow(/'alarms\.modelLatencyThreshold' \(.*\) cannot be a token/);
  });
  test('a model latency threshold of 0 fails (the alarm would fire on every request and roll back every update)', () => {
    expect(build({ alarms: { modelLatencyThreshold: Duration.seconds(0) } })).toThrow(/'alarms\.modelLatencyThreshold' \("0 ms"\) must be above 0/);
  });
  test('a model latency threshold of a fraction of a millisecond fails naming the prop', () => {
    expect(build({ alarms: { modelLatencyThreshold: Duration.millis(0.5) } })).toThrow(/'alarms\.modelLatencyThreshold' \("0\.5 ms"\) must be a whole number of milliseconds/);
  });
  test('datapointsToAlarm above evaluationPeriods fails', () => {
    expect(build({ alarms: { evaluationPeriods: 2, datapointsToAlarm: 3 } })).toThrow(/'alarms\.datapointsToAlarm' \(3\) must be a whole number from 1 to 'evaluationPeriods' \(2\)/);
  });
  test('a canary above 50% fails', () => {
    expect(build({ rollout: RolloutStrategy.canary({ canarySize: TrafficSize.percent(60) }) })).toThrow(/'rollout\.canarySize' \("60%"\) must be 1-50% of the new fleet/);
  });
  test('a linear step below 10% fails', () => {
    expect(build({ rollout: RolloutStrategy.linear({ stepSize: TrafficSize.percent(5) }) })).toThrow(/'rollout\.stepSize' \("5%"\) must be 10-50%/);
  });
  test('a canary of more instances than half the fleet fails', () => {
    expect(build({ variants: [EndpointVariant.instance({ instanceType: G5, initialInstanceCount: 2 })], rollout: RolloutStrategy.canary({ canarySize: TrafficSize.instances(2) }) }))
      .toThrow(/'rollout\.canarySize' \("2 instances"\) must be <= 50% of the smallest variant's initialInstanceCount \(2\)/);
    expect(build({ variants: [EndpointVariant.instance({ instanceType: G5, initialInstanceCount: 2 })], rollout: RolloutStrategy.canary({ canarySize: TrafficSize.instances(1) }) })).not.toThrow();
  });
  test('on an odd fleet, a canary of more than half of it fails: 2 of 3 instances is 67%', () => {
    const variants = [EndpointVariant.instance({ instanceType: G5, initialInstanceCount: 3 })];
    expect(build({ variants, rollout: RolloutStrategy.canary({ canarySize: TrafficSize.instances(2) }) }))
      .toThrow(/'rollout\.canarySize' \("2 instances"\) must be <= 50% of the smallest variant's initialInstanceCount \(3\)/);
    expect(build({ variants: [EndpointVariant.instance({ instanceType: G5, initialInstanceCount: 4 })], rollout: RolloutStrategy.canary({ canarySize: TrafficSize.instances(2) }) })).not.toThrow();
  });
  test('a linear step by instance count below 10% of the fleet fails', () => {
    const variants = [EndpointVariant.instance({ instanceType: G5, initialInstanceCount: 20 })];
    expect(build({ variants, rollout: RolloutStrategy.linear({ stepSize: TrafficSize.instances(1) }) }))
      .toThrow(/'rollout\.stepSize' \("1 instances"\) must be >= 10% of the largest variant's initialInstanceCount \(20\), SageMaker's linear limit/);
    expect(build({ variants, rollout: RolloutStrategy.linear({ stepSize: TrafficSize.instances(2) }) })).not.toThrow();
    // A canary has no lower bound.
    expect(build({ variants, rollout: RolloutStrategy.canary({ canarySize: TrafficSize.instances(1) }) })).not.toThrow();
  });
  test('a linear step of one instance is just under 10% of 11 instances and fails; of 10 instances it is 10% and passes', () => {
    const fleet = (count: number) => [EndpointVariant.instance({ instanceType: G5, initialInstanceCount: count })];
    expect(build({ variants: fleet(11), rollout: RolloutStrategy.linear({ stepSize: TrafficSize.instances(1) }) }))
      .toThrow(/'rollout\.stepSize' \("1 instances"\) must be >= 10% of the largest variant's initialInstanceCount \(11\)/);
    expect(build({ variants: fleet(10), rollout: RolloutStrategy.linear({ stepSize: TrafficSize.instances(1) }) })).not.toThrow();
  });
  test('a linear step above 50% fails', () => {
    expect(build({ rollout: RolloutStrategy.linear({ stepSize: TrafficSize.percent(60) }) })).toThrow(/'rollout\.stepSize' \("60%"\) must be 10-50%/);
  });
  test('a canary by instance count on serverless fails', () => {
    expect(build({ variants: [EndpointVariant.serverless()], rollout: RolloutStrategy.canary({ canarySize: TrafficSize.instances(1) }) }))
      .toThrow(/must be a percentage for a serverless variant/);
  });
  test('a bake time above one hour fails', () => {
    expect(build({ rollout: RolloutStrategy.canary({ bakeTime: Duration.hours(2) }) })).toThrow(/'rollout\.bakeTime' \("7200 seconds"\) must be from 0 to 3600 seconds/);
  });
  test('a termination wait above one hour fails', () => {
    expect(build({ rollout: RolloutStrategy.canary({ terminationWait: Duration.hours(2) }) })).toThrow(/'rollout\.terminationWait' \("7200 seconds"\) must be from 0 to 3600 seconds/);
  });
  test('a maximum execution timeout below 600 seconds fails', () => {
    expect(build({ rollout: RolloutStrategy.allAtOnce({ maximumExecutionTimeout: Duration.minutes(5) }) })).toThrow(/'rollout\.maximumExecutionTimeout' \("300 seconds"\) must be from 600 to 28800/);
  });
  test('a maximum execution timeout no longer than the bake time and termination wait fails', () => {
    expect(build({ rollout: RolloutStrategy.canary({ bakeTime: Duration.minutes(30), terminationWait: Duration.minutes(30), maximumExecutionTimeout: Duration.hours(1) }) }))
      .toThrow(/'rollout\.maximumExecutionTimeout' \("3600 seconds"\) must be longer than bakeTime plus terminationWait \(1800 \+ 1800 = 3600 seconds\)/);
    expect(build({ rollout: RolloutStrategy.allAtOnce({ terminationWait: Duration.minutes(20), maximumExecutionTimeout: Duration.minutes(15) }) }))
      .toThrow(/'rollout\.maximumExecutionTimeout' \("900 seconds"\) must be longer than bakeTime plus terminationWait \(0 \+ 1200 = 1200 seconds\)/);
    expect(build({ rollout: RolloutStrategy.canary({ bakeTime: Duration.minutes(30), terminationWait: Duration.minutes(30), maximumExecutionTimeout: Duration.seconds(3601) }) })).not.toThrow();
  });
  test('a maximum execution timeout shorter than the waits between all linear steps fails at synthesis', () => {
    const synth = (overrides: Parameters<typeof newEndpoint>[1]) => () => Template.fromStack(Stack.of(newEndpoint(newStack().stack, overrides)));
    const fleet = (count: number) => [EndpointVariant.instance({ instanceType: G5, initialInstanceCount: count })];
    // 10% steps of 10 instances: ten steps, an hour of baking between each two of them, nine hours in all.
    expect(synth({ variants: fleet(10), rollout: RolloutStrategy.linear({ stepSize: TrafficSize.percent(10), bakeTime: Duration.hours(1), maximumExecutionTimeout: Duration.hours(8) }) }))
      .toThrow(/'rollout\.maximumExecutionTimeout' \(28800 seconds\) must be longer than the waits of the linear rollout: bakeTime between each two of its 10 steps, plus terminationWait \(9 x 3600 \+ 0 = 32400 seconds\)/);
    // 25% steps of 4 instances: four steps, three waits of 20 minutes and 10 minutes before the old fleet goes.
    const quarter = (timeout: Duration) => RolloutStrategy.linear({ stepSize: TrafficSize.percent(25), bakeTime: Duration.minutes(20), terminationWait: Duration.minutes(10), maximumExecutionTimeout: timeout });
    expect(synth({ variants: fleet(4), rollout: quarter(Duration.minutes(70)) })).toThrow(/\(3 x 1200 \+ 600 = 4200 seconds\)/);
    expect(synth({ variants: fleet(4), rollout: quarter(Duration.seconds(4201)) })).not.toThrow();
    // By instance count: 2 of 10 instances a step is five steps.
    const pairs = (timeout: Duration) => RolloutStrategy.linear({ stepSize: TrafficSize.instances(2), bakeTime: Duration.minutes(10), maximumExecutionTimeout: timeout });
    expect(synth({ variants: fleet(10), rollout: pairs(Duration.minutes(40)) })).toThrow(/\(4 x 600 \+ 0 = 2400 seconds\)/);
    expect(synth({ variants: fleet(10), rollout: pairs(Duration.seconds(2401)) })).not.toThrow();
    // A percentage is rounded up to whole instances: 20% of six instances is steps of two, three steps (two waits).
    const fifth = (timeout: Duration) => RolloutStrategy.linear({ stepSize: TrafficSize.percent(20), bakeTime: Duration.hours(1), maximumExecutionTimeout: timeout });
    expect(synth({ variants: fleet(6), rollout: fifth(Duration.hours(2)) })).toThrow(/its 3 steps, plus terminationWait \(2 x 3600 \+ 0 = 7200 seconds\)/);
    expect(synth({ variants: fleet(6), rollout: fifth(Duration.seconds(7201)) })).not.toThrow();
    // A small fleet takes fewer steps than the percentage suggests: 10% of 2 instances is one instance, two steps.
    expect(synth({ variants: fleet(2), rollout: RolloutStrategy.linear({ stepSize: TrafficSize.percent(10), bakeTime: Duration.hours(1), maximumExecutionTimeout: Duration.hours(8) }) })).not.toThrow();
  });
  test('more than 10 rollback alarms fail at synthesis', () => {
    const { stack } = newStack();
    const alarms = Array.from({ length: 9 }, (_, i) => cloudwatch.Alarm.fromAlarmName(stack, `A${i}`, `alarm-${i}`));
    newEndpoint(stack, { variants: twoInstances(), rollout: RolloutStrategy.canary({ rollbackAlarms: alarms }) });
    expect(() => Template.fromStack(stack)).toThrow(/'rollout\.rollbackAlarms' \(11 alarms\) must be at most 10 in all/);
    // Ten in all, the two default alarms included, is the limit and allowed.
    const { stack: ten } = newStack();
    const eight = Array.from({ length: 8 }, (_, i) => cloudwatch.Alarm.fromAlarmName(ten, `A${i}`, `alarm-${i}`));
    expect(newEndpoint(ten, { variants: twoInstances(), rollout: RolloutStrategy.canary({ rollbackAlarms: eight }) }).node.validate()).toEqual([]);
  });
  test('errors are PlatformErrors carrying the construct path', () => {
    try {
      instance({ initialInstanceCount: 0 })();
      throw new Error('did not throw');
    } catch (e) {
      expect(e).toBeInstanceOf(PlatformError);
      expect((e as PlatformError).constructPath).toBe('TestStack/Endpoint');
    }
  });
  test('token values skip the range checks', () => {
    const { stack } = newStack();
    const count = new CfnParameter(stack, 'Count', { type: 'Number' }).valueAsNumber;
    expect(() => newEndpoint(stack, { variants: [EndpointVariant.instance({ instanceType: G5, initialInstanceCount: count })] })).not.toThrow();
  });
});

describe('data capture', () => {
  let template: Template;
  beforeAll(() => {
    const { stack } = newStack();
    newEndpoint(stack, { dataCapture: { samplingPercentage: 10, captureResponses: false, jsonContentTypes: ['application/json', 'application/x-ndjson'] } });
    template = Template.fromStack(stack);
  });

  test('captures requests only, 10% sampled, to the bucket with the endpoint key', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 10,
        CaptureOptions: [{ CaptureMode: 'Input' }],
        DestinationS3Uri: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('EndpointBucket') }, '/data-capture']] },
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointKey'), 'Arn'] },
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json', 'application/x-ndjson'], CsvContentTypes: ['text/csv'] },
      },
    });
  });

  test('the bucket is KMS-encrypted with the endpoint key, private, TLS-only and retained', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointKey'), 'Arn'] } } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect(Object.keys(template.findResources('AWS::S3::Bucket'))).toEqual([expect.stringMatching(/^EndpointBucket[0-9A-F]{8}$/)]);
  });

  test('the role may write only under the capture prefix', () => {
    expect(statement(template, 'WriteCapturedData')).toMatchObject({
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/EndpointBucket/), 'Arn'] }, '/data-capture/*']] },
    });
  });

  test('by default captures 20% of requests and responses; a prefix of one\'s own is the destination and the role\'s limit', () => {
    const { stack } = newStack();
    newEndpoint(stack, { dataCapture: { prefix: 'capture/fraud' } });
    const own = Template.fromStack(stack);
    own.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      DataCaptureConfig: Match.objectLike({
        InitialSamplingPercentage: 20,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        DestinationS3Uri: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('EndpointBucket') }, '/capture/fraud']] },
      }),
    });
    expect(statement(own, 'WriteCapturedData').Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/EndpointBucket/), 'Arn'] }, '/capture/fraud/*']] });
  });
});

describe('execution providers of the bundled server', () => {
  const modelEnvironment = (overrides: Parameters<typeof newEndpoint>[1]) => {
    const { stack } = newStack();
    newEndpoint(stack, overrides);
    const [model] = Object.values(Template.fromStack(stack).findResources('AWS::SageMaker::Model'));
    return model.Properties.PrimaryContainer.Environment as Record<string, string> | undefined;
  };
  const on = (...types: EndpointInstanceType[]) => types.map((instanceType, i) => EndpointVariant.instance({ instanceType, variantName: `V${i}` }));

  const cudaImage = () => ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR, file: 'Dockerfile.gpu' });
  const cpuImage = () => ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR, file: 'Dockerfile' });
  const otherImage = () => ContainerImage.fromImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/my-server:1');

  test('with the CUDA image and every variant an NVIDIA GPU instance, CUDA is required (no CPU fallback)', () => {
    expect(modelEnvironment({ variants: on(G5), image: cudaImage() })).toEqual({ ORT_EXECUTION_PROVIDERS: 'cuda' });
    const g6 = EndpointInstanceType.gpu(GpuInstanceType.G6_XLARGE);
    expect(modelEnvironment({ variants: on(G5, g6), image: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR, file: './Dockerfile.gpu' }) }))
      .toEqual({ ORT_EXECUTION_PROVIDERS: 'cuda' });
  });
  test('environment may allow the CPU fallback or choose other providers', () => {
    expect(modelEnvironment({ variants: on(G5), image: cudaImage(), environment: { ORT_EXECUTION_PROVIDERS: 'cuda,cpu' } })).toEqual({ ORT_EXECUTION_PROVIDERS: 'cuda,cpu' });
  });
  test('an empty ORT_EXECUTION_PROVIDERS counts as unset: CUDA is still required on NVIDIA GPUs, and elsewhere the image default applies', () => {
    expect(modelEnvironment({ variants: on(G5), image: cudaImage(), environment: { ORT_EXECUTION_PROVIDERS: '' } })).toEqual({ ORT_EXECUTION_PROVIDERS: 'cuda' });
    expect(modelEnvironment({ variants: on(G5, EndpointInstanceType.ML_C6I_LARGE), image: cudaImage(), environment: { ORT_EXECUTION_PROVIDERS: '', BATCHING: '' } }))
      .toEqual({ BATCHING: '' });
  });
  test('the CPU image on NVIDIA GPU instances (bundled({ file: \'Dockerfile\' })) keeps the image default: it has no CUDA', () => {
    expect(modelEnvironment({ variants: on(G5), image: cpuImage() })).toBeUndefined();
    // A directory of one's own is built from its Dockerfile unless told otherwise.
    expect(modelEnvironment({ variants: on(G5) })).toBeUndefined();
  });
  (fs.existsSync(path.join(__dirname, '..', '..', 'container', 'Dockerfile.gpu')) ? test : test.skip)('the bundled server on NVIDIA GPU instances is the CUDA image and requires CUDA, unless built from the CPU Dockerfile', () => {
    expect(modelEnvironment({ variants: on(G5), image: ContainerImage.bundled() })).toEqual({ ORT_EXECUTION_PROVIDERS: 'cuda' });
    expect(modelEnvironment({ variants: on(G5), image: ContainerImage.bundled({ file: 'Dockerfile' }) })).toBeUndefined();
  });
  test('CPU, Inferentia, mixed CPU and GPU variants, and other images keep the image default', () => {
    expect(modelEnvironment({ variants: on(EndpointInstanceType.ML_C6I_LARGE) })).toBeUndefined();
    expect(modelEnvironment({ variants: on(EndpointInstanceType.gpu(GpuInstanceType.INF2_XLARGE)) })).toBeUndefined();
    expect(modelEnvironment({ variants: on(G5, EndpointInstanceType.ML_C6I_LARGE), image: cudaImage() })).toBeUndefined();
    expect(modelEnvironment({ variants: on(G5), image: otherImage() })).toBeUndefined();
  });
  test('with the CPU image, a provider list without cpu fails: the server could load none of them', () => {
    expect(() => modelEnvironment({ variants: on(EndpointInstanceType.ML_C6I_LARGE), environment: { ORT_EXECUTION_PROVIDERS: 'cuda' } }))
      .toThrow(/'environment.ORT_EXECUTION_PROVIDERS' \("cuda"\) must list cpu with the bundled server's CPU image \(built from Dockerfile, which has no CUDA\): the server could load none of the listed providers and would refuse to start: add cpu .*ContainerImage.bundled\(\{ file: 'Dockerfile.gpu' \}\)/);
    expect(() => modelEnvironment({ variants: on(G5), image: cpuImage(), environment: { ORT_EXECUTION_PROVIDERS: 'cuda,tensorrt' } })).toThrow(/must list cpu with the bundled server's CPU image/);
    expect(modelEnvironment({ variants: on(G5), image: cpuImage(), environment: { ORT_EXECUTION_PROVIDERS: 'cuda, cpu' } })).toEqual({ ORT_EXECUTION_PROVIDERS: 'cuda, cpu' });
    // Another image keeps its own contract.
    expect(modelEnvironment({ variants: on(EndpointInstanceType.ML_C6I_LARGE), image: otherImage(), environment: { ORT_EXECUTION_PROVIDERS: 'cuda' } })).toEqual({ ORT_EXECUTION_PROVIDERS: 'cuda' });
  });
  test('with the CUDA image, a provider list without cpu fails when a variant has no NVIDIA GPU', () => {
    expect(() => modelEnvironment({ variants: on(G5, EndpointInstanceType.ML_C6I_LARGE), image: cudaImage(), environment: { ORT_EXECUTION_PROVIDERS: 'cuda' } }))
      .toThrow(/'environment.ORT_EXECUTION_PROVIDERS' \("cuda"\) must list cpu when a variant has no NVIDIA GPU \(ml.c6i.large\): CUDA cannot load there/);
  });
  test('with the CUDA image, a provider list without cpu or cuda fails: the image has no TensorRT libraries', () => {
    expect(() => modelEnvironment({ variants: on(G5), image: cudaImage(), environment: { ORT_EXECUTION_PROVIDERS: 'tensorrt' } }))
      .toThrow(/'environment.ORT_EXECUTION_PROVIDERS' \("tensorrt"\) must list cuda or cpu with the bundled server's CUDA image \(built from Dockerfile.gpu, which installs no TensorRT libraries\): tensorrt can never load there and the server would refuse to start: add cuda after tensorrt \('tensorrt,cuda'\)/);
    expect(modelEnvironment({ variants: on(G5), image: cudaImage(), environment: { ORT_EXECUTION_PROVIDERS: 'tensorrt, cuda' } })).toEqual({ ORT_EXECUTION_PROVIDERS: 'tensorrt, cuda' });
    expect(modelEnvironment({ variants: on(G5), image: cudaImage(), environment: { ORT_EXECUTION_PROVIDERS: 'tensorrt,cpu' } })).toEqual({ ORT_EXECUTION_PROVIDERS: 'tensorrt,cpu' });
  });
  test('a token as the provider list is not checked', () => {
    const { stack } = newStack();
    const providers = new CfnParameter(stack, 'Providers', { type: 'String' }).valueAsString;
    expect(() => newEndpoint(stack, { environment: { ORT_EXECUTION_PROVIDERS: providers } })).not.toThrow();
  });
});

describe('asynchronous inference', () => {
  let template: Template;
  beforeAll(() => {
    const { stack } = newStack();
    const success = new sns.Topic(stack, 'Success', { enforceSSL: true });
    const failure = new sns.Topic(stack, 'Failure', { enforceSSL: true });
    newEndpoint(stack, { asyncInference: { successTopic: success, errorTopic: failure, maxConcurrentInvocationsPerInstance: 4 } });
    template = Template.fromStack(stack);
  });

  test('raises the bundled server\'s body limit and request timeout for asynchronous inference (500 MiB, its largest; 1 hour)', () => {
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { Environment: { BODY_LIMIT_BYTES: String(500 * 1024 * 1024), REQUEST_TIMEOUT_MS: '3600000' } },
    });
    const { stack } = newStack();
    newEndpoint(stack, { asyncInference: {}, environment: { REQUEST_TIMEOUT_MS: '600000' } });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { Environment: { BODY_LIMIT_BYTES: String(500 * 1024 * 1024), REQUEST_TIMEOUT_MS: '600000' } },
    });
    const { stack: realTime } = newStack();
    newEndpoint(realTime);
    expect(JSON.stringify(Template.fromStack(realTime).findResources('AWS::SageMaker::Model'))).not.toContain('BODY_LIMIT_BYTES');
  });

  test('raises the bundled server\'s queue to maxConcurrentInvocationsPerInstance above its 256, so SageMaker\'s concurrent invocations are not refused 503 QUEUE_FULL', () => {
    const environmentOf = (props: Parameters<typeof newEndpoint>[1]) => {
      const { stack } = newStack();
      newEndpoint(stack, props);
      return Object.values(Template.fromStack(stack).findResources('AWS::SageMaker::Model'))[0].Properties.PrimaryContainer.Environment;
    };
    // the server's own default, which the construct leaves alone up to 256
    const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-queue-'));
    try {
      expect(resolveConfig(emptyDir, []).queue.maxSize).toBe(256);
    } finally {
      fs.rmSync(emptyDir, { recursive: true });
    }
    expect(environmentOf({ asyncInference: { maxConcurrentInvocationsPerInstance: 1000 } }).MAX_QUEUE_SIZE).toBe('1000');
    expect(environmentOf({ asyncInference: { maxConcurrentInvocationsPerInstance: 257 } }).MAX_QUEUE_SIZE).toBe('257');
    expect(environmentOf({ asyncInference: { maxConcurrentInvocationsPerInstance: 256 } }).MAX_QUEUE_SIZE).toBeUndefined();
    expect(environmentOf({ asyncInference: {} }).MAX_QUEUE_SIZE).toBeUndefined();
    // the user's own value stays
    expect(environmentOf({ asyncInference: { maxConcurrentInvocationsPerInstance: 500 }, environment: { MAX_QUEUE_SIZE: '2000' } }).MAX_QUEUE_SIZE).toBe('2000');
    // another image keeps its own contract
    expect(environmentOf({ asyncInference: { maxConcurrentInvocationsPerInstance: 500 }, image: ContainerImage.fromImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1') })?.MAX_QUEUE_SIZE).toBeUndefined();
  });

  test('writes results and failures to the bucket with the key, notifies both topics', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      AsyncInferenceConfig: {
        OutputConfig: {
          S3OutputPath: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('EndpointBucket') }, '/async-output']] },
          S3FailurePath: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('EndpointBucket') }, '/async-failures']] },
          KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointKey'), 'Arn'] },
          NotificationConfig: { SuccessTopic: { Ref: Match.stringLikeRegexp('Success') }, ErrorTopic: { Ref: Match.stringLikeRegexp('Failure') } },
        },
        ClientConfig: { MaxConcurrentInvocationsPerInstance: 4 },
      },
    });
  });

  test('the role writes results, reads requests from its prefix and publishes to the two topics only', () => {
    // Large results are written in parts: an interrupted upload must be abortable.
    expect(statement(template, 'WriteAsyncResults').Action).toEqual(['s3:PutObject', 's3:AbortMultipartUpload']);
    expect(statement(template, 'ReadAsyncRequests').Action).toEqual('s3:GetObject');
    expect(JSON.stringify(statement(template, 'WriteAsyncResults').Resource)).toMatch(/async-output\/\*.*async-failures\/\*/);
    expect(JSON.stringify(statement(template, 'ReadAsyncRequests').Resource)).toContain('/async-input/*');
    expect(statement(template, 'NotifyAsync')).toMatchObject({
      Action: 'sns:Publish',
      Resource: [{ Ref: expect.stringMatching(/Success/) }, { Ref: expect.stringMatching(/Failure/) }],
    });
  });
});

describe('asynchronous inference with encrypted topics', () => {
  test('the role may use the topics\' keys to publish (SNS encrypts each message with the publisher\'s permissions)', () => {
    const { stack } = newStack();
    const topicKey = new kms.Key(stack, 'TopicKey');
    const success = new sns.Topic(stack, 'Success', { enforceSSL: true, masterKey: topicKey });
    const failure = new sns.Topic(stack, 'Failure', { enforceSSL: true, masterKey: topicKey });
    newEndpoint(stack, { asyncInference: { successTopic: success, errorTopic: failure } });
    expect(statement(Template.fromStack(stack), 'NotifyAsyncEncrypted')).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/TopicKey/), 'Arn'] },
    });
  });

  test('unencrypted topics add no key permission', () => {
    const { stack } = newStack();
    newEndpoint(stack, { asyncInference: { successTopic: new sns.Topic(stack, 'Success', { enforceSSL: true }) } });
    expect(executionStatements(Template.fromStack(stack)).map((s) => s.Sid)).not.toContain('NotifyAsyncEncrypted');
  });
});

describe('asynchronous inference with prefixes of one\'s own', () => {
  test('results, failures and requests use them, in the configuration and in the role\'s limits', () => {
    const { stack } = newStack();
    newEndpoint(stack, { asyncInference: { outputPrefix: 'out', failurePrefix: 'failed', inputPrefix: 'in' } });
    const template = Template.fromStack(stack);
    const bucketUri = (prefix: string) => ({ 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('EndpointBucket') }, `/${prefix}`]] });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      AsyncInferenceConfig: { OutputConfig: Match.objectLike({ S3OutputPath: bucketUri('out'), S3FailurePath: bucketUri('failed'), NotificationConfig: Match.absent() }) },
    });
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/EndpointBucket/), 'Arn'] }, `/${prefix}/*`]] });
    expect(statement(template, 'WriteAsyncResults').Resource).toEqual([objects('out'), objects('failed')]);
    expect(statement(template, 'ReadAsyncRequests').Resource).toEqual(objects('in'));
    expect(executionStatements(template).map((s) => s.Sid)).not.toContain('NotifyAsync');
  });
});

describe('security', () => {
  test('a given key, role and bucket are used instead of new ones, and the policy is attached to the role', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const role = new iam.Role(stack, 'MyRole', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    const bucket = new s3.Bucket(stack, 'MyBucket', { enforceSSL: true });
    newEndpoint(stack, { encryptionKey: key, role, bucket, dataCapture: {} });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('MyKey'), 'Arn'] } });
    template.hasResourceProperties('AWS::SageMaker::Model', { ExecutionRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('MyRole'), 'Arn'] } });
    template.hasResourceProperties('AWS::IAM::Policy', { PolicyName: Match.stringLikeRegexp('ExecutionPolicy'), Roles: [{ Ref: Match.stringLikeRegexp('MyRole') }] });
  });

  test('a given bucket encrypted with its own key: the role may use that key to read requests and write results there', () => {
    const { stack } = newStack();
    const bucketKey = new kms.Key(stack, 'BucketKey', { enableKeyRotation: true });
    const bucket = new s3.Bucket(stack, 'MyBucket', { enforceSSL: true, encryptionKey: bucketKey });
    newEndpoint(stack, { bucket, asyncInference: {}, dataCapture: {} });
    expect(statement(Template.fromStack(stack), 'UseBucketKey')).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/BucketKey/), 'Arn'] },
    });
  });

  test('the created bucket uses the endpoint key: no second key statement', () => {
    const { stack } = newStack();
    newEndpoint(stack, { asyncInference: {} });
    expect(executionStatements(Template.fromStack(stack)).map((s) => s.Sid)).not.toContain('UseBucketKey');
  });

  test('a role imported with mutable: false is used and left unchanged', () => {
    const { stack } = newStack();
    const role = iam.Role.fromRoleArn(stack, 'Given', 'arn:aws:iam::123456789012:role/sagemaker-execution', { mutable: false });
    newEndpoint(stack, { role });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.hasResourceProperties('AWS::SageMaker::Model', { ExecutionRoleArn: 'arn:aws:iam::123456789012:role/sagemaker-execution' });
  });

  test('in a VPC: private subnets, an HTTPS-only security group and network-interface permissions', () => {
    const { stack } = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    newEndpoint(stack, { vpc });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      VpcConfig: {
        Subnets: [{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet1') }, { Ref: Match.stringLikeRegexp('VpcPrivateSubnet2') }],
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointSecurityGroup'), 'GroupId'] }],
      },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('outbound HTTPS only'),
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
      SecurityGroupIngress: Match.absent(),
    });
    // What SageMaker needs to attach containers to a VPC (CreateNetworkInterfacePermission included), and nothing more.
    expect(statement(template, 'AttachToVpc')).toMatchObject({
      Action: [
        'ec2:CreateNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface',
        'ec2:DeleteNetworkInterfacePermission', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs',
        'ec2:DescribeDhcpOptions', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups',
      ],
      Resource: '*',
    });
  });

  test('network isolation can be turned off', () => {
    const { stack } = newStack();
    newEndpoint(stack, { networkIsolation: false });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Model', { EnableNetworkIsolation: false });
  });

  test('the environment reaches the container', () => {
    const { stack } = newStack();
    newEndpoint(stack, { environment: { SERVING_MAX_BATCH_SIZE: '16' } });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Model', { PrimaryContainer: Match.objectLike({ Environment: { SERVING_MAX_BATCH_SIZE: '16' } }) });
  });
});

describe('rollout and alarms', () => {
  test('a linear rollout with termination wait and an extra rollback alarm', () => {
    const { stack } = newStack();
    const extra = cloudwatch.Alarm.fromAlarmName(stack, 'Extra', 'business-kpi');
    newEndpoint(stack, { variants: twoInstances(), rollout: RolloutStrategy.linear({ stepSize: TrafficSize.percent(25), bakeTime: Duration.minutes(2), terminationWait: Duration.minutes(10), maximumExecutionTimeout: Duration.hours(1), rollbackAlarms: [extra] }) });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 25 }, WaitIntervalInSeconds: 120, CanarySize: Match.absent() },
          TerminationWaitInSeconds: 600,
          MaximumExecutionTimeoutInSeconds: 3600,
        },
        AutoRollbackConfiguration: { Alarms: Match.arrayWith([{ AlarmName: 'business-kpi' }]) },
      },
    });
  });

  test('a composite rollback alarm fails naming it: SageMaker is not documented to read composite alarms, and the role may not list them', () => {
    const { stack } = newStack();
    const metric = new cloudwatch.Alarm(stack, 'Errors', { metric: new cloudwatch.Metric({ namespace: 'AWS/SageMaker', metricName: 'Invocation5XXErrors' }), threshold: 1, evaluationPeriods: 1 });
    const composite = new cloudwatch.CompositeAlarm(stack, 'Kpi', { alarmRule: cloudwatch.AlarmRule.anyOf(metric) });
    expect(() => newEndpoint(stack, { rollout: RolloutStrategy.canary({ rollbackAlarms: [composite] }) }))
      .toThrow(/'rollout\.rollbackAlarms' \("TestStack\/Kpi"\) is a composite alarm, which SageMaker is not documented to read as a rollback alarm.*: pass the metric alarms it combines instead/);
    const endpoint = newEndpoint(stack, {}, 'Other');
    expect(() => endpoint.addRollbackAlarm(composite)).toThrow(/'addRollbackAlarm' \("TestStack\/Kpi"\) is a composite alarm/);
    endpoint.addRollbackAlarm(metric); // the metric alarm itself is accepted
  });

  test('a rollback alarm from another region or account fails: SageMaker looks rollback alarms up by name in the endpoint\'s own', () => {
    const env = { account: '111111111111', region: 'eu-west-1' };
    const { stack } = newStack({ env });
    const otherRegion = cloudwatch.Alarm.fromAlarmArn(stack, 'OtherRegion', 'arn:aws:cloudwatch:us-east-1:111111111111:alarm:business-kpi');
    expect(() => newEndpoint(stack, { rollout: RolloutStrategy.canary({ rollbackAlarms: [otherRegion] }) }))
      .toThrow(/'rollout\.rollbackAlarms' \("arn:aws:cloudwatch:us-east-1:111111111111:alarm:business-kpi"\) must be an alarm in the endpoint's account and region \(111111111111, eu-west-1\)/);
    const endpoint = newEndpoint(stack, {}, 'Other');
    const otherAccount = cloudwatch.Alarm.fromAlarmArn(stack, 'OtherAccount', 'arn:aws:cloudwatch:eu-west-1:222222222222:alarm:business-kpi');
    expect(() => endpoint.addRollbackAlarm(otherAccount)).toThrow(/'addRollbackAlarm' \(.*222222222222.*\) must be an alarm in the endpoint's account and region/);
    // Same account and region, by ARN or by name: accepted.
    endpoint.addRollbackAlarm(cloudwatch.Alarm.fromAlarmArn(stack, 'Local', 'arn:aws:cloudwatch:eu-west-1:111111111111:alarm:business-kpi'));
    endpoint.addRollbackAlarm(cloudwatch.Alarm.fromAlarmName(stack, 'ByName', 'latency-kpi'));
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: Match.objectLike({ AutoRollbackConfiguration: { Alarms: Match.arrayWith([{ AlarmName: 'business-kpi' }, { AlarmName: 'latency-kpi' }]) } }),
    });
  });

  test('an alarm given twice is a rollback alarm once: CloudFormation takes each alarm name once, and the 10 count distinct alarms', () => {
    const { stack } = newStack();
    const kpi = cloudwatch.Alarm.fromAlarmName(stack, 'Kpi', 'business-kpi');
    const endpoint = newEndpoint(stack, { variants: twoInstances(), rollout: RolloutStrategy.canary({ rollbackAlarms: [kpi, kpi] }) });
    endpoint.addRollbackAlarm(kpi);
    endpoint.addRollbackAlarm(cloudwatch.Alarm.fromAlarmName(stack, 'KpiAgain', 'business-kpi'));
    const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::SageMaker::Endpoint'));
    const names: string[] = resource.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms.map((a: { AlarmName: unknown }) => JSON.stringify(a.AlarmName));
    expect(names).toHaveLength(3);
    expect(new Set(names).size).toBe(3);
    // Eight distinct alarms beside the two default ones, one of them given twice, are ten alarms: allowed.
    const { stack: ten } = newStack();
    const eight = Array.from({ length: 8 }, (_, i) => cloudwatch.Alarm.fromAlarmName(ten, `A${i}`, `alarm-${i}`));
    expect(newEndpoint(ten, { variants: twoInstances(), rollout: RolloutStrategy.canary({ rollbackAlarms: [...eight, eight[0]] }) }).node.validate()).toEqual([]);
  });

  test('a rolling update through the escape hatch replaces the blue/green policy: SageMaker takes one update policy', () => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_M5_LARGE, initialInstanceCount: 4 })] });
    const cfn = endpoint.node.defaultChild as CfnResource;
    cfn.addPropertyOverride('DeploymentConfig.RollingUpdatePolicy', {
      MaximumBatchSize: { Type: 'CAPACITY_PERCENT', Value: 25 }, WaitIntervalInSeconds: 300, RollbackMaximumBatchSize: { Type: 'CAPACITY_PERCENT', Value: 100 },
    });
    cfn.addPropertyDeletionOverride('DeploymentConfig.BlueGreenUpdatePolicy');
    const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::SageMaker::Endpoint'));
    expect(Object.keys(resource.Properties.DeploymentConfig).sort()).toEqual(['AutoRollbackConfiguration', 'RollingUpdatePolicy']);
    expect(resource.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms).toHaveLength(2);
  });

  test('by default, two instances roll out by a 10% canary baking 5 minutes; autoscaled down to one, all at once with a 5-minute baking period', () => {
    const policy = (scale?: { minCapacity: number }) => {
      const { stack } = newStack();
      const endpoint = newEndpoint(stack, { variants: twoInstances() });
      if (scale) endpoint.autoScale({ ...scale, maxCapacity: 4 });
      const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::SageMaker::Endpoint'));
      return resource.Properties.DeploymentConfig.BlueGreenUpdatePolicy;
    };
    expect(policy()).toEqual({ TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 }, WaitIntervalInSeconds: 300 } });
    expect(policy({ minCapacity: 2 }).TrafficRoutingConfiguration.Type).toEqual('CANARY');
    // An update keeps the autoscaled count, which can then be one instance.
    expect(policy({ minCapacity: 1 })).toEqual({ TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, TerminationWaitInSeconds: 300 });
  });

  test('a linear rollout defaults to 20% steps baking 5 minutes between them', () => {
    const { stack } = newStack();
    newEndpoint(stack, { variants: twoInstances(), rollout: RolloutStrategy.linear() });
    const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::SageMaker::Endpoint'));
    expect(resource.Properties.DeploymentConfig.BlueGreenUpdatePolicy).toEqual({
      TrafficRoutingConfiguration: { Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 20 }, WaitIntervalInSeconds: 300 },
    });
  });

  test('a scheduled action that lets an autoscaled variant down to one instance makes the default all at once, and an explicit canary fails naming it', () => {
    // A scheduled action sets the scalable target's bounds until the next one: off hours the count can be one.
    const policy = (schedule: (s: ReturnType<ModelEndpoint['autoScale']>) => void, rollout?: RolloutStrategy) => {
      const { stack } = newStack();
      const endpoint = newEndpoint(stack, { variants: twoInstances(), rollout });
      schedule(endpoint.autoScale({ minCapacity: 2, maxCapacity: 8 }));
      const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::SageMaker::Endpoint'));
      return resource.Properties.DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.Type;
    };
    const night = appscaling.Schedule.cron({ hour: '22', minute: '0' });
    expect(policy((s) => s.scaleForBusinessHours('Office', { minCapacity: 4, offHoursMinCapacity: 1 }))).toEqual('ALL_AT_ONCE');
    expect(policy((s) => s.scaleOnSchedule('Night', { schedule: night, minCapacity: 1 }))).toEqual('ALL_AT_ONCE');
    expect(policy((s) => s.scaleOnSchedule('Night', { schedule: night, maxCapacity: 1 }))).toEqual('ALL_AT_ONCE');
    // Floors of two or more keep the canary.
    expect(policy((s) => s.scaleForBusinessHours('Office', { minCapacity: 4 }))).toEqual('CANARY');
    expect(policy((s) => s.scaleOnSchedule('Night', { schedule: night, minCapacity: 2, maxCapacity: 2 }))).toEqual('CANARY');
    expect(() => policy((s) => s.scaleOnSchedule('Night', { schedule: night, minCapacity: 1 }), RolloutStrategy.canary()))
      .toThrow(/'rollout' \(canary\) needs at least 2 instances .* 'variants\[0\]' \('AllTraffic'\) can have 1 \(a scheduled scaling action's minCapacity or maxCapacity\).*Raise the scheduled actions' minCapacity and maxCapacity to 2/);
  });

  test('a canary or linear rollout of a one-instance variant fails at synthesis, naming the variant: SageMaker\'s canary is at most half the instances', () => {
    const { stack } = newStack();
    newEndpoint(stack, { rollout: RolloutStrategy.canary() });
    expect(() => Template.fromStack(stack)).toThrow(/'rollout' \(canary\) needs at least 2 instances in every variant when an update starts, and 'variants\[0\]' \('AllTraffic'\) can have 1 \(its initialInstanceCount\).*Raise initialInstanceCount to 2, or use RolloutStrategy\.allAtOnce/);
    // Autoscaled down to one instance: named as minCapacity.
    const { stack: scaled } = newStack();
    const variants = [EndpointVariant.instance({ instanceType: G5, initialInstanceCount: 2, variantName: 'blue' }), EndpointVariant.instance({ instanceType: G5, initialInstanceCount: 4, variantName: 'green' })];
    const endpoint = newEndpoint(scaled, { variants, rollout: RolloutStrategy.linear({ stepSize: TrafficSize.percent(50) }) });
    endpoint.autoScale({ variantName: 'green', minCapacity: 1, maxCapacity: 4 });
    expect(() => Template.fromStack(scaled)).toThrow(/'rollout' \(linear\) needs at least 2 instances .* 'variants\[1\]' \('green'\) can have 1 \(its autoscaling 'minCapacity'\).*linear step is at most 50%.*Raise minCapacity to 2/);
    // All at once has no steps: allowed on one instance.
    const { stack: once } = newStack();
    newEndpoint(once, { rollout: RolloutStrategy.allAtOnce({ terminationWait: Duration.minutes(10) }) });
    expect(() => Template.fromStack(once)).not.toThrow();
  });

  test('a rollback alarm ARN with tokens in it is checked on its literal account and region, and left alone where they are tokens', () => {
    const env = { account: '111111111111', region: 'eu-west-1' };
    const { stack } = newStack({ env });
    // Literal region, token account and partition: the region is still checked.
    const otherRegion = cloudwatch.Alarm.fromAlarmArn(stack, 'OtherRegion', `arn:${Aws.PARTITION}:cloudwatch:us-east-1:${Aws.ACCOUNT_ID}:alarm:business-kpi`);
    let message = '';
    try {
      newEndpoint(stack, { rollout: RolloutStrategy.canary({ rollbackAlarms: [otherRegion] }) });
    } catch (e) {
      message = String(e);
    }
    expect(message).toMatch(/'rollout\.rollbackAlarms' \("arn:<token>:cloudwatch:us-east-1:<token>:alarm:business-kpi"\) must be an alarm in the endpoint's account and region \(111111111111, eu-west-1\)/);
    // Literal account, token region: the account is still checked.
    const endpoint = newEndpoint(stack, {}, 'Other');
    const otherAccount = cloudwatch.Alarm.fromAlarmArn(stack, 'OtherAccount', `arn:aws:cloudwatch:${Aws.REGION}:222222222222:alarm:business-kpi`);
    expect(() => endpoint.addRollbackAlarm(otherAccount)).toThrow(/'addRollbackAlarm' \("arn:aws:cloudwatch:<token>:222222222222:alarm:business-kpi"\) must be an alarm in the endpoint's account and region/);
    // Tokens where the account and region go, or a whole ARN from a parameter: nothing to check, accepted.
    endpoint.addRollbackAlarm(cloudwatch.Alarm.fromAlarmArn(stack, 'Pseudo', `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:latency-kpi`));
    endpoint.addRollbackAlarm(cloudwatch.Alarm.fromAlarmArn(stack, 'Param', new CfnParameter(stack, 'AlarmArn').valueAsString));
    // Matching literals next to a token partition: accepted.
    endpoint.addRollbackAlarm(cloudwatch.Alarm.fromAlarmArn(stack, 'Local', `arn:${Aws.PARTITION}:cloudwatch:eu-west-1:111111111111:alarm:cost-kpi`));
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('a rollback alarm from another region, in a stack with a region but no account, fails naming the region only', () => {
    const { stack } = newStack({ env: { region: 'eu-west-1' } });
    const otherRegion = cloudwatch.Alarm.fromAlarmArn(stack, 'OtherRegion', 'arn:aws:cloudwatch:us-east-1:111111111111:alarm:business-kpi');
    let message = '';
    try {
      newEndpoint(stack, { rollout: RolloutStrategy.canary({ rollbackAlarms: [otherRegion] }) });
    } catch (e) {
      message = String(e);
    }
    expect(message).toMatch(/must be an alarm in the endpoint's account and region \(region eu-west-1\)/);
    expect(message).not.toMatch(/Token\[/);
  });

  test('a bake time shorter than the default alarms need to fire gets a warning: SageMaker watches them only while a step bakes', () => {
    const warnings = (overrides: Parameters<typeof newEndpoint>[1]) => {
      const { stack } = newStack();
      newEndpoint(stack, { variants: twoInstances(), ...overrides });
      return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('bakeTimeShorterThanAlarms'));
    };
    const short = warnings({ rollout: RolloutStrategy.canary({ bakeTime: Duration.minutes(1) }) });
    expect(short).toHaveLength(1);
    expect(short[0].entry.data).toMatch(/the bakeTime \(60 seconds\) is shorter than the default alarms need to fire \(2 breaching one-minute datapoints, 120 seconds\)/);
    expect(warnings({ rollout: RolloutStrategy.linear({ bakeTime: Duration.seconds(0) }) })).toHaveLength(1);
    expect(warnings({ rollout: RolloutStrategy.canary({ bakeTime: Duration.minutes(1) }), alarms: { evaluationPeriods: 1, datapointsToAlarm: 1 } })).toHaveLength(0);
    expect(warnings({ rollout: RolloutStrategy.canary({ bakeTime: Duration.minutes(2) }) })).toHaveLength(0);
    expect(warnings({})).toHaveLength(0);
    expect(warnings({ rollout: RolloutStrategy.allAtOnce({ terminationWait: Duration.minutes(2) }) })).toHaveLength(0);
    expect(warnings({ rollout: RolloutStrategy.canary({ bakeTime: Duration.seconds(0) }), alarms: { enabled: false } })).toHaveLength(0);
  });

  test('all at once maps terminationWait to TerminationWaitInSeconds, its baking period, and warns when that is shorter than the alarms need', () => {
    const { stack } = newStack();
    newEndpoint(stack, { rollout: RolloutStrategy.allAtOnce({ terminationWait: Duration.minutes(10), maximumExecutionTimeout: Duration.minutes(30) }) });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: Match.objectLike({
        BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, TerminationWaitInSeconds: 600, MaximumExecutionTimeoutInSeconds: 1800 },
      }),
    });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('bakeTimeShorterThanAlarms'));
    // Without a terminationWait there is no baking period: the default alarms can never roll the update back.
    const { stack: none } = newStack();
    newEndpoint(none, { rollout: RolloutStrategy.allAtOnce() });
    Template.fromStack(none);
    const found = Annotations.fromStack(none).findWarning('*', Match.stringLikeRegexp('bakeTimeShorterThanAlarms'));
    expect(found).toHaveLength(1);
    expect(found[0].entry.data).toMatch(/the terminationWait \(0 seconds\), all at once's baking period, is shorter than the default alarms need to fire \(2 breaching one-minute datapoints, 120 seconds\).*Set terminationWait to at least 120 seconds/);
  });

  test('all at once, with the default alarms switched off, renders no rollback alarms', () => {
    const { stack } = newStack();
    newEndpoint(stack, { rollout: RolloutStrategy.allAtOnce(), alarms: { enabled: false } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: {
        // SageMaker's TrafficRoutingConfig requires WaitIntervalInSeconds, all at once too.
        BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0, CanarySize: Match.absent(), LinearStepSize: Match.absent() } },
        AutoRollbackConfiguration: Match.absent(),
      },
    });
    // All at once says so: no warning that nothing rolls it back.
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('rolloutWithoutAlarms'));
  });

  test('an asynchronous endpoint gets no latency alarm unless its threshold is given: its requests may run for an hour', () => {
    const { stack } = newStack();
    newEndpoint(stack, { asyncInference: {} });
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'ModelLatency' }, 0);
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'Invocation5XXErrors' }, 1);
    // The error-rate alarm still rolls updates back.
    const [endpoint] = Object.values(template.findResources('AWS::SageMaker::Endpoint'));
    expect(JSON.stringify(endpoint.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms)).toMatch(/ErrorRateAlarm/);
    const { stack: chosen } = newStack();
    newEndpoint(chosen, { asyncInference: {}, alarms: { modelLatencyThreshold: Duration.minutes(5) } });
    Template.fromStack(chosen).hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ModelLatency', Threshold: 300_000_000 });
  });

  test('custom thresholds and an SNS action reach the alarms', () => {
    const { stack } = newStack();
    const topic = new sns.Topic(stack, 'Alerts', { enforceSSL: true });
    newEndpoint(stack, { alarms: { errorRateThreshold: 0.05, modelLatencyThreshold: Duration.millis(250), actions: [new cw_actions.SnsAction(topic)] } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Invocation5XXErrors', Threshold: 0.05, AlarmActions: [{ Ref: Match.stringLikeRegexp('Alerts') }] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ModelLatency', Threshold: 250_000, AlarmActions: [{ Ref: Match.stringLikeRegexp('Alerts') }] });
  });

  test('a canary on Inf1 instances warns that SageMaker falls back to all at once', () => {
    const { stack } = newStack();
    newEndpoint(stack, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.of('ml.inf1.xlarge'), initialInstanceCount: 2 })] });
    Annotations.fromStack(stack).hasWarning('/TestStack/Endpoint', Match.stringLikeRegexp('Inf1 instances.*falls back to all-at-once.*\\[ack: @ai-platform/serving:rolloutFallsBackOnInf1\\]'));
  });

  test('a serverless endpoint warns that SageMaker applies no deployment guardrails to it: no canary, no rollback on the alarms', () => {
    // "Deployment guardrails only apply to Asynchronous inference and Real-time inference endpoint types"
    // (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails.html).
    const { stack } = newStack();
    newEndpoint(stack, { variants: [EndpointVariant.serverless()] });
    Template.fromStack(stack);
    Annotations.fromStack(stack).hasWarning('/TestStack/Endpoint',
      Match.stringLikeRegexp('serverless.*deployment guardrails only for real-time and asynchronous endpoints.*canary rollout.*rollback alarms.*\\[ack: @ai-platform/serving:noGuardrailsOnServerless\\]'));
  });

  test('an instance endpoint gets no serverless guardrails warning', () => {
    const { stack } = newStack();
    newEndpoint(stack, { variants: twoInstances() });
    Template.fromStack(stack);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('noGuardrailsOnServerless'));
  });

  test('on Inf1 instances, all at once without a terminationWait gets no warning to set one: SageMaker gives Inf1 no baking period', () => {
    // Deployment guardrails exclusions: on Inf1 an update is all at once "and no final baking period", so a
    // terminationWait would change nothing; the Inf1 warning itself advises allAtOnce() there.
    const { stack } = newStack();
    newEndpoint(stack, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.of('ml.inf1.xlarge') })], rollout: RolloutStrategy.allAtOnce() });
    Template.fromStack(stack);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('bakeTimeShorterThanAlarms'));
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('rolloutFallsBackOnInf1'));
  });

  test('a canary without any alarm warns that nothing rolls it back', () => {
    const { stack } = newStack();
    newEndpoint(stack, { variants: twoInstances(), alarms: { enabled: false } });
    Template.fromStack(stack);
    Annotations.fromStack(stack).hasWarning('/TestStack/Endpoint', Match.stringLikeRegexp('canary rollout has no alarms to watch.*\\[ack: @ai-platform/serving:rolloutWithoutAlarms\\]'));
  });

  test('a rollback alarm added after construction silences that warning', () => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack, { alarms: { enabled: false } });
    endpoint.addRollbackAlarm(cloudwatch.Alarm.fromAlarmName(stack, 'Kpi', 'kpi'));
    Template.fromStack(stack);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('rolloutWithoutAlarms'));
  });

  test('addRollbackAlarm adds an alarm after construction', () => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack, { alarms: { enabled: false } });
    endpoint.addRollbackAlarm(new cloudwatch.Alarm(stack, 'Cpu', { metric: endpoint.metricCpuUtilization(), threshold: 90, evaluationPeriods: 1 }));
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: { AutoRollbackConfiguration: { Alarms: [{ AlarmName: { Ref: Match.stringLikeRegexp('Cpu') } }] } },
    });
  });

  test('the role may read every rollback alarm: those of the strategy and those added later', () => {
    const { stack } = newStack();
    const kpi = cloudwatch.Alarm.fromAlarmName(stack, 'Kpi', 'business-kpi');
    const endpoint = newEndpoint(stack, { variants: twoInstances(), alarms: { enabled: false }, rollout: RolloutStrategy.canary({ rollbackAlarms: [kpi] }) });
    endpoint.addRollbackAlarm(new cloudwatch.Alarm(stack, 'Cpu', { metric: endpoint.metricCpuUtilization(), threshold: 90, evaluationPeriods: 1 }));
    const template = Template.fromStack(stack);
    expect(statement(template, 'ReadRollbackAlarms').Action).toEqual('cloudwatch:DescribeAlarms');
    const resources = JSON.stringify(statement(template, 'ReadRollbackAlarms').Resource);
    expect(resources).toContain(':alarm:business-kpi');
    expect(resources).toMatch(/"Cpu[0-9A-F]+","Arn"/);
  });

  test('without rollback alarms the role gets no alarm permission', () => {
    const { stack } = newStack();
    newEndpoint(stack, { alarms: { enabled: false }, rollout: RolloutStrategy.allAtOnce() });
    expect(executionStatements(Template.fromStack(stack)).map((s) => s.Sid)).not.toContain('ReadRollbackAlarms');
  });
});

describe('grants and metrics', () => {
  test('grantInvoke allows InvokeEndpoint and InvokeEndpointAsync on this endpoint only', () => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack);
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}') });
    endpoint.grantInvoke(fn);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('FnServiceRole') }],
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointAsync'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('Endpoint[0-9A-F]{8}$'), 'EndpointArn'] } }] },
    });
  });

  test('on an asynchronous endpoint grantInvoke also allows uploading requests and reading results, with their keys', () => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack, { asyncInference: { inputPrefix: 'in', outputPrefix: 'out' } });
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    endpoint.grantInvoke(role);
    const template = Template.fromStack(stack);
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }] } });
    const statements = Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement);
    const bucket = Object.keys(template.findResources('AWS::S3::Bucket')).find((id) => id.startsWith('EndpointBucket'))!;
    const key = Object.keys(template.findResources('AWS::KMS::Key'))[0];
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointAsync'] }),
      expect.objectContaining({ Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/in/*']] } }),
      expect.objectContaining({
        Action: 's3:GetObject',
        Resource: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/out/*']] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/async-failures/*']] }],
      }),
      expect.objectContaining({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: { 'Fn::GetAtt': [key, 'Arn'] } }),
      // Polling for a result not yet written must get 404 (S3 gives 403 without list permission), limited to the result prefixes.
      expect.objectContaining({
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [bucket, 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['out/*', 'async-failures/*'] } },
      }),
    ]));
    expect(statements.filter((st) => JSON.stringify(st).includes('s3:List'))).toHaveLength(1);
    expect(statements.filter((st) => JSON.stringify(st).includes('kms:'))).toHaveLength(1); // the bucket's key is the endpoint key
  });

  test('grantInvoke on a real-time endpoint with data capture grants nothing on the bucket', () => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack, { dataCapture: {} });
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    endpoint.grantInvoke(role);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }] } });
    expect(JSON.stringify(policies)).not.toMatch(/s3:|kms:/);
  });

  test('grantInvoke on an asynchronous endpoint with a given bucket uses the bucket\'s key for uploads and the endpoint key for results', () => {
    const { stack } = newStack();
    const bucketKey = new kms.Key(stack, 'BucketKey');
    const bucket = new s3.Bucket(stack, 'Given', { encryption: s3.BucketEncryption.KMS, encryptionKey: bucketKey, enforceSSL: true });
    const endpointKey = new kms.Key(stack, 'EndpointKey');
    const endpoint = newEndpoint(stack, { asyncInference: {}, bucket, encryptionKey: endpointKey });
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    endpoint.grantInvoke(role);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }] } });
    const statements = Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement);
    const keyStatements = statements.filter((s) => JSON.stringify(s).includes('kms:'));
    expect(keyStatements).toEqual([
      expect.objectContaining({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^BucketKey/), 'Arn'] } }),
      expect.objectContaining({ Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^EndpointKey/), 'Arn'] } }),
    ]);
  });

  test.each([
    ['metricInvocations', 'AWS/SageMaker', 'Invocations', 'Sum'],
    ['metricInvocationsPerInstance', 'AWS/SageMaker', 'InvocationsPerInstance', 'Sum'],
    ['metricModelLatency', 'AWS/SageMaker', 'ModelLatency', 'Average'],
    ['metricOverheadLatency', 'AWS/SageMaker', 'OverheadLatency', 'Average'],
    ['metricInvocation4xxErrors', 'AWS/SageMaker', 'Invocation4XXErrors', 'Sum'],
    ['metricInvocation5xxErrors', 'AWS/SageMaker', 'Invocation5XXErrors', 'Sum'],
    ['metricCpuUtilization', '/aws/sagemaker/Endpoints', 'CPUUtilization', 'Average'],
    ['metricMemoryUtilization', '/aws/sagemaker/Endpoints', 'MemoryUtilization', 'Average'],
    ['metricDiskUtilization', '/aws/sagemaker/Endpoints', 'DiskUtilization', 'Average'],
    ['metricGpuUtilization', '/aws/sagemaker/Endpoints', 'GPUUtilization', 'Average'],
    ['metricGpuMemoryUtilization', '/aws/sagemaker/Endpoints', 'GPUMemoryUtilization', 'Average'],
  ] as const)('%s is %s %s (%s) for EndpointName and VariantName', (method, namespace, metricName, statistic) => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack);
    const metric = endpoint[method]();
    expect(metric.namespace).toBe(namespace);
    expect(metric.metricName).toBe(metricName);
    expect(metric.statistic).toBe(statistic);
    expect(metric.dimensions).toEqual({ EndpointName: endpoint.endpointName, VariantName: 'AllTraffic' });
  });

  test('the autoscaling and backlog metrics default to 1-minute periods, the others to 5 minutes, and a given period wins', () => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack, { asyncInference: {} });
    expect(endpoint.metricInvocationsPerInstance().period.toSeconds()).toBe(60);
    expect(endpoint.metricBacklogSizePerInstance().period.toSeconds()).toBe(60);
    expect(endpoint.metricHasBacklogWithoutCapacity().period.toSeconds()).toBe(60);
    expect(endpoint.metricInvocations().period.toSeconds()).toBe(300);
    expect(endpoint.metricInvocationsPerInstance({ period: Duration.minutes(5) }).period.toSeconds()).toBe(300);
  });

  test('dimensions given in a metric\'s options are added to EndpointName and VariantName', () => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack);
    expect(endpoint.metricGpuUtilization({ dimensionsMap: { Host: 'i-1' } }).dimensions)
      .toEqual({ EndpointName: endpoint.endpointName, VariantName: 'AllTraffic', Host: 'i-1' });
  });

  test('a metric of another variant carries its name', () => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack);
    expect(endpoint.metricModelLatency({ variantName: 'shadow' }).dimensions).toEqual({ EndpointName: endpoint.endpointName, VariantName: 'shadow' });
  });

  test('backlog metrics have only the EndpointName dimension', () => {
    const { stack } = newStack();
    const endpoint = newEndpoint(stack, { asyncInference: {} });
    expect(endpoint.metricBacklogSizePerInstance()).toMatchObject({ namespace: 'AWS/SageMaker', metricName: 'ApproximateBacklogSizePerInstance', statistic: 'Average', dimensions: { EndpointName: endpoint.endpointName } });
    expect(endpoint.metricHasBacklogWithoutCapacity()).toMatchObject({ metricName: 'HasBacklogWithoutCapacity', statistic: 'Maximum', dimensions: { EndpointName: endpoint.endpointName } });
  });
});

describe('imports', () => {
  test('fromEndpointName builds a lower-case ARN and grants invoke on it', () => {
    const { stack } = newStack({ env: { account: '123456789012', region: 'eu-west-1' } });
    const endpoint = ModelEndpoint.fromEndpointName(stack, 'Imported', 'Fraud-Prod');
    expect(stack.resolve(endpoint.endpointArn)).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:eu-west-1:123456789012:endpoint/fraud-prod']] });
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    endpoint.grantInvoke(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointAsync'], Resource: { 'Fn::Join': ['', Match.arrayWith([':sagemaker:eu-west-1:123456789012:endpoint/fraud-prod'])] } })] },
    });
  });

  test('fromEndpointAttributes metrics use the given name and variant', () => {
    const { stack } = newStack();
    const endpoint = ModelEndpoint.fromEndpointAttributes(stack, 'Imported', { endpointName: 'Fraud-Prod', defaultVariantName: 'blue' });
    expect(endpoint.metricInvocations().dimensions).toEqual({ EndpointName: 'Fraud-Prod', VariantName: 'blue' });
    expect(ModelEndpoint.fromEndpointName(stack, 'Plain', 'x').defaultVariantName).toBe('AllTraffic');
  });
});

describe('model sources', () => {
  test('an uncompressed prefix in a bucket uses ModelDataSource and a prefix-limited list permission', () => {
    const { stack } = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Models', 'model-bucket');
    newEndpoint(stack, { modelData: ModelData.fromBucket(bucket, 'fraud/v3/') });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: Match.objectLike({
        ModelDataUrl: Match.absent(),
        ModelDataSource: { S3DataSource: { S3Uri: 's3://model-bucket/fraud/v3/', S3DataType: 'S3Prefix', CompressionType: 'None' } },
      }),
    });
    const statements = executionStatements(template);
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 's3:GetObject', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::model-bucket/fraud/v3/*']] } }),
      expect.objectContaining({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': ['fraud/v3/*'] } } }),
    ]));
  });

  test('an archive in a bucket is read as that one object: s3:GetObject on its key, with no wildcard and no list permission', () => {
    const { stack } = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Models', 'model-bucket');
    newEndpoint(stack, { modelData: ModelData.fromBucket(bucket, 'fraud/model.tar.gz') });
    const statements = executionStatements(Template.fromStack(stack));
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Sid: 'ReadModel', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::model-bucket/fraud/model.tar.gz']] } }),
    ]));
    expect(statements).not.toEqual(expect.arrayContaining([expect.objectContaining({ Action: 's3:ListBucket' })]));
  });

  test('an archive in a KMS-encrypted bucket adds decrypt on that key only', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'BucketKey', { enableKeyRotation: true });
    const bucket = new s3.Bucket(stack, 'Models', { encryptionKey: key, enforceSSL: true });
    newEndpoint(stack, { modelData: ModelData.fromBucket(bucket, 'fraud/model.tar.gz') });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: Match.objectLike({ ModelDataUrl: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('Models') }, '/fraud/model.tar.gz']] } }),
    });
    expect(executionStatements(template)).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [expect.stringMatching(/BucketKey/), 'Arn'] } }),
    ]));
  });
});

describe('from a JavaScript caller (no type checking)', () => {
  test('a ModelEndpoint without props, or with modelData or variants of another kind, fails naming the prop instead of a TypeError', () => {
    const { stack } = newStack();
    expect(() => new ModelEndpoint(stack, 'NoProps', undefined as unknown as ModelEndpointProps))
      .toThrow(/^\[TestStack\/NoProps\] 'modelData' \(undefined\) is required: a ModelData \(the model artifacts\): pass ModelData.fromAsset/);
    expect(() => new ModelEndpoint(stack, 'Uri', { modelData: 's3://bucket/model.tar.gz' } as unknown as ModelEndpointProps))
      .toThrow(/^\[TestStack\/Uri\] 'modelData' \("s3:\/\/bucket\/model.tar.gz"\) must be a ModelData /);
    expect(() => newEndpoint(stack, { variants: 'AllTraffic' as unknown as EndpointVariant[] }, 'Variants'))
      .toThrow(/^\[TestStack\/Variants\] 'variants' \("AllTraffic"\) must be an array of EndpointVariant/);
    expect(() => newEndpoint(stack, { variants: [{ instanceType: 'ml.m5.large' }] as unknown as EndpointVariant[] }, 'Plain'))
      .toThrow(/^\[TestStack\/Plain\] 'variants\[0\]' \(\{"instanceType":"ml.m5.large"\}\) must be an EndpointVariant: make it with EndpointVariant.instance/);
  });

  test('EndpointVariant.instance without an instance type, or with a name instead of one, fails naming instanceType', () => {
    type Options = Parameters<typeof EndpointVariant.instance>[0];
    expect(() => EndpointVariant.instance({} as unknown as Options))
      .toThrow(/^'instanceType' \(undefined\) is required: an EndpointInstanceType, /);
    expect(() => EndpointVariant.instance({ instanceType: 'ml.m5.large' } as unknown as Options))
      .toThrow(/^'instanceType' \("ml.m5.large"\) must be an EndpointInstanceType, /);
  });

  test('EndpointInstanceType.gpu without a catalog type, and autoScale without options, fail naming what is missing', () => {
    expect(() => EndpointInstanceType.gpu(undefined as unknown as GpuInstanceType))
      .toThrow(/^'type' \(undefined\) must be a GpuInstanceType from the catalog, such as GpuInstanceType.G5_XLARGE$/);
    expect(() => EndpointInstanceType.gpu('g5.xlarge' as unknown as GpuInstanceType))
      .toThrow(/^'type' \("g5.xlarge"\) must be a GpuInstanceType from the catalog, such as GpuInstanceType.G5_XLARGE: pass the catalog constant, or the SageMaker name to EndpointInstanceType.of\(\)$/);
    const { stack } = newStack();
    const endpoint = newEndpoint(stack, { variants: twoInstances() });
    expect(() => endpoint.autoScale(undefined as unknown as Parameters<typeof endpoint.autoScale>[0]))
      .toThrow(/^\[TestStack\/Endpoint\] 'autoScale' \(undefined\) is required: the scaling options, at least \{ maxCapacity \}: call autoScale\(\{ maxCapacity: 4 \}\)$/);
  });

  test('ModelEndpoint.fromEndpointAttributes without an endpoint name fails naming endpointName', () => {
    const { stack } = newStack();
    type Attrs = Parameters<typeof ModelEndpoint.fromEndpointAttributes>[2];
    expect(() => ModelEndpoint.fromEndpointAttributes(stack, 'Imported', {} as unknown as Attrs))
      .toThrow(/^\[TestStack\] 'endpointName' \(undefined\) is required: the name of an existing SageMaker endpoint$/);
    expect(() => ModelEndpoint.fromEndpointName(stack, 'ByName', 5 as unknown as string))
      .toThrow(/^\[TestStack\] 'endpointName' \(5\) must be the name of an existing SageMaker endpoint$/);
    expect(() => ModelEndpoint.fromEndpointName(stack, 'FromParameter', new CfnParameter(stack, 'EndpointName').valueAsString)).not.toThrow();
  });
});
