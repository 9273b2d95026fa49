import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import {
  ContainerImage, EndpointInstanceType, EndpointVariant, ModelData, ModelEndpoint, RolloutStrategy, TrafficSize,
} from '../constructs/serving';
import { PlatformError } from './private/errors';

/** Options of the reference platform's model endpoint. */
export interface ReferenceEndpointProps {
  /**
   * The serving image.
   * @default ContainerImage.bundled() - the inference server in container/
   */
  readonly image?: ContainerImage;
  /**
   * Directory of the model to serve.
   * @default - the example fraud model, container/models/fraud-mlp
   */
  readonly modelDirectory?: string;
  /**
   * VPC the endpoint's containers attach to (private subnets; S3 and ECR reached through NAT or endpoints).
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;
}

/**
 * Adds the reference platform's SageMaker endpoint to `scope` (construct id `ModelEndpoint`): the example
 * fraud model served by the bundled inference server on two CPU instances, autoscaled 2-6 on requests,
 * updated by a one-instance canary that rolls back on the default alarms, 10% of traffic captured for
 * drift monitoring.
 */
export function addReferenceEndpoint(scope: Construct, props: ReferenceEndpointProps = {}): ModelEndpoint {
  const endpoint = new ModelEndpoint(scope, 'ModelEndpoint', {
    modelData: ModelData.fromAsset(props.modelDirectory ?? exampleModelDirectory(scope)),
    image: props.image ?? ContainerImage.bundled(),
    environment: { MAX_BATCH_SIZE: '32', MAX_QUEUE_DELAY_MS: '2' },
    variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE, initialInstanceCount: 2 })],
    vpc: props.vpc,
    rollout: RolloutStrategy.canary({ canarySize: TrafficSize.instances(1), bakeTime: Duration.minutes(10) }),
    dataCapture: { samplingPercentage: 10 },
  });
  endpoint.autoScale({ minCapacity: 2, maxCapacity: 6 }).scaleOnInvocations('Requests', { maxRequestsPerSecond: 200 });
  return endpoint;
}

function exampleModelDirectory(scope: Construct): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'container', 'models', 'fraud-mlp');
    if (fs.existsSync(path.join(candidate, 'model.onnx'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new PlatformError(scope, 'modelDirectory', undefined,
    'is required: the example model container/models/fraud-mlp/model.onnx was not found (the published package does not include it)',
    'pass modelDirectory, a directory with your model.onnx; in a clone of ai-platform-constructs, `npm run model` builds the example');
}
