import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ContainerImage } from '../../constructs/serving';
import { EXAMPLE_MODEL_DIR, SageMakerEndpointStack } from '../../examples/sagemaker-endpoint/app';
import { TEST_CONTEXT } from '../helpers';
import { FIXTURE_IMAGE_DIR } from './util';

const BUNDLED_DOCKERFILE = path.join(__dirname, '..', '..', 'container', 'Dockerfile');

describe('example: a SageMaker endpoint for the example model', () => {
  const app = new App({ context: TEST_CONTEXT });
  // The stand-in image keeps this test independent of the container build; the test below uses the real one.
  const stack = new SageMakerEndpointStack(app, 'Example', {
    env: { account: '123456789012', region: 'us-east-1' },
    image: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR }),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // With the cdk-nag plugin registered, synthesis throws on any unacknowledged AwsSolutions error.
  const template = Template.fromStack(stack);

  test('serves the example ONNX model', () => {
    expect(fs.existsSync(path.join(EXAMPLE_MODEL_DIR, 'model.onnx'))).toBe(true);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: Match.objectLike({ Environment: { MAX_BATCH_SIZE: '32', MAX_QUEUE_DELAY_MS: '2' } }),
    });
  });

  test('two CPU instances, a one-instance canary baked 10 minutes, rolled back by the default alarms', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InstanceType: 'ml.c6i.large', InitialInstanceCount: 2 })],
      DataCaptureConfig: Match.objectLike({ InitialSamplingPercentage: 10 }),
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: {
        BlueGreenUpdatePolicy: Match.objectLike({
          TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 }, WaitIntervalInSeconds: 600 },
          TerminationWaitInSeconds: 300,
        }),
        AutoRollbackConfiguration: { Alarms: [{ AlarmName: { Ref: Match.stringLikeRegexp('ErrorRateAlarm') } }, { AlarmName: { Ref: Match.stringLikeRegexp('ModelLatencyAlarm') } }] },
      },
    });
  });

  test('scales 2-6 instances on invocations and raises the floor to 3 in business hours', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2, MaxCapacity: 6,
      ScheduledActions: Match.arrayWith([Match.objectLike({ ScalableTargetAction: { MinCapacity: 3 } })]),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 6000 }),
    });
  });

  test('alarms notify the encrypted topic and the caller may invoke the endpoint', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: Match.stringLikeRegexp('Alerts') }] });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Caller') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointAsync'] })] },
    });
  });

  (fs.existsSync(BUNDLED_DOCKERFILE) ? test : test.skip)('synthesizes with the bundled inference server image', () => {
    const bundledApp = new App({ context: TEST_CONTEXT });
    const bundled = new SageMakerEndpointStack(bundledApp, 'Bundled', { env: { account: '123456789012', region: 'us-east-1' } });
    const manifest = JSON.parse(fs.readFileSync(path.join(bundledApp.synth().directory, `${bundled.artifactId}.assets.json`), 'utf8'));
    const images = Object.values(manifest.dockerImages) as Array<{ source: { directory: string } }>;
    expect(images).toHaveLength(1);
  });

  // `cdk deploy --app 'npx tsx examples/sagemaker-endpoint/app.ts'` (the example's README) deploys to the account and
  // region of the caller's credentials, which the CLI passes as CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION.
  test('the example app deploys to the account and region the CDK CLI passes', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-example-'));
    execFileSync('npx', ['tsx', path.join(__dirname, '..', '..', 'examples', 'sagemaker-endpoint', 'app.ts')], {
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_DEFAULT_ACCOUNT: '111111111111', CDK_DEFAULT_REGION: 'eu-west-1' },
      stdio: 'pipe',
    });
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
    expect(manifest.artifacts.SageMakerEndpoint.environment).toBe('aws://111111111111/eu-west-1');
  }, 60_000);
});
