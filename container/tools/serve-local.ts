/**
 * `npm run serve`: serves MODEL_DIR when it is set; otherwise builds the example model (if missing)
 * and serves it. Port from SAGEMAKER_BIND_TO_PORT (default 8080).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildExampleModel, DEFAULT_EXAMPLE_DIR } from './build-example-model';
import { main } from '../src/server';

/**
 * The environment the local server starts with. npm runs a workspace's scripts in the workspace's
 * folder (`container/`), not in the one `npm run serve` was typed in, so a relative MODEL_DIR is
 * resolved against INIT_CWD (the folder npm was started in, which npm sets), else against `cwd`.
 */
export function localServeEnv(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): NodeJS.ProcessEnv {
  const out = { ...env };
  if (out.MODEL_DIR) {
    out.MODEL_DIR = path.resolve(out.INIT_CWD || cwd, out.MODEL_DIR);
    return out;
  }
  if (!fs.existsSync(path.join(DEFAULT_EXAMPLE_DIR, 'model.onnx'))) {
    const { file, accuracy } = buildExampleModel();
    console.error(`built the example model ${file} (held-out accuracy ${(accuracy * 100).toFixed(1)} %)`);
  }
  out.MODEL_DIR = DEFAULT_EXAMPLE_DIR;
  return out;
}

if (require.main === module) {
  void main(process.argv.slice(2).length ? process.argv.slice(2) : ['serve'], localServeEnv(process.env));
}
