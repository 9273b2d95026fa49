import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_SERVER_IMAGE } from '../../lib/platform-chart';

// `bin/k8s.ts` (part of `npm run synth`) writes the GitOps folder. Its defaults synthesize offline, but two of
// them cannot run on a cluster as they are: the server image holds no model, and the default image name is a
// local build tag that no registry serves. It says so on stderr, naming the variable that fixes each.
const REPO = path.join(__dirname, '..', '..');

function runK8s(env: Record<string, string>): { status: number | null; stderr: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-bin-k8s-'));
  const clean = { ...process.env };
  for (const key of Object.keys(clean)) if (key.startsWith('AIP_')) delete clean[key];
  const result = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(REPO, 'bin', 'k8s.ts'), dir], {
    cwd: REPO, env: { ...clean, ...env }, encoding: 'utf8',
  });
  return { status: result.status, stderr: result.stderr, dir };
}

describe('bin/k8s.ts', () => {
  test('without AIP_SERVER_IMAGE, it warns that the default server image is published nowhere, and still writes the folder', () => {
    const { status, stderr, dir } = runK8s({});
    expect(status).toBe(0);
    expect(stderr).toContain(`serving.yaml runs the image ${DEFAULT_SERVER_IMAGE}`);
    expect(stderr).toMatch(/no registry serves it.*ImagePullBackOff.*set AIP_SERVER_IMAGE/s);
    expect(stderr).toContain('docker build -f container/Dockerfile.gpu');
    expect(fs.readFileSync(path.join(dir, 'serving.yaml'), 'utf8')).toContain(`image: ${DEFAULT_SERVER_IMAGE}`);
  });

  test('with AIP_SERVER_IMAGE, it serves that image and does not warn about the image', () => {
    const image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/inference-server-gpu:0.1.0';
    const { status, stderr, dir } = runK8s({ AIP_SERVER_IMAGE: image });
    expect(status).toBe(0);
    expect(stderr).not.toContain('AIP_SERVER_IMAGE');
    expect(fs.readFileSync(path.join(dir, 'serving.yaml'), 'utf8')).toContain(`image: ${image}`);
  });

  test('an empty AIP_SERVER_IMAGE counts as unset, and warns', () => {
    expect(runK8s({ AIP_SERVER_IMAGE: '' }).stderr).toContain('set AIP_SERVER_IMAGE');
  });

  test('without a model source, it warns that the image holds no model (unchanged)', () => {
    expect(runK8s({}).stderr).toContain('set AIP_MODEL_S3_URI');
  });
});
