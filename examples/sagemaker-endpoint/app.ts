// Example: serve the example fraud model (container/models/fraud-mlp) from the bundled Node.js inference
// server on a SageMaker real-time endpoint, with autoscaling, a canary rollout that rolls back on alarms,
// data capture for drift monitoring, alarm notifications, and a caller role allowed to invoke it.
// Build the model (npm run model), then synthesize with: npx cdk synth --app 'npx tsx examples/sagemaker-endpoint/app.ts'
// (cdk deploy builds and pushes the image)
import * as path from 'node:path';
import { App, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  ContainerImage, EndpointInstanceType, EndpointVariant, ModelData, ModelEndpoint, RolloutStrategy, TrafficSize,
} from '../../lib';

/** The example model the container workspace builds (`container/tools/build-example-model.ts`). */
export const EXAMPLE_MODEL_DIR = path.join(__dirname, '..', '..', 'container', 'models', 'fraud-mlp');

export interface SageMakerEndpointStackProps extends StackProps {
  /**
   * The serving image.
   * @default ContainerImage.bundled()
   */
  readonly image?: ContainerImage;
}

export class SageMakerEndpointStack extends Stack {
  public readonly endpoint: ModelEndpoint;
  public readonly alerts: sns.Topic;
  public readonly caller: iam.Role;

  constructor(scope: Construct, id: string, props: SageMakerEndpointStackProps = {}) {
    super(scope, id, props);

    const alertsKey = new kms.Key(this, 'AlertsKey', { enableKeyRotation: true, description: 'Encrypts endpoint alarm notifications' });
    alertsKey.grantEncryptDecrypt(new iam.ServicePrincipal('cloudwatch.amazonaws.com'));
    this.alerts = new sns.Topic(this, 'Alerts', { enforceSSL: true, masterKey: alertsKey });

    this.endpoint = new ModelEndpoint(this, 'Fraud', {
      modelData: ModelData.fromAsset(EXAMPLE_MODEL_DIR),
      image: props.image ?? ContainerImage.bundled(),
      // The server batches concurrent requests (container/src/config.ts reads these variables).
      environment: { MAX_BATCH_SIZE: '32', MAX_QUEUE_DELAY_MS: '2' },
      // A small tabular MLP: two CPU instances, so a one-instance canary is at most half the fleet.
      variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE, initialInstanceCount: 2 })],
      rollout: RolloutStrategy.canary({ canarySize: TrafficSize.instances(1), bakeTime: Duration.minutes(10), terminationWait: Duration.minutes(5) }),
      alarms: { modelLatencyThreshold: Duration.millis(200), actions: [new cw_actions.SnsAction(this.alerts)] },
      dataCapture: { samplingPercentage: 10 },
    });

    const scaling = this.endpoint.autoScale({ minCapacity: 2, maxCapacity: 6 });
    scaling.scaleOnInvocations('Requests', { maxRequestsPerSecond: 200 });
    scaling.scaleForBusinessHours('Office', { minCapacity: 3 });

    this.caller = new iam.Role(this, 'Caller', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'Applications that score transactions',
    });
    this.endpoint.grantInvoke(this.caller);
  }
}

if (require.main === module) {
  const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  // `cdk deploy` passes the account and region of your credentials; a plain synthesis uses placeholders.
  new SageMakerEndpointStack(app, 'SageMakerEndpoint', {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT ?? '123456789012', region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
  });
  app.synth();
}
