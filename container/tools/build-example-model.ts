/**
 * Builds the example model directory (default `container/models/fraud-mlp`): trains the fraud MLP and
 * writes `model.onnx` plus `serving.json`. Usage: node dist/tools/build-example-model.js [dir] [--if-missing]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeModelDir } from './onnx-builder';
import { fraudModelSpec, trainFraudModel } from './fraud-model';

export const DEFAULT_EXAMPLE_DIR = path.resolve(__dirname, '..', '..', 'models', 'fraud-mlp');

export function buildExampleModel(dir: string = DEFAULT_EXAMPLE_DIR): { file: string; accuracy: number } {
  const { weights, accuracy } = trainFraudModel();
  const file = writeModelDir(dir, fraudModelSpec(weights), {
    batching: { maxBatchSize: 64, maxQueueDelayMs: 2 },
  });
  return { file, accuracy };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const dir = path.resolve(args.find((a) => !a.startsWith('--')) ?? DEFAULT_EXAMPLE_DIR);
  if (args.includes('--if-missing') && fs.existsSync(path.join(dir, 'model.onnx'))) {
    process.exit(0);
  }
  const { file, accuracy } = buildExampleModel(dir);
  console.log(`wrote ${file} (held-out accuracy ${(accuracy * 100).toFixed(1)} %)`);
}
