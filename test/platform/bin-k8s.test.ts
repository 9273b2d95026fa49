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

  test('with a model source, it passes AIP_MODEL_NAME and AIP_SERVER_SERVICE_ACCOUNT to the server, and warns when the service account is missing', () => {
    const model = { AIP_MODEL_S3_URI: 's3://models-bucket/fraud/v3/', AIP_MODEL_NAME: 'fraud-v3' };
    const withAccount = runK8s({ ...model, AIP_SERVER_SERVICE_ACCOUNT: 'model-reader' });
    expect(withAccount.status).toBe(0);
    const serving = fs.readFileSync(path.join(withAccount.dir, 'serving.yaml'), 'utf8');
    expect(serving).toMatch(/- name: MODEL_NAME\n\s+value: fraud-v3\n/);
    expect(serving).toContain('serviceAccountName: model-reader');
    expect(withAccount.stderr).not.toContain('AIP_SERVER_SERVICE_ACCOUNT');
    const without = runK8s(model);
    expect(without.status).toBe(0);
    expect(without.stderr).toMatch(/copies the model from s3:\/\/models-bucket\/fraud\/v3\/ with the namespace's default service account: set AIP_SERVER_SERVICE_ACCOUNT/);
  });

  test('it prints every warning recorded on the charts to stderr, as the cdk CLI does, and still writes the folder', () => {
    // AIP_DEVICE_PLUGIN=true adds the device-plugins chart; the reference nodes are described by labels that do not
    // include the device-plugin label, so the chart records a warning for each (cdk8s itself prints none).
    const { status, stderr, dir } = runK8s({ AIP_DEVICE_PLUGIN: 'true' });
    expect(status).toBe(0);
    const lines = stderr.split('\n').filter((l) => l.startsWith('[Warning at '));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[Warning at \/device-plugins\] devicePlugin: the inferenceNodes .*ai-platform.dev\/device-plugin=nvidia.* \[ack: ai-platform:devicePluginNodesUnlabeled\]$/);
    expect(lines[1]).toMatch(/^\[Warning at \/device-plugins\] devicePlugin: the trainingNodes /);
    expect(fs.readdirSync(dir).sort()).toEqual(['device-plugins.yaml', 'kustomization.yaml', 'serving.yaml', 'training.yaml']);
  });

  test('without AIP_DEVICE_PLUGIN the folder has no device-plugins chart, and no chart warning is printed', () => {
    for (const value of [undefined, '', 'false']) {
      const { status, stderr, dir } = runK8s(value === undefined ? {} : { AIP_DEVICE_PLUGIN: value });
      expect(status).toBe(0);
      expect(stderr).not.toContain('[Warning at ');
      expect(fs.readdirSync(dir)).not.toContain('device-plugins.yaml');
    }
  });

  test('a setting the library refuses fails with its one-line message, not a stack trace', () => {
    const { status, stderr } = runK8s({ AIP_MODEL_S3_URI: 's3://b/m/' });
    expect(status).toBe(1);
    expect(stderr.trim()).toMatch(/^'model' \("s3:\/\/b\/m\/"\) must be an S3 URI like "s3:\/\/bucket\/prefix\/", whose bucket name is 3-63 lower-case letters/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  test('an AIP_DEVICE_PLUGIN other than true or false fails naming it, and writes nothing', () => {
    const { status, stderr, dir } = runK8s({ AIP_DEVICE_PLUGIN: 'yes' });
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/AIP_DEVICE_PLUGIN \("yes"\) must be "true" or "false"/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('an error recorded on a chart is printed as the cdk CLI does, and the script exits with status 1 after writing the folder', () => {
    // The library records no errors on these charts: the preload turns its warnings into errors.
    const preload = path.join(__dirname, 'fixtures', 'warnings-as-errors.cjs');
    const { status, stderr, dir } = runK8s({ AIP_DEVICE_PLUGIN: 'true', NODE_OPTIONS: `--require ${JSON.stringify(preload)}` });
    expect(status).toBe(1);
    const lines = stderr.split('\n').filter((l) => l.startsWith('[Error at '));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[Error at \/device-plugins\] devicePlugin: the inferenceNodes /);
    expect(stderr).not.toContain('[Warning at ');
    expect(fs.readdirSync(dir)).toContain('device-plugins.yaml');
  });
});
