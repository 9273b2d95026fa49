import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { fraudModel, readyApp, SERVER_ENTRY } from './helpers';

const root = path.resolve(__dirname, '..', '..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

describe('image packaging', () => {
  it('the image lockfile lists exactly the dependencies of package.json (run scripts/update-image-lock.sh after a change)', () => {
    const pkg = JSON.parse(read('package.json'));
    const lock = JSON.parse(read('image-package-lock.json'));
    assert.deepEqual(lock.packages[''].dependencies, pkg.dependencies);
    assert.deepEqual(lock.packages[''].devDependencies, pkg.devDependencies);
    for (const dep of Object.keys(pkg.dependencies)) assert.ok(lock.packages[`node_modules/${dep}`], `${dep} is locked`);
  });

  for (const [file, install] of [['Dockerfile', 'ONNXRUNTIME_NODE_INSTALL=skip'], ['Dockerfile.gpu', '--onnxruntime-node-install=cuda12']]) {
    it(`${file}: base image argument, ${install}, production dependencies only, non-root, HEALTHCHECK, exec-form serve entrypoint, no onnxruntime telemetry`, () => {
      const text = read(file);
      assert.match(text, /^ARG BASE_IMAGE=/m);
      assert.match(text, /^FROM \$\{BASE_IMAGE\} AS runtime$/m);
      assert.ok(text.includes(install));
      assert.match(text, /npm prune --omit=dev/);
      assert.match(text, /^USER 10001:0$/m);
      assert.match(text, /^HEALTHCHECK .*\n\s+CMD \["node", "\/opt\/server\/dist\/src\/healthcheck.js"\]/m);
      assert.match(text, /^ENTRYPOINT \["node", .*"\/opt\/server\/dist\/src\/server.js"\]$/m);
      assert.match(text, /^CMD \["serve"\]$/m);
      assert.match(text, /HOME=\/tmp/);
      assert.match(text, /^\s+ORT_DISABLE_TELEMETRY=1$/m, 'onnxruntime telemetry off in the image');
    });
  }

  // The Node.js line each image runs on by default, from its Dockerfile.
  const defaultNodeMajor = (file: string, arg: string): number => {
    const m = new RegExp(`^ARG ${arg}=node:(\\d+)[-.:]`, 'm').exec(read(file));
    assert.ok(m, `${file} sets a default node:<major> image in ARG ${arg}`);
    return Number(m[1]);
  };
  // Whether a Node major satisfies an engines.node range of the forms the lockfile uses
  // (">=N", ">= N", ">= N.x", "^N", joined by "||").
  const satisfies = (major: number, range: string): boolean => range.split('||').some((part) => {
    const m = /^\s*(>=|\^)?\s*v?(\d+)/.exec(part);
    if (!m) return true;
    return m[1] === '^' ? major === Number(m[2]) : major >= Number(m[2]);
  });
  for (const [file, arg] of [['Dockerfile', 'BASE_IMAGE'], ['Dockerfile.gpu', 'NODE_IMAGE']]) {
    it(`${file}: the default Node.js (${arg}) satisfies the engines of every package the image ships`, () => {
      const major = defaultNodeMajor(file, arg);
      const lock = JSON.parse(read('image-package-lock.json'));
      const unmet = Object.entries(lock.packages as Record<string, { dev?: boolean; engines?: { node?: string } }>)
        .filter(([name, p]) => name !== '' && !p.dev && p.engines?.node && !satisfies(major, p.engines.node))
        .map(([name, p]) => `${name} (node ${p.engines!.node})`);
      assert.deepEqual(unmet, [], `Node.js ${major} in ${file}`);
    });
  }

  it('podman-check.sh refuses to assemble its base image from a local Node.js older than the images\' default (22)', () => {
    // A fake node reporting Node.js 20 and a podman that must not be reached.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'podman-check-'));
    fs.writeFileSync(path.join(bin, 'node'), '#!/bin/sh\ncase "$1" in --version) echo v20.20.2;; *) echo 20;; esac\n', { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'podman'), '#!/bin/sh\necho podman reached >&2; exit 3\n', { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:/usr/bin:/bin` };
    delete env.BASE_IMAGE;
    const r = spawnSync('bash', [path.join(root, 'scripts', 'podman-check.sh')], { env, encoding: 'utf8' });
    fs.rmSync(bin, { recursive: true, force: true });
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stderr + r.stdout, /podman reached/);
    assert.match(r.stderr, /Node\.js v20\.20\.2 .*22.*BASE_IMAGE/s);
  });

  it('the health check probes the address and port the server listens on (HOST, and SAGEMAKER_BIND_TO_PORT else PORT), or the loopback when it listens on every interface', async () => {
    const check = (env: Record<string, string>) => new Promise<number>((resolve) => {
      execFile(process.execPath, [path.join(path.dirname(SERVER_ENTRY), 'healthcheck.js')], { env: { ...process.env, ...env } }, (err) => {
        resolve(err ? Number((err as { code?: number }).code ?? 1) : 0);
      });
    });
    const app = await readyApp({ modelDir: fraudModel().dir });
    try {
      await app.listen({ host: '127.0.0.2', port: 0 });
      const port = String((app.server.address() as { port: number }).port);
      assert.equal(await check({ HOST: '127.0.0.2', SAGEMAKER_BIND_TO_PORT: port }), 0);
      assert.equal(await check({ HOST: '0.0.0.0', SAGEMAKER_BIND_TO_PORT: port }), 1, 'nothing listens on 127.0.0.1 here');
      // The port as the server reads it: a blank SAGEMAKER_BIND_TO_PORT is unset, so PORT applies.
      assert.equal(await check({ HOST: '127.0.0.2', SAGEMAKER_BIND_TO_PORT: ' ', PORT: port }), 0, 'a blank SAGEMAKER_BIND_TO_PORT falls back to PORT');
      assert.equal(await check({ HOST: '127.0.0.2', SAGEMAKER_BIND_TO_PORT: '', PORT: port }), 0, 'an empty SAGEMAKER_BIND_TO_PORT falls back to PORT');
    } finally {
      await app.close();
    }
  });
});
