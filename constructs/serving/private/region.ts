import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { PlatformError } from '../../../lib/private/errors';

/**
 * Fails synthesis when the image or the model artifacts are in another region than the endpoint: SageMaker
 * pulls the image from ECR and reads the artifacts from S3 only in the region of the model it creates
 * ("The model artifacts in an Amazon S3 bucket and the Docker image for inference container in Amazon EC2
 * Container Registry must be in the same region as the model or endpoint you are creating", ContainerDefinition,
 * SageMaker API reference), so `CreateModel` would fail at deployment. Either region unknown at synthesis
 * (an environment-agnostic stack, a token) is left unchecked.
 */
export function checkSameRegion(scope: IConstruct, prop: string, received: unknown, region: string | undefined, what: string, fix: string): void {
  const endpointRegion = Stack.of(scope).region;
  if (region === undefined || region === '' || Token.isUnresolved(region) || Token.isUnresolved(endpointRegion) || region === endpointRegion) return;
  throw new PlatformError(scope, prop, received,
    `is ${what} in ${region}, and the endpoint is in ${endpointRegion}: SageMaker reads model artifacts and pulls images only in the model's own region, so creating the model would fail at deployment`,
    fix);
}
