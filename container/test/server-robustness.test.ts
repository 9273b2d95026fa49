import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { assertNothingInFlight, exactRequest, fraudModel, listening, metricValue, modelDir, request, scratchDir, SERVER_ENTRY, sleep, startServer, toBytes } from './helpers';
import { fixedBatchSpec, heavySpec } from '../tools/test-models';
import { DRAIN_EXIT_GRACE_MS, readConfigFile, readFeaturesFile, resolveConfig } from '../src/config';
import { InferenceEngine } from '../src/engine';
import { visibleGpuCount, wantsGpu } from '../src/gpus';
import { provider } from '../src/worker';
import { disableOrtTelemetry } from '../src/telemetry';


/** Runs the server process to its exit; resolves with its exit code, signal and output. */
function runServer(env: Record<string, string>, untilMs = 20_000): Promise<{ code: number | null; signal: string | null; out: string; port?: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SERVER_ENTRY, 'serve'], { env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let port: number | undefined;
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m && port === undefined) {
        port = Number(m[1]);
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), untilMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, port });
    });
  });
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('server process start-up', () => {
  it('exits 1 with a clear line when the port is taken, without aborting while the model loads', { timeout: 60_000 }, async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      for (let i = 0; i < 3; i++) {
        const run = await runServer({ MODEL_DIR: fraudModel().dir, SAGEMAKER_BIND_TO_PORT: String(port) });
        assert.equal(run.signal, null, run.out);
        assert.equal(run.code, 1, run.out);
        assert.match(run.out, new RegExp(`cannot start: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
        assert.ok(!run.out.includes('terminate called'), run.out);
      }
    } finally {
      taken.close();
    }
  });

  it('on SIGTERM while the model is still loading, stops the start (no probe, no warm-up) and exits 0, with no error logged', { timeout: 30_000 }, async () => {
    // runServer sends SIGTERM as soon as the server listens: the workers are still loading the model then.
    const t0 = Date.now();
    const run = await runServer({ MODEL_DIR: modelDir('heavy', heavySpec(512, 8, 16)), INFERENCE_WORKERS: '2' });
    const lines = run.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string });
    assert.equal(run.code, 0, run.out);
    assert.ok(lines.some((l) => l.level === 30 && l.msg === 'model start stopped: the server is shutting down'), run.out);
    assert.ok(!lines.some((l) => l.msg === 'model ready'), `the start went on to the end:\n${run.out}`);
    assert.deepEqual(lines.filter((l) => l.level >= 50), [], 'nothing logged at error level');
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  });

  it('treats an empty SAGEMAKER_BIND_TO_PORT as unset (then PORT), and refuses a port that is not plain digits', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const run = await runServer({ MODEL_DIR: fraudModel().dir, SAGEMAKER_BIND_TO_PORT: '', PORT: String(port) });
    assert.equal(run.port, port, run.out);
    const named = await runServer({ MODEL_DIR: fraudModel().dir, SAGEMAKER_BIND_TO_PORT: '', PORT: 'http', LOG_REQUESTS: '' });
    assert.match(named.out, /environment: PORT is \\"http\\"; it must be a port number/, 'the error names the variable that held the value');
    const hex = await runServer({ MODEL_DIR: fraudModel().dir, SAGEMAKER_BIND_TO_PORT: '0x1F91' });
    assert.equal(hex.code, 1);
    assert.match(hex.out, /SAGEMAKER_BIND_TO_PORT is \\"0x1F91\\"; it must be a port number from 0 to 65535/);
  });

  it('exits 2 naming the argument when started with anything but serve (or nothing), extra arguments included', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [SERVER_ENTRY, ...args], { env: { ...process.env, MODEL_DIR: fraudModel().dir, SAGEMAKER_BIND_TO_PORT: '0', HOST: '127.0.0.1' }, encoding: 'utf8', timeout: 20_000 });
    const train = run(['train']);
    assert.equal(train.status, 2, train.stderr);
    assert.equal(train.stderr, 'unknown command "train": this image only serves (run it with "serve" or no argument)\n');
    // A flag such as --port would otherwise be dropped silently, and the server listen elsewhere.
    const flagged = run(['serve', '--port', '9000']);
    assert.equal(flagged.status, 2, flagged.stderr + flagged.stdout);
    assert.equal(run(['serve', 'now']).status, 2, 'one argument after serve is refused too');
    assert.equal(flagged.stderr, 'unexpected argument "--port" after serve: the server takes its settings from the environment (SAGEMAKER_BIND_TO_PORT for the port; see container/README.md)\n');
  });

  it('names the .onnx files when several could be the model, and says when serving.json cannot be read', () => {
    const dir = scratchDir('two-models-');
    try {
      fs.writeFileSync(path.join(dir, 'b.onnx'), '');
      fs.writeFileSync(path.join(dir, 'a.onnx'), '');
      assert.throws(() => resolveConfig(dir, []), /holds 2 \.onnx files \(a\.onnx, b\.onnx\) and no model\.onnx; set modelFile in serving\.json/);
      assert.equal(resolveConfig(dir, [['file', { modelFile: 'a.onnx' }]]).modelFile, 'a.onnx');
      fs.mkdirSync(path.join(dir, 'serving.json'));
      assert.throws(() => readConfigFile(dir), /serving\.json: cannot be read \(EISDIR/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says serving.json or features.json is a dangling symlink, rather than start without it', () => {
    // As a ConfigMap mount or a tarball with an absolute link can leave them: the settings must not be
    // silently dropped for the defaults.
    const dir = scratchDir('dangling-');
    try {
      fs.symlinkSync('..data/serving.json', path.join(dir, 'serving.json'));
      fs.symlinkSync('/nowhere/features.json', path.join(dir, 'features.json'));
      assert.throws(() => readConfigFile(dir), {
        name: 'ConfigError',
        message: `${path.join(dir, 'serving.json')}: cannot be read: it is a symlink to ..data/serving.json (${path.join(dir, '..data/serving.json')}), which does not exist`,
      });
      assert.throws(() => readFeaturesFile(dir), {
        name: 'ConfigError',
        message: `${path.join(dir, 'features.json')}: cannot be read: it is a symlink to /nowhere/features.json, which does not exist`,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves float16 inputs and outputs where the runtime has Float16Array (Node.js 24 and later), which onnxruntime-node 1.30 cannot read', { timeout: 30_000 }, async () => {
    // A Float16Array that fails as onnxruntime-node's binding does when handed one. Loaded before the server,
    // in its worker threads too, it stops every run whose float16 tensors onnxruntime-common would convert.
    const preload = path.join(scratchDir('f16-'), 'float16array.js');
    fs.writeFileSync(preload, "globalThis.Float16Array = class Float16Array extends Uint16Array { constructor() { super(0); throw new Error('a Float16Array reached onnxruntime'); } };\n");
    const dir = modelDir('id-float16', {
      name: 'id-float16',
      inputs: [{ name: 'x', type: 'float16', shape: ['batch', 2] }],
      outputs: [{ name: 'y', type: 'float16', shape: ['batch', 2] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    });
    const server = await startServer({ MODEL_DIR: dir, NODE_OPTIONS: `--require ${preload}` });
    try {
      const res = await request(server.port, 'POST', '/v2/models/id-float16/infer', { inputs: [{ name: 'x', datatype: 'FP16', shape: [1, 2], data: [1.5, -2] }] });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(res.json().outputs, [{ name: 'y', datatype: 'FP16', shape: [1, 2], data: [1.5, -2] }]);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('tries execution providers in the configured order, each alone before the CPU', async () => {
    const dir = modelDir('heavy-small', heavySpec(16, 1, 4));
    const start = async (providers: string[]) => {
      const engine = await InferenceEngine.start(path.join(dir, 'model.onnx'), resolveConfig(dir, [['test', { workers: 1, executionProviders: providers }]]));
      await engine.close(0);
      return { provider: engine.provider, fallback: engine.fallbackReason };
    };
    assert.deepEqual(await start(['cpu', 'cuda']), { provider: 'cpu', fallback: undefined }, 'cpu first means the CPU');
    const both = await start(['tensorrt', 'cuda', 'cpu']);
    assert.equal(both.provider, 'cpu');
    assert.match(both.fallback!, /^tensorrt unavailable: .*; cuda unavailable: /, 'CUDA is tried on its own after TensorRT fails');
    // Without cpu in the list there is no fallback: the model does not load, and the error says why.
    await assert.rejects(start(['cuda']), /^Error: cannot load model .*: no execution provider listed could be used \(cuda unavailable: .*\); add cpu to the list \(ORT_EXECUTION_PROVIDERS=cuda,cpu\) to fall back to the CPU$/);
  });
});

describe('onnxruntime telemetry', () => {
  /** Files onnxruntime's telemetry client leaves: its device id, its event database, its debug log. */
  function telemetryFiles(dir: string): string[] {
    return (fs.readdirSync(dir, { recursive: true }) as string[])
      .filter((f) => /(^|\/)(deviceid|onnxruntime\.db|mat-debug-\d+\.log)$/.test(f));
  }

  it('is turned off unless ORT_DISABLE_TELEMETRY is set: the server leaves no device id, event database or debug log', { timeout: 30_000 }, async () => {
    const home = scratchDir('home-');
    const server = await startServer({
      MODEL_DIR: fraudModel().dir, HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), TMPDIR: home,
      ORT_DISABLE_TELEMETRY: undefined, // this test process may have set it when it started an engine
    });
    const res = await request(server.port, 'POST', '/invocations', { instances: [[1, 0, 0, 0, 0, 0, 1, 1]] });
    assert.equal(res.status, 200, res.body);
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0, server.logs.join('\n'));
    assert.deepEqual(telemetryFiles(home), []);
  });

  it('keeps an ORT_DISABLE_TELEMETRY the operator set (0 turns telemetry on), and treats an empty one as unset', () => {
    for (const value of ['0', 'false', 'true']) {
      const env: NodeJS.ProcessEnv = { ORT_DISABLE_TELEMETRY: value };
      disableOrtTelemetry(env);
      assert.deepEqual(env, { ORT_DISABLE_TELEMETRY: value });
    }
    for (const env of [{}, { ORT_DISABLE_TELEMETRY: '' }, { ORT_DISABLE_TELEMETRY: ' ' }] as NodeJS.ProcessEnv[]) {
      disableOrtTelemetry(env);
      assert.deepEqual(env, { ORT_DISABLE_TELEMETRY: '1' });
    }
  });
});

describe('GPUs', () => {
  it('counts the visible GPUs as CUDA and the NVIDIA runtime give them, else by device files', () => {
    const dev = scratchDir('dev-');
    for (const f of ['nvidia0', 'nvidia1', 'nvidiactl', 'nvidia-uvm']) fs.writeFileSync(path.join(dev, f), '');
    assert.equal(visibleGpuCount({}, dev), 2, 'device files');
    assert.equal(visibleGpuCount({ NVIDIA_VISIBLE_DEVICES: 'all' }, dev), 2);
    assert.equal(visibleGpuCount({ NVIDIA_VISIBLE_DEVICES: 'GPU-aaa,GPU-bbb,GPU-ccc' }, dev), 3);
    assert.equal(visibleGpuCount({ NVIDIA_VISIBLE_DEVICES: 'void' }, dev), 0);
    assert.equal(visibleGpuCount({ NVIDIA_VISIBLE_DEVICES: 'none' }, dev), 0);
    assert.equal(visibleGpuCount({ NVIDIA_VISIBLE_DEVICES: 'NoDevFiles' }, dev), 0, 'the NVIDIA runtime\'s value for a container given no GPU');
    assert.equal(visibleGpuCount({ NVIDIA_VISIBLE_DEVICES: '0,1,2,3', CUDA_VISIBLE_DEVICES: '1' }, dev), 1, 'CUDA_VISIBLE_DEVICES wins');
    assert.equal(visibleGpuCount({ CUDA_VISIBLE_DEVICES: '' }, dev), 0);
    assert.equal(visibleGpuCount({ CUDA_VISIBLE_DEVICES: '-1' }, dev), 0, 'the usual way to hide every GPU');
    assert.equal(visibleGpuCount({ CUDA_VISIBLE_DEVICES: '0,1,-1,2' }, dev), 2, 'CUDA stops at an invalid entry');
    assert.equal(visibleGpuCount({ NVIDIA_VISIBLE_DEVICES: '/var/run/nvidia-container-devices' }, dev), 2, 'the volume-mounts strategy: count the device files');
    assert.equal(visibleGpuCount({}, path.join(dev, 'missing')), 0);
    assert.deepEqual(provider('cuda', 3), { name: 'cuda', deviceId: 3 });
    assert.deepEqual(provider('tensorrt', 1), { name: 'tensorrt', deviceId: 1 });
    assert.equal(provider('cpu', 1), 'cpu');
  });

  it('asks for a GPU when CUDA or TensorRT comes before the CPU in the execution providers', () => {
    assert.equal(wantsGpu(['cuda']), true);
    assert.equal(wantsGpu(['tensorrt', 'cpu']), true);
    assert.equal(wantsGpu(['cpu', 'cuda']), false, 'providers after the CPU are never tried');
    assert.equal(wantsGpu(['cpu']), false);
  });

  it('counts several MIG devices as one GPU: a CUDA process enumerates only the first MIG device it is given', () => {
    const dev = scratchDir('dev-');
    fs.writeFileSync(path.join(dev, 'nvidia0'), '');
    assert.equal(visibleGpuCount({ NVIDIA_VISIBLE_DEVICES: 'MIG-aaa,MIG-bbb' }, dev), 1, 'the device plugin giving a pod two MIG devices');
    assert.equal(visibleGpuCount({ CUDA_VISIBLE_DEVICES: 'MIG-aaa,MIG-bbb,MIG-ccc' }, dev), 1);
    assert.equal(visibleGpuCount({ NVIDIA_VISIBLE_DEVICES: 'GPU-aaa,MIG-bbb' }, dev), 1, 'no whole GPU is enumerated beside a MIG device');
    assert.equal(visibleGpuCount({ NVIDIA_VISIBLE_DEVICES: 'MIG-GPU-aaa/1/0,MIG-GPU-aaa/2/0' }, dev), 1, 'the older MIG-GPU-<uuid>/<gi>/<ci> names');
    assert.equal(visibleGpuCount({ CUDA_VISIBLE_DEVICES: '-1,MIG-aaa' }, dev), 0, 'CUDA still stops at an invalid entry');
  });

  it('gives the workers of a GPU provider the visible GPUs in turn', async () => {
    const dir = modelDir('gpu-turns', heavySpec(16, 1, 4));
    const saved = process.env.CUDA_VISIBLE_DEVICES;
    process.env.CUDA_VISIBLE_DEVICES = '4,5';
    try {
      // No GPU here: CUDA fails and the workers fall back to the CPU, but each was given its device.
      const engine = await InferenceEngine.start(path.join(dir, 'model.onnx'), resolveConfig(dir, [['test', { workers: 3, intraOpNumThreads: 1, executionProviders: ['cuda', 'cpu'] }]]));
      assert.deepEqual(engine.deviceIds, [0, 1, 0]);
      await engine.close(0);
      const cpu = await InferenceEngine.start(path.join(dir, 'model.onnx'), resolveConfig(dir, [['test', { workers: 2, intraOpNumThreads: 1 }]]));
      assert.deepEqual(cpu.deviceIds, [0, 0]);
      await cpu.close(0);
    } finally {
      if (saved === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
      else process.env.CUDA_VISIBLE_DEVICES = saved;
    }
  });

  it('does not let a worker that fell back to the CPU serve beside workers on a GPU, at start or as a replacement', { timeout: 60_000 }, () => {
    const dir = modelDir('gpu-mixed', heavySpec(16, 1, 4));
    const failing = path.join(scratchDir('fake-cuda-'), 'failing');
    // In a child process: the stand-in for CUDA has to be preloaded into the worker threads.
    const run = (script: string, cudaVisibleDevices: string, failingAtStart: string) => {
      fs.writeFileSync(failing, failingAtStart);
      const res = spawnSync(process.execPath, ['-r', path.join(__dirname, 'fake-cuda.js'), '-e', `
        const path = require('node:path');
        const fs = require('node:fs');
        const { InferenceEngine } = require(${JSON.stringify(path.resolve(__dirname, '..', 'src', 'engine.js'))});
        const { resolveConfig } = require(${JSON.stringify(path.resolve(__dirname, '..', 'src', 'config.js'))});
        const dir = ${JSON.stringify(dir)};
        const events = [];
        const start = (workers) => InferenceEngine.start(path.join(dir, 'model.onnx'),
          resolveConfig(dir, [['test', { workers, intraOpNumThreads: 1, executionProviders: ['cuda', 'cpu'] }]]),
          { onWorkerEvent: (event, detail) => events.push({ event, ...detail }) });
        (async () => { ${script} })().then((out) => console.log(JSON.stringify(out)), (e) => console.log(JSON.stringify({ error: e.message })));
      `], { env: { ...process.env, CUDA_VISIBLE_DEVICES: cudaVisibleDevices, FAKE_CUDA_FAILING: failing }, encoding: 'utf8', timeout: 50_000 });
      assert.equal(res.status, 0, res.stderr);
      return JSON.parse(res.stdout.trim().split('\n').pop()!);
    };
    // GPU 1 cannot take the model: its worker would have run on the CPU while the server said cuda. The
    // message names it, whichever worker was ready first (the CPU one often is: its CUDA fails at once).
    for (let i = 0; i < 3; i++) {
      const started = run('const e = await start(2); await e.close(0); return { provider: e.provider };', '0,1', '1');
      assert.equal(started.error, 'the workers would run on different execution providers: the worker on device 1 fell back to cpu (cuda unavailable: CUDA failure 2: out of memory), where the pool runs on cuda', JSON.stringify(started));
    }
    // Every GPU can: both workers on CUDA.
    assert.deepEqual(run('const e = await start(2); const devices = e.deviceIds; await e.close(0); return { provider: e.provider, devices };', '0,1', ''), { provider: 'cuda', devices: [0, 1] });
    // A replacement whose GPU is full (a set-aside worker still holds its copy of the model) is tried
    // again later, not put in service on the CPU.
    const replaced = run(`
      const e = await start(1);
      fs.writeFileSync(process.env.FAKE_CUDA_FAILING, '0');
      await e.slots[0].worker.terminate();
      while (!events.some((x) => x.event === 'worker-respawn-failed' || x.event === 'worker-replaced')) await new Promise((r) => setTimeout(r, 50));
      await e.close(0);
      return { events: events.map((x) => x.event), error: events.find((x) => x.event === 'worker-respawn-failed')?.error };
    `, '0', '');
    assert.deepEqual(replaced.events.slice(0, 2), ['worker-lost', 'worker-respawn-failed'], JSON.stringify(replaced));
    assert.match(replaced.error, /different execution providers: the worker on device 0 fell back to cpu \(cuda unavailable: CUDA failure 2: out of memory\), where the pool runs on cuda/);
  });

  it('writes only its own JSON lines when CUDA cannot load and it falls back to the CPU, the reason in "model ready"', { timeout: 30_000 }, async () => {
    const server = await startServer({ MODEL_DIR: fraudModel().dir, ORT_EXECUTION_PROVIDERS: 'cuda,cpu' });
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0, server.logs.join('\n'));
    const notJson = server.logs.join('\n').split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));
    assert.deepEqual(notJson, [], 'onnxruntime\'s own coloured error lines');
    assert.ok(server.logs.some((line) => /"model ready"/.test(line) && /cuda unavailable: /.test(line)), server.logs.join('\n'));
  });

  it('exits 1 naming LOG_LEVEL and the allowed levels when LOG_LEVEL is not a pino level', { timeout: 30_000 }, async () => {
    const run = await runServer({ MODEL_DIR: fraudModel().dir, SAGEMAKER_BIND_TO_PORT: '0', LOG_LEVEL: 'verbose' });
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /cannot start: environment: LOG_LEVEL is \\"verbose\\"; it must be one of fatal, error, warn, info, debug, trace, silent/);
  });

  it('past the drain time, exits 1 with "drain time exceeded" DRAIN_EXIT_GRACE_MS later, whatever keeps the drain open', { timeout: 30_000 }, async () => {
    const drainMs = 500;
    const { child, port, logs, exited } = await startServer({ MODEL_DIR: fraudModel().dir, DRAIN_TIMEOUT_MS: String(drainMs) });
    // A client that declared a body and stalls keeps the drain open.
    const stalled = net.connect({ port, host: '127.0.0.1' });
    stalled.on('error', () => undefined);
    stalled.write('POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\n1,2');
    await sleep(200);
    const t0 = Date.now();
    child.kill('SIGTERM');
    const { code } = await exited;
    const elapsed = Date.now() - t0;
    stalled.destroy();
    const out = logs.join('\n');
    assert.equal(code, 1, out);
    assert.match(out, /drain time exceeded, exiting with requests unanswered/);
    // The drain's lines say what it waited for and how it ended: one request in flight, exit status 1.
    const lines = logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const draining = lines.find((l) => /^draining/.test(String(l.msg)));
    assert.deepEqual([draining?.signal, draining?.drainMs, draining?.requestsInFlight], ['SIGTERM', drainMs, 1], out);
    const last = lines.at(-1)!;
    assert.deepEqual([last.level, last.msg, last.exitCode], [50, 'drain time exceeded, exiting with requests unanswered', 1], out);
    assert.equal(typeof last.drainSeconds, 'number', out);
    assert.ok(elapsed >= drainMs + DRAIN_EXIT_GRACE_MS - 50 && elapsed < drainMs + DRAIN_EXIT_GRACE_MS + 1_000, `exited ${elapsed} ms after SIGTERM`);
  });
});

describe('requests the routes do not serve', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers with the error catalogue, counts them, and counts a client that hangs up', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const badUrl = await request(started.port, 'GET', '/v2/models/%E0%A4%A/ready', undefined, { 'x-request-id': 'bad-url-1' });
    assert.equal(badUrl.status, 400);
    assert.equal(badUrl.headers['x-request-id'], 'bad-url-1');
    assert.equal(badUrl.json().code, 'INVALID_REQUEST');
    const plain = await request(started.port, 'POST', '/invocations', '0,0,0,0,0,0,0,0', { 'content-type': 'text/plain' });
    assert.equal(plain.status, 415, plain.body);
    assert.equal(plain.json().code, 'UNSUPPORTED_MEDIA_TYPE');
    const empty = await request(started.port, 'POST', '/invocations');
    assert.equal(empty.status, 400);
    assert.equal(empty.json().code, 'EMPTY_BODY');
    assert.equal((await request(started.port, 'GET', '/nope')).status, 404);
    // A client that sends half a body and hangs up.
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: started.port, method: 'POST', path: '/invocations', headers: { 'content-type': 'application/json', 'content-length': '1000' } });
      req.on('error', () => resolve());
      req.write('{"instances": [', () => setTimeout(() => { req.destroy(); resolve(); }, 50));
    });
    await sleep(100);
    const text = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(text, 'http_errors_total', { code: 'NOT_FOUND' }), 1);
    assert.equal(metricValue(text, 'http_requests_total', { method: 'GET', route: '__unparsed__', status_code: '400' }), 1, 'the malformed URL');
    assert.equal(metricValue(text, 'http_requests_total', { method: 'POST', route: '/invocations', status_code: '499' }), 1);
    assert.equal(metricValue(text, 'http_requests_in_flight'), 1, 'only the scrape itself');
    assert.equal(metricValue(text, 'http_request_body_bytes_in_flight'), 0);
  });

  it('counts the body of any method towards limits.maxBodyBytesInFlight, not only POST', async () => {
    const MiB = 1024 * 1024;
    const started = await listening({ modelDir: modelDir('heavy', heavySpec(1024, 4, 16)), config: { workers: 1, intraOpNumThreads: 1, batching: { enabled: false }, limits: { maxBodyBytesInFlight: MiB } } });
    app = started.app;
    const rows = 8000;
    const big = JSON.stringify({ inputs: [{ name: 'input', shape: [rows, 16], datatype: 'FP32', data: new Array(rows * 16).fill(0.25) }] });
    const sized = { 'content-length': String(big.length), 'content-type': 'application/json' };
    const first = request(started.port, 'POST', '/v2/models/heavy/infer', big, sized);
    for (let i = 0; i < 300; i++) {
      if (metricValue((await request(started.port, 'GET', '/metrics')).body, 'http_request_body_bytes_in_flight') === big.length) break;
      await sleep(10);
    }
    const put = await request(started.port, 'PUT', '/anything', big, sized);
    assert.equal(put.status, 503, put.body.slice(0, 200));
    assert.equal(put.json().code, 'OVERLOADED');
    // A health route refused this way answers the catalogue's body too (its 503 schema is the not-ready one).
    for (const url of ['/ping', '/v2/health/ready', '/v2/models/heavy/ready', '/v2/health/live']) {
      const health = await request(started.port, 'GET', url, big, sized);
      assert.equal(health.status, 503, `${url}: ${health.body.slice(0, 200)}`);
      assert.equal(health.json().code, 'OVERLOADED', url);
    }
    assert.equal((await first).status, 200);
  });

  it('refuses a JSON, JSON Lines or CSV body above limits.textBodyLimitBytes before reading it, and takes binary tensor data up to the body limit', async () => {
    const MiB = 1024 * 1024;
    const started = await listening({ modelDir: fraudModel().dir, config: { limits: { bodyLimitBytes: 4 * MiB, textBodyLimitBytes: MiB } } });
    app = started.app;
    const rows = 65_536; // 2 MiB of FP32 features
    const row = [0.5, 0.1, 0.2, 0.3, 1, -0.5, 1, 0];
    const json = JSON.stringify({ inputs: [{ name: 'features', shape: [rows, 8], datatype: 'FP32', data: new Array(rows).fill(row).flat() }] });
    const declared = await exactRequest(started.port, 'POST', '/v2/models/fraud-mlp/infer', json, { 'content-type': 'application/json' });
    assert.equal(declared.status, 413);
    assert.equal(declared.json().code, 'PAYLOAD_TOO_LARGE');
    assert.match(declared.json().error, new RegExp(`^the body is ${json.length} bytes; a JSON, JSON Lines or CSV body may be at most ${MiB} bytes here \\(limits.textBodyLimitBytes.*any body at most ${4 * MiB} bytes \\(limits.bodyLimitBytes\\)\\. Send larger tensors as binary tensor data`));
    assert.equal(declared.headers.connection, 'close', 'the unread body is not waited for');
    const chunked = await request(started.port, 'POST', '/v2/models/fraud-mlp/infer', json, { 'content-type': 'application/json' });
    assert.equal(chunked.status, 413);
    assert.equal(chunked.json().code, 'PAYLOAD_TOO_LARGE');
    assert.match(chunked.json().error, /^Request body is too large: a JSON, JSON Lines or CSV body may be at most 1048576 bytes here/);
    // A type the server does not take is refused as such, not for its size.
    const xml = await exactRequest(started.port, 'POST', '/invocations', 'x'.repeat(2 * MiB), { 'content-type': 'application/xml' });
    assert.equal(xml.status, 415);
    // A body sent where no route is gets its 404 unread (chunked, it would be parsed up to the body
    // limit, past the text limit: a heap risk).
    for (const [headers, body] of [[{ 'content-type': 'application/json' }, '{'.repeat(2 * MiB)], [{}, 'x']] as const) {
      const nowhere = await request(started.port, 'POST', '/nope', body, headers);
      assert.equal(nowhere.status, 404, nowhere.body.slice(0, 200));
      assert.deepEqual(nowhere.json(), { error: 'no route for POST /nope', code: 'NOT_FOUND' });
    }
    const csv = new Array(rows).fill(row.join(',')).join('\n');
    for (const type of ['text/csv', 'application/jsonlines']) {
      const body = type === 'text/csv' ? csv : new Array(rows).fill(JSON.stringify(row)).join('\n');
      const res = await request(started.port, 'POST', '/invocations', body, { 'content-type': type });
      assert.equal(res.status, 413, type);
    }
    // The same tensor as binary tensor data is within the body limit.
    const head = Buffer.from(JSON.stringify({ inputs: [{ name: 'features', shape: [rows, 8], datatype: 'FP32', parameters: { binary_data_size: rows * 32 } }], outputs: [{ name: 'is_fraud', parameters: { binary_data: true } }] }));
    const binary = await exactRequest(started.port, 'POST', '/v2/models/fraud-mlp/infer', Buffer.concat([head, toBytes('float32', new Array(rows).fill(row).flat())]), {
      'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length),
    });
    assert.equal(binary.status, 200, binary.body.slice(0, 300));
    const answerHead = JSON.parse(binary.raw.subarray(0, Number(binary.headers['inference-header-content-length'])).toString('utf8'));
    assert.deepEqual(answerHead.outputs[0].shape, [rows, 1]);
    // The JSON that starts a binary request is held to the text limit too.
    const longHead = Buffer.from(JSON.stringify({ id: 'x'.repeat(MiB), inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', parameters: { binary_data_size: 32 } }] }));
    const headTooLarge = await exactRequest(started.port, 'POST', '/v2/models/fraud-mlp/infer', Buffer.concat([longHead, toBytes('float32', row)]), {
      'content-type': 'application/octet-stream', 'inference-header-content-length': String(longHead.length),
    });
    assert.equal(headTooLarge.status, 413);
    assert.deepEqual(headTooLarge.json(), {
      error: `the JSON that starts the body is ${longHead.length} bytes (Inference-Header-Content-Length); it may be at most ${MiB} bytes here: send the values as binary tensor data`,
      code: 'PAYLOAD_TOO_LARGE',
    });
    // A JSON body of exactly the text limit is taken.
    const inputs = [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: row }];
    const atLimit = JSON.stringify({ id: 'x'.repeat(MiB - JSON.stringify({ id: '', inputs }).length), inputs });
    assert.equal(atLimit.length, MiB);
    const exact = await exactRequest(started.port, 'POST', '/v2/models/fraud-mlp/infer', atLimit, { 'content-type': 'application/json' });
    assert.equal(exact.status, 200, exact.body.slice(0, 300));
    // Batch transform is told the text limit, since it sends CSV or JSON Lines.
    assert.equal((await request(started.port, 'GET', '/execution-parameters')).json().MaxPayloadInMB, 1);
  });

  it('takes a binary request whose JSON header is exactly limits.textBodyLimitBytes long, and refuses one a byte longer', async () => {
    const limit = 4096;
    const started = await listening({ modelDir: fraudModel().dir, config: { limits: { textBodyLimitBytes: limit } } });
    app = started.app;
    const row = [0.5, 0.1, 0.2, 0.3, 1, -0.5, 1, 0];
    const inputs = [{ name: 'features', shape: [1, 8], datatype: 'FP32', parameters: { binary_data_size: 32 } }];
    const send = (length: number) => {
      const head = Buffer.from(JSON.stringify({ id: 'x'.repeat(length - JSON.stringify({ id: '', inputs }).length), inputs }));
      assert.equal(head.length, length);
      return exactRequest(started.port, 'POST', '/v2/models/fraud-mlp/infer', Buffer.concat([head, toBytes('float32', row)]), {
        'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length),
      });
    };
    const atLimit = await send(limit);
    assert.equal(atLimit.status, 200, atLimit.body.slice(0, 300));
    assert.deepEqual(atLimit.json().outputs[0].shape, [1, 1]);
    const over = await send(limit + 1);
    assert.equal(over.status, 413);
    assert.deepEqual(over.json(), {
      error: `the JSON that starts the body is ${limit + 1} bytes (Inference-Header-Content-Length); it may be at most ${limit} bytes here: send the values as binary tensor data`,
      code: 'PAYLOAD_TOO_LARGE',
    });
  });

  it('lets a client that sends its whole body before reading get the refusal, not a reset, and closes the connection after', { timeout: 20_000 }, async () => {
    const MiB = 1024 * 1024;
    // drainMs 1 s: lingering lasts at most 0.5 s.
    const started = await listening({ modelDir: fraudModel().dir, drainMs: 1_000, config: { limits: { bodyLimitBytes: MiB } } });
    app = started.app;
    /**
     * Like Python's http.client: send everything, and read only then. The socket is paused until the
     * last byte is written, so an answer followed by a reset is lost as it is for such a client.
     */
    const sendThenRead = (head: string, body: Buffer, keepOpen = false) => new Promise<{ answer: string; error?: string; closedAfterMs?: number }>((resolve) => {
      const socket = net.connect({ port: started.port, host: '127.0.0.1', allowHalfOpen: true });
      socket.pause();
      let answer = '';
      let error: string | undefined;
      let sentAt = 0;
      socket.on('data', (d) => { answer += d.toString('latin1'); });
      socket.on('error', (e: NodeJS.ErrnoException) => { error = e.code; });
      socket.on('close', () => resolve({ answer, error, closedAfterMs: sentAt ? Date.now() - sentAt : undefined }));
      socket.on('end', () => { if (!keepOpen) socket.end(); });
      socket.write(head);
      socket.write(body, () => {
        sentAt = Date.now();
        socket.resume();
      });
    });
    const body = Buffer.alloc(16 * MiB, 0x31);
    const cases = [
      ['POST /invocations', 'text/csv', 413],
      ['POST /v2/models/fraud-mlp/infer', 'application/octet-stream', 413],
      ['POST /invocations', 'image/png', 415],
      ['POST /nowhere', 'application/json', 404],
    ] as const;
    for (const [line, type, status] of cases) {
      const sized = await sendThenRead(`${line} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`, body);
      assert.equal(sized.error, undefined, `${line} ${type}: ${sized.error}`);
      assert.match(sized.answer, new RegExp(`^HTTP/1.1 ${status} .*\\r\\nconnection: close\\r\\n`, 'is'), `${line} ${type}`);
    }
    // Chunked, refused once the text limit is passed.
    const chunked = await sendThenRead('POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n',
      Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]));
    assert.equal(chunked.error, undefined, String(chunked.error));
    assert.match(chunked.answer, /^HTTP\/1.1 413 /);
    // A client that keeps its side open is closed by the server once the linger time is over; so is
    // one that declares more than it will ever send.
    const connections = () => new Promise<number>((resolve, reject) => started.app.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
    const closedWithin = async (): Promise<number> => {
      const t0 = Date.now();
      while (await connections() > 0 && Date.now() - t0 < 5_000) await sleep(20);
      return Date.now() - t0;
    };
    const open = net.connect({ port: started.port, host: '127.0.0.1', allowHalfOpen: true });
    open.on('error', () => undefined);
    let openAnswer = '';
    open.on('data', (d) => { openAnswer += d.toString('latin1'); });
    open.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${body.length}\r\n\r\n`);
    await new Promise((resolve) => open.write(body, resolve));
    const openMs = await closedWithin();
    assert.match(openAnswer, /^HTTP\/1.1 413 /);
    assert.ok(openMs < 1_500, `closed ${openMs} ms after the body was sent`);
    const stalled = net.connect({ port: started.port, host: '127.0.0.1', allowHalfOpen: true });
    stalled.on('error', () => undefined);
    let stalledAnswer = '';
    stalled.on('data', (d) => { stalledAnswer += d.toString('latin1'); });
    stalled.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${body.length}\r\n\r\n1,2`);
    await new Promise((resolve) => stalled.once('end', resolve));
    const stalledMs = await closedWithin();
    assert.match(stalledAnswer, /^HTTP\/1.1 413 /);
    assert.ok(stalledMs < 1_500, `closed ${stalledMs} ms after the answer`);
    open.destroy();
    stalled.destroy();
    // A client that reads the refusal and hangs up mid-body, and one that pipelines a request behind
    // its refused body: neither adds a request (the rest of the connection is discarded, not parsed).
    const hangUp = net.connect(started.port, '127.0.0.1');
    hangUp.on('error', () => undefined);
    hangUp.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${body.length}\r\n\r\n`);
    hangUp.write(body.subarray(0, 65_536));
    await new Promise((resolve) => hangUp.once('data', resolve));
    hangUp.destroy();
    const row = '0.5,0.1,0.2,0.3,1,-0.5,1,0';
    const pipelined = await sendThenRead(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${2 * MiB}\r\n\r\n`,
      Buffer.concat([Buffer.alloc(2 * MiB, 0x31), Buffer.from(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${row.length}\r\n\r\n${row}`)]));
    assert.equal((pipelined.answer.match(/HTTP\/1.1 /g) ?? []).length, 1, pipelined.answer);
    await sleep(100);
    const text = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(text, 'http_request_body_bytes_in_flight'), 0);
    assert.equal(metricValue(text, 'http_errors_total', { code: 'INVALID_REQUEST' }), undefined, 'a hang-up while lingering is not an invalid request');
    assert.equal(metricValue(text, 'http_requests_total', { method: 'UNKNOWN', route: '__unparsed__', status_code: '400' }), undefined);
    assert.equal(metricValue(text, 'inference_requests_total', { model: 'fraud-mlp' }), 0, 'the pipelined request was not run');
    assert.equal(metricValue(text, 'http_requests_in_flight'), 1, 'only the scrape itself');
  });

  it('closes a refused connection as soon as its client, having read the answer, closes its side (not when lingering ends)', async () => {
    const MiB = 1024 * 1024;
    // The default drain time: a refused connection lingers up to 5 s.
    const started = await listening({ modelDir: fraudModel().dir, config: { limits: { bodyLimitBytes: MiB } } });
    app = started.app;
    const body = Buffer.alloc(2 * MiB, 0x31);
    let sentAt = 0;
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect({ port: started.port, host: '127.0.0.1', allowHalfOpen: true });
      let text = '';
      socket.on('data', (d) => { text += d.toString('latin1'); });
      socket.on('error', () => undefined);
      socket.on('end', () => socket.end()); // the server's FIN: close this side too
      socket.on('close', () => resolve(text));
      socket.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${body.length}\r\n\r\n`);
      sentAt = Date.now();
      socket.write(body, () => { sentAt = Date.now(); });
    });
    assert.match(answer, /^HTTP\/1.1 413 /);
    const connections = () => new Promise<number>((resolve, reject) => started.app.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
    while (await connections() > 0 && Date.now() - sentAt < 5_000) await sleep(20);
    const closedAfterMs = Date.now() - sentAt;
    assert.ok(closedAfterMs < 2_500, `the server closed its end ${closedAfterMs} ms after the body was sent`);
  });

  it('brings the in-flight gauges back to zero when a client pipelines requests and hangs up', async () => {
    const started = await listening({ modelDir: modelDir('heavy', heavySpec(1024, 4, 16)), config: { workers: 1, intraOpNumThreads: 1 } });
    app = started.app;
    const rows = 500;
    const body = JSON.stringify({ inputs: [{ name: 'input', shape: [rows, 16], datatype: 'FP32', data: new Array(rows * 16).fill(0.5) }] });
    const post = `POST /v2/models/heavy/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    for (let i = 0; i < 20; i++) {
      const socket = net.connect(started.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      // A request, and behind it the headers of one that declares 6 MiB and never sends them.
      socket.write(post + 'POST /v2/models/heavy/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 6291456\r\n\r\n');
      await sleep(5);
      socket.destroy();
    }
    await assertNothingInFlight(started.port);
    assert.equal((await request(started.port, 'POST', '/v2/models/heavy/infer', body)).status, 200);
  });

  it('releases the body bytes of pipelined requests read after their connection failed, so later requests are not refused', async () => {
    const MiB = 1024 * 1024;
    const started = await listening({ modelDir: fraudModel().dir, config: { limits: { maxBodyBytesInFlight: 16 * MiB } } });
    app = started.app;
    const valid = JSON.stringify({ inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: [0.5, 0.1, 0.2, 0.3, 1, -0.5, 1, 0] }] });
    // Two probes, a valid request, and the headers of one that declares 6 MiB, written at once by a
    // client that hangs up at once. Answering the probes fails (EPIPE) and destroys the connection, and
    // Node then still reads the requests it has received: the 6 MiB one arrives on a destroyed connection.
    const pipelined = 'GET /ping HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2)
      + `POST /v2/models/fraud-mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${valid.length}\r\n\r\n${valid}`
      + `POST /v2/models/fraud-mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${6 * MiB}\r\n\r\n{"inputs":`;
    for (let i = 0; i < 10; i++) {
      const socket = net.connect(started.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(pipelined);
      socket.destroy();
      await sleep(10);
    }
    await assertNothingInFlight(started.port);
    const after = await request(started.port, 'POST', '/v2/models/fraud-mlp/infer', valid);
    assert.equal(after.status, 200, after.body);
  });

  it('does not make later requests wait for a fuller batch because of requests pipelined behind a refused one', async () => {
    // A request waits up to maxQueueDelayMs for a fuller batch only while other requests are arriving.
    const started = await listening({ modelDir: fraudModel().dir, config: { batching: { maxQueueDelayMs: 2_000 } } });
    app = started.app;
    const valid = JSON.stringify({ inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: [0.5, 0.1, 0.2, 0.3, 1, -0.5, 1, 0] }] });
    const lone = async () => {
      const t0 = performance.now();
      const r = await request(started.port, 'POST', '/v2/models/fraud-mlp/infer', valid);
      assert.equal(r.status, 200, r.body);
      return performance.now() - t0;
    };
    assert.ok(await lone() < 1_000, 'a lone request runs at once');
    // Bad JSON is answered 400 with Connection: close; the requests pipelined behind it (refused before
    // their handler: bad JSON, a schema error, an unknown model, no route) are never answered.
    const behind = [
      '{bad', '{"inputs":[]}',
    ].map((b) => `POST /v2/models/fraud-mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b}`)
      .concat([`POST /v2/models/nope/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${valid.length}\r\n\r\n${valid}`,
        `POST /nothing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${valid.length}\r\n\r\n${valid}`]);
    for (const second of behind) {
      const answer = await new Promise<string>((resolve) => {
        const socket = net.connect(started.port, '127.0.0.1', () => socket.write(behind[0] + second));
        let got = '';
        socket.on('data', (d) => { got += d.toString(); });
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(got));
      });
      assert.equal((answer.match(/HTTP\/1.1 /g) ?? []).length, 1, answer);
      assert.match(answer, /^HTTP\/1.1 400 [^]*\r\nconnection: close\r\n/i);
    }
    await sleep(100); // the server's side of the connections closes too
    const ms = await lone();
    assert.ok(ms < 1_000, `a lone request took ${Math.round(ms)} ms: it waited for requests that will never arrive`);
    const text = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(text, 'http_request_body_bytes_in_flight'), 0);
    assert.equal(metricValue(text, 'http_requests_in_flight'), 1, 'only the scrape itself');
  });

  it('stops running the rows of a large request once its client hangs up', async () => {
    for (const [name, spec, config] of [
      ['fixed-batch', fixedBatchSpec(), {}],
      ['heavy', heavySpec(256, 4, 4), { workers: 1, intraOpNumThreads: 1, batching: { maxBatchSize: 2, maxQueueDelayMs: 0 } }],
    ] as const) {
      const started = await listening({ modelDir: modelDir(`gone-${name}`, spec), config });
      app = started.app;
      const rows = 40_000; // one run per row (or per two rows): seconds of work
      const csv = new Array(rows).fill('0.5,0.25,1,2').join('\n');
      const socket = net.connect(started.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${csv.length}\r\n\r\n${csv}`);
      const runs = async () => metricValue((await request(started.port, 'GET', '/metrics')).body, 'inference_runs_total', { model: `gone-${name}` }) ?? 0;
      for (let i = 0; i < 200 && (await runs()) < 50; i++) await sleep(10);
      socket.destroy();
      await sleep(200);
      const after = await runs();
      await sleep(300);
      assert.equal(await runs(), after, `${name}: no runs after the client left`);
      assert.ok(after < rows, `${name}: ${after} of ${rows} rows ran`);
      await app.close();
      app = undefined;
    }
  });

  it('does not run queued requests whose client has hung up', async () => {
    for (const batching of [true, false]) {
      const name = `abandoned-${batching}`;
      const started = await listening({ modelDir: modelDir(name, heavySpec(1024, 4, 16)), config: { workers: 1, intraOpNumThreads: 1, batching: { enabled: batching, maxBatchSize: 4096 } } });
      app = started.app;
      const metrics = async () => (await request(started.port, 'GET', '/metrics')).body;
      const runsBefore = metricValue(await metrics(), 'inference_runs_total', { model: name }) ?? 0;
      // One long run holds the only worker...
      const rows = 3000;
      const long = request(started.port, 'POST', `/v2/models/${name}/infer`, { inputs: [{ name: 'input', shape: [rows, 16], datatype: 'FP32', data: new Array(rows * 16).fill(0.5) }] });
      for (let i = 0; i < 200 && metricValue(await metrics(), 'inference_runs_in_flight', { model: name }) !== 1; i++) await sleep(5);
      // ...while twelve one-row requests queue behind it, and their clients hang up.
      const one = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0.5) }] });
      const sockets = Array.from({ length: 12 }, () => {
        const socket = net.connect(started.port, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.write(`POST /v2/models/${name}/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${one.length}\r\n\r\n${one}`);
        return socket;
      });
      for (let i = 0; i < 200 && metricValue(await metrics(), 'inference_queue_depth', { model: name }) !== 12; i++) await sleep(5);
      assert.equal(metricValue(await metrics(), 'inference_runs_in_flight', { model: name }), 1, 'the long run is still going: lengthen it');
      for (const socket of sockets) socket.destroy();
      assert.equal((await long).status, 200);
      // A request from a client still connected runs as usual.
      assert.equal((await request(started.port, 'POST', `/v2/models/${name}/infer`, one)).status, 200);
      const text = await metrics();
      assert.equal(metricValue(text, 'inference_runs_total', { model: name }), runsBefore + 2, `batching ${batching}: only the long run and the last request ran`);
      assert.equal(metricValue(text, 'http_errors_total', { code: 'CLIENT_CLOSED' }), 12);
      assert.equal(metricValue(text, 'inference_queue_depth', { model: name }), 0);
      await app.close();
      app = undefined;
    }
  });

  it('counts a request whose client hung up as CLIENT_CLOSED, whatever ended it afterwards (here its deadline)', async () => {
    const started = await listening({ modelDir: modelDir('late', heavySpec(1024, 4, 16)), config: { workers: 1, intraOpNumThreads: 1, batching: { enabled: false }, limits: { requestTimeoutMs: 200 } } });
    app = started.app;
    const rows = 12_000; // a run of about a second holds the only worker past the queued request's deadline
    const long = request(started.port, 'POST', '/v2/models/late/infer', { inputs: [{ name: 'input', shape: [rows, 16], datatype: 'FP32', data: new Array(rows * 16).fill(0.5) }] });
    await sleep(50);
    const one = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0.5) }] });
    const socket = net.connect(started.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`POST /v2/models/late/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${one.length}\r\n\r\n${one}`);
    await sleep(50);
    socket.destroy();
    const longAnswer = await long;
    assert.equal(longAnswer.status, 503, 'the long request\'s own run was still going at its deadline');
    await sleep(50);
    const text = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(text, 'http_errors_total', { code: 'CLIENT_CLOSED' }), 1);
    assert.equal(metricValue(text, 'http_errors_total', { code: 'DEADLINE_EXCEEDED' }), 1, 'the long request\'s, not the one whose client hung up');
    // Both waited in the queue: the long one until its run started, the other until its deadline passed there.
    assert.equal(metricValue(text, 'inference_queue_duration_seconds_count', { model: 'late' }), 2);
    // Its deadline is 200 ms from its arrival, and it was queued a little after.
    assert.ok(metricValue(text, 'inference_queue_duration_seconds_sum', { model: 'late' })! >= 0.15, 'the expired request\'s wait, most of its 200 ms deadline, is in the sum');
  });

  it('answers 408 REQUEST_TIMEOUT, on time, to a request whose headers or body stall or trickle', { timeout: 30_000 }, async () => {
    // A request, headers and body, must arrive in full within limits.requestTimeoutMs + 5 s (5.1 s
    // here), checked every second: a body that keeps arriving, a byte at a time, is cut off too.
    const started = await listening({ modelDir: fraudModel().dir, config: { limits: { requestTimeoutMs: 100 } } });
    app = started.app;
    const send = (text: string, trickle = false) => new Promise<{ answer: string; ms: number }>((resolve) => {
      const socket = net.connect(started.port, '127.0.0.1');
      const t0 = Date.now();
      let answer = '';
      const drip = trickle ? setInterval(() => socket.write('1,'), 200) : undefined;
      socket.on('data', (d) => { answer += d.toString('latin1'); });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ answer, ms: Date.now() - t0 });
      });
      socket.write(text);
    });
    const body = (id: string) => `POST /invocations HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${id}\r\nContent-Type: text/csv\r\nContent-Length: 1000\r\n\r\n1,2,`;
    // A body read in full after the request's deadline, but before the cut-off, gets 503 saying so.
    const late = new Promise<string>((resolve) => {
      const socket = net.connect(started.port, '127.0.0.1');
      let answer = '';
      socket.on('data', (d) => {
        answer += d.toString('latin1');
        if (answer.includes('}')) socket.destroy();
      });
      socket.on('close', () => resolve(answer));
      socket.write('POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 15\r\n\r\n1,2,3,4');
      setTimeout(() => socket.write(',5,6,7,8'), 600);
    });
    const [headers, stalled, trickled] = await Promise.all([
      send('POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n'),
      send(body('stalled-1')),
      send(body('trickled-1'), true),
    ]);
    const lateAnswer = await late;
    assert.match(lateAnswer, /^HTTP\/1.1 503 /, lateAnswer);
    assert.match(lateAnswer, /"code":"DEADLINE_UNMEETABLE"/);
    assert.match(lateAnswer, /deadline passed \d+ ms before it was read in full/);
    for (const [what, r] of [['headers', headers], ['stalled body', stalled], ['trickled body', trickled]] as const) {
      assert.match(r.answer, /^HTTP\/1.1 408 /, `${what}: ${r.answer}`);
      assert.equal(JSON.parse(r.answer.slice(r.answer.indexOf('\r\n\r\n') + 4)).code, 'REQUEST_TIMEOUT', what);
      assert.match(r.answer, /\r\ncontent-type: application\/json\r\n/i, what);
      assert.ok(r.ms >= 5_000 && r.ms < 7_500, `${what}: answered after ${r.ms} ms`);
    }
    assert.match(stalled.answer, /\r\nx-request-id: stalled-1\r\n/i);
    assert.match(trickled.answer, /\r\nx-request-id: trickled-1\r\n/i);
    assert.match(trickled.answer, /did not arrive in full within 5100 ms: its body was still arriving/);
    assert.match(headers.answer, /the request headers did not arrive in full within 5100 ms/);
    // A longer request timeout still gives headers at most 60 s (Node would otherwise swap the two).
    for (const [requestTimeoutMs, headersTimeout, requestTimeout] of [[100, 5_100, 5_100], [55_000, 60_000, 60_000], [120_000, 60_000, 125_000]]) {
      const other = await listening({ modelDir: fraudModel().dir, config: { limits: { requestTimeoutMs } } });
      try {
        assert.deepEqual([other.app.server.headersTimeout, other.app.server.requestTimeout], [headersTimeout, requestTimeout], `requestTimeoutMs ${requestTimeoutMs}`);
      } finally {
        await other.app.close();
      }
    }
    const text = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(text, 'http_errors_total', { code: 'REQUEST_TIMEOUT' }), 3);
    assert.equal(metricValue(text, 'http_errors_total', { code: 'CLIENT_CLOSED' }), undefined, 'the cut-off bodies are not counted again');
  });

  it('keeps a keep-alive connection open 65 s once idle, longer than an AWS load balancer\'s 60 s, whatever the request timeout', async () => {
    const started = await listening({ modelDir: fraudModel().dir, config: { limits: { requestTimeoutMs: 100 } } });
    app = started.app;
    const sockets: net.Socket[] = [];
    app.server.on('connection', (s: net.Socket) => sockets.push(s));
    const res = await request(started.port, 'GET', '/ping');
    assert.equal(res.headers['keep-alive'], 'timeout=65');
    await sleep(50);
    assert.equal(sockets.length, 1);
    // Idle after its answer, the connection waits keepAliveTimeout (Node adds a second), not the 10.1 s
    // a stalled body gets.
    assert.ok(sockets[0].timeout! >= 65_000 && sockets[0].timeout! <= 66_000, `idle timeout ${sockets[0].timeout} ms`);
  });

  it('answers requests Node cannot parse with the catalogue body, and counts them', { timeout: 20_000 }, async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const raw = (text: string) => new Promise<string>((resolve) => {
      const socket = net.connect(started.port, '127.0.0.1', () => socket.write(text));
      let out = '';
      socket.on('data', (d: Buffer) => { out += d.toString(); });
      socket.on('close', () => resolve(out));
      socket.on('error', () => undefined);
    });
    const cases: Array<[string, number, string, RegExp]> = [
      ['POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400, 'INVALID_REQUEST', /^the request is not valid HTTP: .*\(HPE_/],
      ['POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'INVALID_REQUEST', /^the request is not valid HTTP/],
      [`GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE', /^the request headers are larger than the server takes/],
      // A body that turns malformed once its request is under way (a bad chunk size).
      ['POST /invocations HTTP/1.1\r\nHost: x\r\nX-Request-Id: bad-chunk-1\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n1,2\r\nzz\r\n', 400, 'INVALID_REQUEST', /^the request body is not valid HTTP: .*\(HPE_/],
    ];
    for (const [text, status, code, message] of cases) {
      const answer = await raw(text);
      assert.match(answer, new RegExp(`^HTTP/1.1 ${status} `), answer.slice(0, 200));
      if (text.includes('X-Request-Id')) assert.match(answer, /\r\nx-request-id: bad-chunk-1\r\n/i);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      assert.equal(body.code, code);
      assert.match(body.error, message);
      assert.match(answer, /\r\ncontent-type: application\/json\r\n/i);
    }
    let metrics = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'http_errors_total', { code: 'INVALID_REQUEST' }), 3);
    assert.equal(metricValue(metrics, 'http_errors_total', { code: 'HEADERS_TOO_LARGE' }), 1);
    assert.equal(metricValue(metrics, 'http_errors_total', { code: 'CLIENT_CLOSED' }), undefined);
    assert.equal(metricValue(metrics, 'http_requests_total', { method: 'POST', route: '/invocations', status_code: '400' }), 1, 'the malformed body, on its route');
    // Pipelined behind a valid request, a malformed body does not get the valid request's answer slot:
    // the connection is closed, and nothing is answered 400 for the wrong request.
    const valid = '0.5,0.1,0.2,0.3,1,-0.5,1,0';
    const pipelined = await raw(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${valid.length}\r\n\r\n${valid}`
      + 'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n1,2\r\nzz\r\n');
    assert.ok(!pipelined.includes(' 400 '), pipelined);
    // Nor does a complete request followed by bytes that are not HTTP.
    const trailed = await raw(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${valid.length}\r\n\r\n${valid}\x01\x02 garbage\r\n\r\n`);
    assert.ok(!trailed.includes(' 400 '), trailed);
    // Both pipelined requests end (their connection is gone, the valid one's run or its drop from the
    // queue done) before the next count is read.
    for (let i = 0; i < 200; i++) {
      await sleep(20);
      metrics = (await request(started.port, 'GET', '/metrics')).body;
      if (metricValue(metrics, 'http_requests_in_flight') === 1 && metricValue(metrics, 'inference_queue_depth', { model: 'fraud-mlp' }) === 0
        && metricValue(metrics, 'inference_runs_in_flight', { model: 'fraud-mlp' }) === 0) break;
    }
    await sleep(50);
    metrics = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'http_errors_total', { code: 'INVALID_REQUEST' }), 3, 'not counted as an invalid request');
    const closedBefore = metricValue(metrics, 'http_errors_total', { code: 'CLIENT_CLOSED' }) ?? 0;
    // They are requests answered too (with no route or method Node could read).
    assert.equal(metricValue(metrics, 'http_requests_total', { method: 'UNKNOWN', route: '__unparsed__', status_code: '400' }), 2);
    assert.equal(metricValue(metrics, 'http_requests_total', { method: 'UNKNOWN', route: '__unparsed__', status_code: '431' }), 1);
    // A client that hangs up mid-body is one request that ended early, counted once as CLIENT_CLOSED
    // (not as a request Node could not parse, nor as an invalid one).
    const socket = net.connect(started.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.end('POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 113\r\n\r\n{"instances": [[1, 2');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('close', resolve));
    await sleep(50);
    metrics = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'http_errors_total', { code: 'INVALID_REQUEST' }), 3, 'not counted as invalid');
    assert.equal(metricValue(metrics, 'http_errors_total', { code: 'CLIENT_CLOSED' }), closedBefore + 1, 'counted once');
  });
});
