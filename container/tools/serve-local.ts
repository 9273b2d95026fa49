/**
 * `npm run serve`: serves MODEL_DIR when it is set; otherwise builds the example model (if missing)
 * and serves it. Port from SAGEMAKER_BIND_TO_PORT (default 8080).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildExampleModel, DEFAULT_EXAMPLE_DIR } from './build-example-model';
import { main } from '../src/server';

const env = { ...process.env };
if (!env.MODEL_DIR) {
  if (!fs.existsSync(path.join(DEFAULT_EXAMPLE_DIR, 'model.onnx'))) {
    const { file, accuracy } = buildExampleModel();
    console.error(`built the example model ${file} (held-out accuracy ${(accuracy * 100).toFixed(1)} %)`);
  }
  env.MODEL_DIR = DEFAULT_EXAMPLE_DIR;
}
void main(process.argv.slice(2).length ? process.argv.slice(2) : ['serve'], env);
