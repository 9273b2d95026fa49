import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { ContainerImage, ModelData, ModelEndpoint, ModelEndpointProps } from '../../constructs/serving';

/** A directory with a stand-in Dockerfile, so tests never depend on container/ being built. */
export const FIXTURE_IMAGE_DIR = path.join(__dirname, 'fixtures', 'image');
/** A small model directory (packed into model.tar.gz by ModelData.fromAsset). */
export const FIXTURE_MODEL_DIR = path.join(__dirname, 'fixtures', 'model');

/** Props for a test endpoint: the fixture image and model, plus overrides. */
export function testProps(overrides: Partial<ModelEndpointProps> = {}): ModelEndpointProps {
  return {
    modelData: ModelData.fromAsset(FIXTURE_MODEL_DIR),
    image: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR }),
    ...overrides,
  };
}

/** A test endpoint with id 'Endpoint'. */
export function newEndpoint(stack: Stack, overrides: Partial<ModelEndpointProps> = {}, id = 'Endpoint'): ModelEndpoint {
  return new ModelEndpoint(stack, id, testProps(overrides));
}
