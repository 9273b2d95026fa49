import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { PlatformError } from '../../../lib/private/errors';

/**
 * Throws, naming the prop, for a container image no pod could run: the API server refuses a container with an
 * empty image (ValidatePodTemplateSpec: "image: Required value"), and an image reference holds no whitespace, so
 * one with a space or a line break (a stray character from a variable or file) leaves the pods in
 * InvalidImageName. Tokens (resolved when the chart is added with `addCdk8sChart`) are not checked.
 */
export function checkImageReference(scope: IConstruct, prop: string, image: string): void {
  if (Token.isUnresolved(image)) return;
  if (typeof image === 'string' && image !== '' && !/\s/.test(image)) return;
  throw new PlatformError(scope, prop, image,
    'must be a container image reference: not empty, no whitespace (the API server refuses an empty image, and the kubelet cannot pull one with spaces or line breaks)',
    'give the image as registry/repository:tag or @sha256 digest, trimmed');
}
