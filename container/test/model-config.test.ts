import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app';
import { affinityCpuCount, cgroupCpuQuota, cgroupMemoryLimit, configFromEnv, cpuCount, MAX_BODY_LIMIT_BYTES, memoryLimit, readConfigFile, resolveConfig, safeTextBodyLimit, ServingConfigInput, workerMemoryEstimate } from '../src/config';
import { InferenceError } from '../src/errors';
import { fromHalfBits, toHalfBits } from '../src/tensors';
import { fraudModel, metricValue, modelDir, readyApp, scratchDir } from './helpers';
import { fixedBatchSpec, heavySpec } from '../tools/test-models';
import { InferenceEngine } from '../src/engine';
import { sessionOptions, transferables } from '../src/worker';

const features = { name: 'features', shape: [1, 8], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0, 0, 0] };

describe('metrics', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('exposes request, latency, inference, batch, queue, in-flight and model-load metrics in Prometheus text', async () => {
    const a = await readyApp({ modelDir: fraudModel().dir });
    app = a;
    for (let i = 0; i < 3; i++) {
      const ok = await a.inject({ method: 'POST', url: '/v2/models/fraud-mlp/infer', payload: { inputs: [features] } });
      assert.equal(ok.statusCode, 200);
    }
    await app.inject({ method: 'POST', url: '/v2/models/fraud-mlp/infer', payload: { inputs: [{ ...features, datatype: 'FP64' }] } });
    await app.inject({ method: 'GET', url: '/ping' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0.0.4/);
    const text = res.body;
    const m = { model: 'fraud-mlp' };
    assert.equal(metricValue(text, 'http_requests_total', { method: 'POST', route: '/v2/models/:name/infer', status_code: '200' }), 3);
    assert.equal(metricValue(text, 'http_requests_total', { method: 'POST', route: '/v2/models/:name/infer', status_code: '400' }), 1);
    assert.equal(metricValue(text, 'http_requests_total', { method: 'GET', route: '/ping', status_code: '200' }), 1);
    assert.equal(metricValue(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/v2/models/:name/infer', status_code: '200' }), 3);
    assert.equal(metricValue(text, 'http_errors_total', { code: 'DATATYPE_MISMATCH' }), 1);
    assert.equal(metricValue(text, 'inference_runs_total', m), 3);
    assert.equal(metricValue(text, 'inference_run_failures_total', m), 0);
    assert.equal(metricValue(text, 'inference_requests_total', m), 3);
    assert.equal(metricValue(text, 'inference_compute_duration_seconds_count', m), 3);
    assert.equal(metricValue(text, 'inference_queue_duration_seconds_count', m), 3);
    assert.equal(metricValue(text, 'inference_batch_size_bucket', { ...m, le: '1' }), 3);
    assert.equal(metricValue(text, 'inference_queue_depth', m), 0);
    assert.equal(metricValue(text, 'inference_runs_in_flight', m), 0);
    assert.equal(metricValue(text, 'http_requests_in_flight'), 1); // the scrape itself
    assert.equal(metricValue(text, 'model_ready', m), 1);
    assert.equal(metricValue(text, 'inference_execution_provider', { ...m, provider: 'cpu' }), 1);
    assert.equal(metricValue(text, 'inference_worker_restarts_total', m), 0, 'the series exists before the first restart');
    assert.equal(metricValue(text, 'inference_workers_set_aside', m), 0);
    assert.ok(metricValue(text, 'model_load_duration_seconds', m)! > 0);
    assert.ok(metricValue(text, 'nodejs_eventloop_lag_p99_seconds') !== undefined);
  });

  it('has the types and buckets the README lists, and counts requests no route matches under one route label', async () => {
    const a = await readyApp({ modelDir: fraudModel().dir });
    app = a;
    for (const url of ['/nope-1', '/nope-2?x=1', '/v3/anything']) assert.equal((await a.inject({ method: 'GET', url })).statusCode, 404);
    const text = (await a.inject({ method: 'GET', url: '/metrics' })).body;
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((t) => [t[1], t[2]]));
    const want: Record<string, string> = {
      http_requests_total: 'counter', http_request_duration_seconds: 'histogram', http_requests_in_flight: 'gauge',
      http_request_body_bytes_in_flight: 'gauge', http_errors_total: 'counter', inference_compute_duration_seconds: 'histogram',
      inference_queue_duration_seconds: 'histogram', inference_batch_size: 'histogram', inference_runs_total: 'counter', inference_run_failures_total: 'counter',
      inference_requests_total: 'counter', inference_queue_depth: 'gauge', inference_runs_in_flight: 'gauge',
      inference_worker_restarts_total: 'counter', inference_workers_set_aside: 'gauge', model_load_duration_seconds: 'gauge', model_ready: 'gauge', inference_execution_provider: 'gauge',
    };
    for (const [name, type] of Object.entries(want)) assert.equal(types.get(name), type, name);
    const m = { model: 'fraud-mlp' };
    for (const name of ['inference_compute_duration_seconds', 'inference_queue_duration_seconds']) {
      assert.equal(metricValue(text, `${name}_bucket`, { ...m, le: '0.0005' }), 0, `${name} starts at 0.5 ms`);
      assert.equal(metricValue(text, `${name}_bucket`, { ...m, le: '60' }), 0, `${name} ends at 60 s`);
    }
    assert.equal(metricValue(text, 'inference_batch_size_bucket', { ...m, le: '1024' }), 0);
    assert.equal(metricValue(text, 'http_requests_total', { method: 'GET', route: '__unmatched__', status_code: '404' }), 3);
    assert.equal(metricValue(text, 'http_errors_total', { code: 'NOT_FOUND' }), 3);
    assert.ok(!/nope|v3/.test(text), 'a URL no route matches is not a label value');
  });
});

describe('model loading and readiness', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('is live at once, ready only after load and warm-up', async () => {
    app = await buildApp({ modelDir: modelDir('heavy', heavySpec(1024, 4, 16)) });
    assert.equal(app.model.state, 'loading');
    assert.equal((await app.inject({ method: 'GET', url: '/v2/health/live' })).statusCode, 200);
    const ping = await app.inject({ method: 'GET', url: '/ping' });
    assert.equal(ping.statusCode, 503);
    assert.deepEqual(ping.json(), { ready: false, model: 'heavy', state: 'loading' });
    assert.equal(ping.headers['retry-after'], '5', 'a load balancer or client may retry when the model is likely loaded');
    const ready = await app.inject({ method: 'GET', url: '/v2/health/ready' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.headers['retry-after'], '5');
    for (const url of ['/v2/models/heavy/ready', '/v2/models/heavy/versions/1/ready']) {
      const answer: { statusCode: number; headers: Record<string, unknown> } = await app.inject({ method: 'GET', url });
      assert.equal(answer.statusCode, 503, url);
      assert.equal(answer.headers['retry-after'], '5', url);
    }
    const early = await app.inject({ method: 'POST', url: '/v2/models/heavy/infer', payload: { inputs: [{ name: 'input', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0) }] } });
    assert.equal(early.statusCode, 503);
    assert.equal(early.json().code, 'MODEL_NOT_READY');
    await app.model.ready;
    assert.equal(app.server.listening, false, 'the model loads as the app is built, before the server listens');
    assert.equal((await app.inject({ method: 'GET', url: '/ping' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode, 200);
  });

  it('a model that cannot load leaves the server live but not ready, and says why', async () => {
    const dir = modelDir('broken', heavySpec(8, 1));
    fs.writeFileSync(path.join(dir, 'model.onnx'), 'not a model');
    app = await buildApp({ modelDir: dir });
    await assert.rejects(app.model.ready, /cannot load model/);
    assert.equal((await app.inject({ method: 'GET', url: '/v2/health/live' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/v2/models/broken/ready' })).statusCode, 503);
    const res = await app.inject({ method: 'POST', url: '/invocations', payload: { instances: [[1]] } });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '5');
    assert.equal(res.json().code, 'MODEL_NOT_READY');
    assert.match(res.json().error, /model 'broken' failed to load: cannot load model/);
  });

  it('names the model after MODEL_NAME when given', async () => {
    app = await readyApp({ modelDir: fraudModel().dir, modelName: 'scorer' });
    assert.equal((await app.inject({ method: 'GET', url: '/v2/models/scorer' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/v2/models/fraud-mlp' })).statusCode, 404);
  });

  it('refuses a model name no /v2/models/{name} URL can carry (empty, . or .., or with a slash), naming MODEL_NAME', async () => {
    // Clients remove '.' and '..' path segments (RFC 3986), and tritonclient does not encode '/'.
    const refusal = (options: { modelDir: string; modelName?: string }) => buildApp({ ...options, logger: false }).then(async (built) => {
      await built.close(); // started: the model loads, and must be stopped
      return undefined;
    }, (e: Error) => e);
    for (const name of ['org/model', '..', '.']) {
      const e = await refusal({ modelDir: fraudModel().dir, modelName: name });
      assert.equal(e?.name, 'ConfigError', name);
      assert.equal(e?.message, `MODEL_NAME is ${JSON.stringify(name)}; a model name must not be empty, '.' or '..', nor contain '/', as it is a segment of the /v2/models/{name} URLs`);
    }
    // The root directory has no name to serve the model under.
    const e = await refusal({ modelDir: '/' });
    assert.equal(e?.name, 'ConfigError');
    assert.equal(e?.message, 'the model directory / has no name to serve the model under; set MODEL_NAME');
  });

  it('loads features.json and hands it to input checks, whose errors reach the client', async () => {
    const { dir } = fraudModel();
    fs.writeFileSync(path.join(dir, 'features.json'), JSON.stringify({ features: ['amount_z'] }));
    let seen: unknown;
    app = await readyApp({
      modelDir: dir,
      inputChecks: [(inputs, model) => {
        seen = model.features;
        if ((inputs[0].data as Float32Array)[0] > 100) throw new InferenceError('BAD_TENSOR_VALUE', "input 'features': amount_z is out of range");
      }],
    });
    const ok = await app.inject({ method: 'POST', url: '/invocations', payload: { instances: [[1, 0, 0, 0, 0, 0, 0, 0]] } });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(seen, { features: ['amount_z'] });
    const bad = await app.inject({ method: 'POST', url: '/invocations', payload: { instances: [[1000, 0, 0, 0, 0, 0, 0, 0]] } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error, "input 'features': amount_z is out of range");
  });
});

describe('serving configuration', () => {
  const dir = '/nonexistent-model-dir';
  const fails = (raw: unknown, message: RegExp) => assert.throws(() => resolveConfig(dir, [['serving.json', raw]]), message);

  it('has defaults derived from the CPUs', () => {
    const c = resolveConfig(dir, []);
    assert.ok(c.workers >= 1 && c.intraOpNumThreads >= 1);
    assert.equal(c.modelFile, 'model.onnx');
    assert.deepEqual(c.batching, { enabled: true, maxBatchSize: 64, maxQueueDelayMs: 2 });
    assert.equal(c.limits.bodyLimitBytes, 6 * 1024 * 1024);
  });

  it('has the defaults the README shows for a 2-CPU pod with 2 GiB of memory', () => {
    const MiB = 1024 * 1024;
    // Node sizes the heap from the memory limit: 1120 MiB in a 2 GiB pod with the image's --max-semi-space-size=32.
    const c = resolveConfig(dir, [], 2, 2048 * MiB, 1120 * MiB, 0);
    assert.deepEqual({ ...c, limits: undefined }, {
      modelFile: 'model.onnx', workers: 1, intraOpNumThreads: 2, intraOpSpinning: false, executionProviders: ['cpu'], gpus: 0,
      batching: { enabled: true, maxBatchSize: 64, maxQueueDelayMs: 2 }, queue: { maxSize: 256, maxBytes: 256 * MiB }, limits: undefined,
    });
    assert.deepEqual(c.limits, {
      bodyLimitBytes: 6 * MiB, maxTensorElements: 16 * MiB, maxTensorRank: 16, requestTimeoutMs: 55_000, maxBodyBytesInFlight: 256 * MiB, textBodyLimitBytes: 6 * MiB,
      maxAnswerElements: 1120 * 1024, // a 1024th of the heap
    });
    const raised = resolveConfig(dir, [['file', { limits: { bodyLimitBytes: 100 * MiB } }]], 2, 2048 * MiB, 1120 * MiB, 0);
    assert.equal(raised.limits.textBodyLimitBytes, 17.5 * MiB, 'a 64th of the heap, below a raised body limit');
  });

  it('reads the cgroup CPU quota (v2 and v1) that caps the CPUs a container may use', () => {
    const fsRoot = scratchDir('cgroup-');
    const root = path.join(fsRoot, 'sys', 'fs', 'cgroup');
    fs.mkdirSync(root, { recursive: true });
    try {
      assert.equal(cgroupCpuQuota(fsRoot), undefined, 'no cgroup files: no quota');
      fs.writeFileSync(path.join(root, 'cpu.max'), 'max 100000\n');
      assert.equal(cgroupCpuQuota(fsRoot), undefined, 'v2 without a limit');
      fs.writeFileSync(path.join(root, 'cpu.max'), '250000 100000\n');
      assert.equal(cgroupCpuQuota(fsRoot), 2, 'a 2.5 CPU limit gives 2 whole CPUs');
      fs.writeFileSync(path.join(root, 'cpu.max'), '50000 100000\n');
      assert.equal(cgroupCpuQuota(fsRoot), 1, 'a limit under one CPU still gives 1');
      fs.rmSync(path.join(root, 'cpu.max'));
      fs.mkdirSync(path.join(root, 'cpu'));
      fs.writeFileSync(path.join(root, 'cpu', 'cpu.cfs_quota_us'), '400000\n');
      fs.writeFileSync(path.join(root, 'cpu', 'cpu.cfs_period_us'), '100000\n');
      assert.equal(cgroupCpuQuota(fsRoot), 4, 'v1 quota');
      fs.writeFileSync(path.join(root, 'cpu', 'cpu.cfs_quota_us'), '-1\n');
      assert.equal(cgroupCpuQuota(fsRoot), undefined, 'v1 without a limit');
    } finally {
      fs.rmSync(fsRoot, { recursive: true, force: true });
    }
    assert.ok(cpuCount() >= 1);
  });

  it('counts the CPUs of the affinity list in /proc/self/status, not os.availableParallelism() (which some libuv versions cut to 1 under cgroup v2), capped by the quota', () => {
    const fsRoot = scratchDir('affinity-');
    const proc = path.join(fsRoot, 'proc', 'self');
    const cgroup = path.join(fsRoot, 'sys', 'fs', 'cgroup');
    fs.mkdirSync(proc, { recursive: true });
    fs.mkdirSync(cgroup, { recursive: true });
    const status = (list: string) => fs.writeFileSync(path.join(proc, 'status'), `Name:\tnode\nCpus_allowed:\tff0f\nCpus_allowed_list:\t${list}\nMems_allowed_list:\t0\n`);
    try {
      assert.equal(affinityCpuCount(fsRoot), undefined, 'no status file: unknown');
      assert.equal(cpuCount(fsRoot), Math.max(1, os.availableParallelism()), 'unknown affinity: Node.js\'s count');
      status('0-3,8-11');
      assert.equal(affinityCpuCount(fsRoot), 8);
      fs.writeFileSync(path.join(cgroup, 'cpu.max'), 'max 100000\n');
      assert.equal(cpuCount(fsRoot), 8, 'no quota: every CPU of the affinity');
      fs.writeFileSync(path.join(cgroup, 'cpu.max'), '300000 100000\n');
      assert.equal(cpuCount(fsRoot), 3, 'the quota caps it');
      status('5');
      assert.equal(cpuCount(fsRoot), 1);
      status('0-63');
      fs.writeFileSync(path.join(cgroup, 'cpu.max'), '1600000 100000\n');
      assert.equal(cpuCount(fsRoot), 16, 'a 16-CPU pod on a 64-CPU node');
      status('3-1');
      assert.equal(affinityCpuCount(fsRoot), undefined, 'a list it cannot read: unknown');
    } finally {
      fs.rmSync(fsRoot, { recursive: true, force: true });
    }
    if (os.platform() === 'linux') {
      const own = affinityCpuCount();
      assert.ok(own !== undefined && own >= 1 && own <= os.cpus().length, `this process's affinity: ${own} CPUs`);
    }
  });

  it('reads the cgroup memory limit (v2 and v1) and sizes limits.maxBodyBytesInFlight from the memory', () => {
    const fsRoot = scratchDir('cgroup-');
    const root = path.join(fsRoot, 'sys', 'fs', 'cgroup');
    fs.mkdirSync(root, { recursive: true });
    const MiB = 1024 * 1024;
    try {
      assert.equal(cgroupMemoryLimit(fsRoot), undefined, 'no cgroup files: no limit');
      fs.writeFileSync(path.join(root, 'memory.max'), 'max\n');
      assert.equal(cgroupMemoryLimit(fsRoot), undefined, 'v2 without a limit');
      fs.writeFileSync(path.join(root, 'memory.max'), `${2048 * MiB}\n`);
      assert.equal(cgroupMemoryLimit(fsRoot), 2048 * MiB, 'v2 limit');
      fs.rmSync(path.join(root, 'memory.max'));
      fs.mkdirSync(path.join(root, 'memory'));
      fs.writeFileSync(path.join(root, 'memory', 'memory.limit_in_bytes'), `${512 * MiB}\n`);
      assert.equal(cgroupMemoryLimit(fsRoot), 512 * MiB, 'v1 limit');
      fs.writeFileSync(path.join(root, 'memory', 'memory.limit_in_bytes'), '9223372036854771712\n');
      assert.equal(cgroupMemoryLimit(fsRoot), undefined, 'v1 without a limit');
    } finally {
      fs.rmSync(fsRoot, { recursive: true, force: true });
    }
    assert.ok(memoryLimit() > 0 && memoryLimit() <= os.totalmem());
    const inFlight = (memory: number, layers: ReadonlyArray<[string, unknown]> = []) => resolveConfig(dir, layers, 2, memory).limits.maxBodyBytesInFlight;
    assert.equal(inFlight(2048 * MiB), 256 * MiB, 'an eighth of a 2 GiB limit');
    assert.equal(inFlight(256 * MiB), 64 * MiB, 'never under 64 MiB');
    assert.equal(inFlight(64 * 1024 * MiB), 1024 * MiB, 'never over 1 GiB by default');
    assert.equal(inFlight(2048 * MiB, [['env', { limits: { maxBodyBytesInFlight: 8 * MiB } }]]), 8 * MiB);
    assert.throws(() => inFlight(2048 * MiB, [['env', { limits: { maxBodyBytesInFlight: 1000 } }]]), /env: 'limits.maxBodyBytesInFlight' is 1000; it must be an integer from 1048576 to 68719476736/);
    assert.deepEqual(configFromEnv({ MAX_BODY_BYTES_IN_FLIGHT: '33554432' }), { limits: { maxBodyBytesInFlight: 33554432 } });
    // A body is read into one string, and V8 strings stop short of 512 MiB: a larger limit would crash the process.
    assert.throws(() => resolveConfig(dir, [['env', { limits: { bodyLimitBytes: 600 * MiB } }]]), /'limits.bodyLimitBytes' is 629145600; it must be an integer from 1024 to 524288000/);
  });

  it('names the environment variable, its value and the field it sets when a variable is out of range', () => {
    assert.throws(() => configFromEnv({ INFERENCE_WORKERS: '0' }), /^ConfigError: environment: INFERENCE_WORKERS="0": 'workers' is 0; it must be an integer from 1 to 256$/);
    assert.throws(() => configFromEnv({ MAX_BATCH_SIZE: '65537' }), /environment: MAX_BATCH_SIZE="65537": 'batching.maxBatchSize' is 65537; it must be an integer from 1 to 65536/);
    assert.throws(() => configFromEnv({ ORT_EXECUTION_PROVIDERS: 'cuda,metal' }), /environment: ORT_EXECUTION_PROVIDERS="cuda,metal": 'executionProviders' is \["cuda","metal"\]; it must be a non-empty list of cpu, cuda, tensorrt/);
    assert.throws(() => configFromEnv({ REQUEST_TIMEOUT_MS: '5' }), /environment: REQUEST_TIMEOUT_MS="5": 'limits.requestTimeoutMs' is 5/);
  });

  it('sizes the worker pool from the CPUs: one wide session for batching, several for one request at a time', () => {
    const pool = (layers: ReadonlyArray<[string, unknown]>, cpus: number) => {
      const c = resolveConfig(dir, layers, cpus);
      return { workers: c.workers, intraOpNumThreads: c.intraOpNumThreads, unbatchedPool: c.unbatchedPool };
    };
    assert.deepEqual(pool([], 12), { workers: 1, intraOpNumThreads: 12, unbatchedPool: { workers: 6, intraOpNumThreads: 2 } });
    assert.deepEqual(pool([], 2), { workers: 1, intraOpNumThreads: 2, unbatchedPool: undefined });
    assert.deepEqual(pool([['env', { batching: { enabled: false } }]], 12), { workers: 6, intraOpNumThreads: 2, unbatchedPool: undefined });
    assert.deepEqual(pool([['env', { workers: 3 }]], 12), { workers: 3, intraOpNumThreads: 4, unbatchedPool: undefined });
    assert.deepEqual(pool([['env', { intraOpNumThreads: 4 }]], 12), { workers: 1, intraOpNumThreads: 4, unbatchedPool: undefined });
  });

  it('keeps the per-request pool within half the memory: each worker holds about twice the model, external data included', async () => {
    const MiB = 1024 * 1024;
    const big = scratchDir('big-model-');
    fs.writeFileSync(path.join(big, 'model.onnx'), '');
    fs.truncateSync(path.join(big, 'model.onnx'), 10 * MiB); // sparse: only its size matters here
    fs.writeFileSync(path.join(big, 'model.onnx.data'), '');
    fs.truncateSync(path.join(big, 'model.onnx.data'), 90 * MiB);
    fs.writeFileSync(path.join(big, 'serving.json'), '{}');
    const perWorker = 2 * 100 * MiB + 32 * MiB;
    assert.equal(workerMemoryEstimate(big, 'model.onnx'), perWorker, 'model file and external data, not serving.json');
    assert.equal(workerMemoryEstimate(big, 'missing.onnx'), undefined);
    const pool = (layers: ReadonlyArray<[string, unknown]>, cpus: number, memory: number) => {
      const c = resolveConfig(big, layers, cpus, memory);
      return { workers: c.workers, intraOpNumThreads: c.intraOpNumThreads, unbatchedPool: c.unbatchedPool, memory: c.memory };
    };
    // 1 GiB: half of it holds two copies, where 16 CPUs would give eight workers.
    assert.deepEqual(pool([], 16, 1024 * MiB), {
      workers: 1, intraOpNumThreads: 16, unbatchedPool: { workers: 2, intraOpNumThreads: 8 },
      memory: { perWorkerBytes: perWorker, limitBytes: 1024 * MiB, cappedFrom: 8 },
    });
    assert.deepEqual(pool([['env', { batching: { enabled: false } }]], 16, 1024 * MiB).workers, 2);
    assert.deepEqual(pool([['env', { intraOpNumThreads: 4, batching: { enabled: false } }]], 16, 1024 * MiB), {
      workers: 2, intraOpNumThreads: 4, unbatchedPool: undefined, memory: { perWorkerBytes: perWorker, limitBytes: 1024 * MiB, cappedFrom: 8 },
    }, 'threads set, batching off: the default worker count, within the memory too');
    assert.deepEqual(pool([], 16, 300 * MiB), {
      workers: 1, intraOpNumThreads: 16, unbatchedPool: undefined, memory: { perWorkerBytes: perWorker, limitBytes: 300 * MiB, cappedFrom: 8 },
    }, 'at least one worker: the batching pool, so there is nothing to switch to');
    assert.deepEqual(pool([], 16, 64 * 1024 * MiB), {
      workers: 1, intraOpNumThreads: 16, unbatchedPool: { workers: 8, intraOpNumThreads: 2 }, memory: { perWorkerBytes: perWorker, limitBytes: 64 * 1024 * MiB },
    }, 'enough memory: the CPUs decide');
    assert.deepEqual(pool([['env', { workers: 8 }]], 16, 1024 * MiB).workers, 8, 'a configured pool is kept');

    // A configured pool that cannot fit is warned about when the server starts.
    const lines: string[] = [];
    const huge = scratchDir('huge-model-');
    fs.writeFileSync(path.join(huge, 'model.onnx'), '');
    fs.truncateSync(path.join(huge, 'model.onnx'), os.totalmem());
    const app = await buildApp({ modelDir: huge, config: { workers: 1 }, logger: { level: 'warn', stream: { write: (l: string) => lines.push(l) } } });
    await app.model.ready.catch(() => undefined); // not a real model: it fails to load
    await app.close();
    const warning = lines.map((l) => JSON.parse(l)).find((l) => /may not fit in memory/.test(l.msg));
    assert.ok(warning, lines.join('\n'));
    assert.equal(warning.workers, 1);
    assert.equal(warning.perWorkerMiB, Math.round((2 * os.totalmem() + 32 * MiB) / MiB));
  });

  it('counts the external data beside a model file in a subdirectory, not the files beside serving.json', () => {
    // onnxruntime reads external data relative to the model file's directory, so modelFile
    // "fp32/model.onnx" keeps its weights in fp32/, not in the model directory itself.
    const MiB = 1024 * 1024;
    const dir = scratchDir('sub-model-');
    try {
      fs.mkdirSync(path.join(dir, 'fp32'));
      fs.writeFileSync(path.join(dir, 'fp32', 'model.onnx'), '');
      fs.truncateSync(path.join(dir, 'fp32', 'model.onnx'), 10 * MiB);
      fs.writeFileSync(path.join(dir, 'fp32', 'model.onnx.data'), '');
      fs.truncateSync(path.join(dir, 'fp32', 'model.onnx.data'), 90 * MiB);
      fs.writeFileSync(path.join(dir, 'labels.txt'), '');
      fs.truncateSync(path.join(dir, 'labels.txt'), 50 * MiB);
      assert.equal(workerMemoryEstimate(dir, 'fp32/model.onnx'), 2 * 100 * MiB + 32 * MiB);
      const c = resolveConfig(dir, [['serving.json', { modelFile: 'fp32/model.onnx' }]], 16, 1024 * MiB);
      assert.deepEqual(c.unbatchedPool, { workers: 2, intraOpNumThreads: 8 }, 'half of 1 GiB holds two copies of 232 MiB');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives a GPU provider one worker per visible GPU, batching or not, unless workers is set', () => {
    const pool = (layers: ReadonlyArray<[string, unknown]>, gpus: number) => {
      const c = resolveConfig(dir, layers, 16, undefined, undefined, gpus);
      return { workers: c.workers, intraOpNumThreads: c.intraOpNumThreads, unbatchedPool: c.unbatchedPool };
    };
    const cuda = ['env', { executionProviders: ['cuda', 'cpu'] }] as [string, unknown];
    assert.deepEqual(pool([cuda], 4), { workers: 4, intraOpNumThreads: 4, unbatchedPool: undefined });
    assert.deepEqual(pool([cuda, ['env', { batching: { enabled: false } }]], 2), { workers: 2, intraOpNumThreads: 8, unbatchedPool: undefined });
    assert.deepEqual(pool([cuda], 0), { workers: 1, intraOpNumThreads: 16, unbatchedPool: undefined }, 'none visible: one worker, which then falls back or fails');
    assert.deepEqual(pool([cuda, ['env', { workers: 1 }]], 4), { workers: 1, intraOpNumThreads: 16, unbatchedPool: undefined });
    assert.deepEqual(pool([], 4), { workers: 1, intraOpNumThreads: 16, unbatchedPool: { workers: 8, intraOpNumThreads: 2 } }, 'the CPU ignores GPUs');
  });

  it('sizes the pool for the CPU when a GPU provider is listed after cpu, which is never tried', () => {
    const pool = (providers: string[]) => {
      const c = resolveConfig(dir, [['env', { executionProviders: providers }]], 16, undefined, undefined, 4);
      return { workers: c.workers, intraOpNumThreads: c.intraOpNumThreads, unbatchedPool: c.unbatchedPool };
    };
    assert.deepEqual(pool(['cpu', 'cuda']), pool(['cpu']));
    assert.deepEqual(pool(['cpu', 'cuda']), { workers: 1, intraOpNumThreads: 16, unbatchedPool: { workers: 8, intraOpNumThreads: 2 } });
  });

  it('switches a model that cannot batch to the per-request pool, and keeps one wide worker for one that can', async () => {
    const fixed = modelDir('fixed', fixedBatchSpec());
    const unbatched = await InferenceEngine.start(path.join(fixed, 'model.onnx'), resolveConfig(fixed, [], 4));
    try {
      assert.equal(unbatched.batchingActive, false);
      assert.deepEqual([unbatched.workerCount, unbatched.intraOpNumThreads], [2, 2]);
    } finally {
      await unbatched.close();
    }
    const { dir: fraud } = fraudModel();
    const batched = await InferenceEngine.start(path.join(fraud, 'model.onnx'), resolveConfig(fraud, [], 4));
    try {
      assert.equal(batched.batchingActive, true);
      assert.deepEqual([batched.workerCount, batched.intraOpNumThreads], [1, 4]);
    } finally {
      await batched.close();
    }
  });

  it('moves each whole buffer to a worker once, even when two tensors hold the same one, and copies views into a larger buffer', () => {
    const shared = new Float32Array([1, 2]);
    const own = new Int32Array([3]);
    const whole = new Uint8Array(16);
    const view = new Float32Array(whole.buffer, 4, 2);
    const tensors = [shared, own, shared, view].map((data, i) => ({ name: `t${i}`, type: 'float32', dims: [data.length], data }));
    const list = transferables(tensors as Parameters<typeof transferables>[0]);
    assert.deepEqual(list, [shared.buffer, own.buffer]);
    // postMessage refuses a transfer list naming a buffer twice (DataCloneError): nothing would be sent.
    const { port1, port2 } = new MessageChannel();
    try {
      assert.doesNotThrow(() => port1.postMessage(tensors, list));
    } finally {
      port1.close();
      port2.close();
    }
  });

  it('lets intra-op threads spin only when asked, and never between runs', async () => {
    assert.equal(resolveConfig(dir, []).intraOpSpinning, false);
    assert.equal(resolveConfig(dir, [['serving.json', { intraOpSpinning: true }]]).intraOpSpinning, true);
    fails({ intraOpSpinning: 'yes' }, /serving.json: 'intraOpSpinning' is "yes"; it must be true or false/);
    assert.deepEqual(configFromEnv({ INTRA_OP_SPINNING: 'on' }), { intraOpSpinning: true });
    assert.deepEqual(configFromEnv({ INTRA_OP_SPINNING: 'off' }), { intraOpSpinning: false });
    assert.throws(() => configFromEnv({ INTRA_OP_SPINNING: '1' }), /environment: INTRA_OP_SPINNING is "1"; it must be on or off/);
    const session = (spin: boolean) => (sessionOptions({ intraOpNumThreads: 2, intraOpSpinning: spin }).extra as { session: unknown }).session;
    assert.deepEqual(session(false), { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' }, force_spinning_stop: '1' });
    assert.deepEqual(session(true), { intra_op: { allow_spinning: '1' }, inter_op: { allow_spinning: '0' }, force_spinning_stop: '1' });

    // With spinning on, onnxruntime's threads would otherwise spin for tens of milliseconds after each
    // run: an idle server must not burn CPU.
    const d = modelDir('spin', heavySpec(1024, 4, 16));
    const engine = await InferenceEngine.start(path.join(d, 'model.onnx'), resolveConfig(d, [['test', { workers: 1, intraOpNumThreads: 2, intraOpSpinning: true }]]));
    try {
      for (let i = 0; i < 5; i++) {
        await engine.infer({ inputs: [{ name: 'input', type: 'float32', dims: [4, 16], data: new Float32Array(64) }], outputNames: ['score'], deadline: Date.now() + 10_000 });
      }
      const before = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, 150));
      const used = process.cpuUsage(before);
      const ms = (used.user + used.system) / 1000;
      assert.ok(ms < 15, `the process used ${ms.toFixed(1)} ms of CPU in 150 ms of idling after a run`);
    } finally {
      await engine.close();
    }
  });

  it('raises the tensor element cap with the body limit unless the cap is set, so a body within the limit fits', () => {
    const MiB = 1024 * 1024;
    assert.equal(resolveConfig(dir, []).limits.maxTensorElements, 16 * MiB);
    assert.equal(resolveConfig(dir, [['env', configFromEnv({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '40' })]]).limits.maxTensorElements, 40 * MiB);
    assert.equal(resolveConfig(dir, [['file', { limits: { bodyLimitBytes: 100 * MiB } }]]).limits.maxTensorElements, 100 * MiB);
    assert.equal(resolveConfig(dir, [['file', { limits: { bodyLimitBytes: 100 * MiB, maxTensorElements: 1000 } }]]).limits.maxTensorElements, 1000);
    assert.equal(resolveConfig(dir, [['file', { limits: { maxTensorElements: 1000 } }], ['env', { limits: { bodyLimitBytes: 100 * MiB } }]]).limits.maxTensorElements, 1000);
  });

  it('refuses to load a model that limits.maxTensorRank or limits.maxTensorElements would refuse every request to, naming the limit and the input', async () => {
    const fixed = modelDir('fixed', fixedBatchSpec()); // x: [1, 4]
    const start = (limits: object) => InferenceEngine.start(path.join(fixed, 'model.onnx'), resolveConfig(fixed, [[path.join(fixed, 'serving.json'), { workers: 1, limits }]]));
    await assert.rejects(start({ maxTensorRank: 1 }), {
      message: `cannot serve model ${path.join(fixed, 'model.onnx')}: limits.maxTensorRank is 1, but input 'x' has 2 dimensions ([1, 4]): every request would be refused; raise limits.maxTensorRank to at least 2`,
    });
    await assert.rejects(start({ maxTensorElements: 3 }), {
      message: `cannot serve model ${path.join(fixed, 'model.onnx')}: limits.maxTensorElements is 3, but input 'x' has at least 4 elements ([1, 4]): every request would be refused; raise limits.maxTensorElements to at least 4`,
    });
    const engine = await start({ maxTensorRank: 2, maxTensorElements: 4 });
    await engine.close(0);
  });

  it('limits JSON, JSON Lines and CSV bodies to a 64th of the heap or memory limit, within the body limit', () => {
    const MiB = 1024 * 1024;
    const big = [['file', { limits: { bodyLimitBytes: 500 * MiB } }]] as Array<[string, unknown]>;
    assert.equal(resolveConfig(dir, big, 2, 64 * 1024 * MiB, 4096 * MiB).limits.textBodyLimitBytes, 64 * MiB, 'a 4 GiB heap');
    assert.equal(resolveConfig(dir, big, 2, 2048 * MiB, 4096 * MiB).limits.textBodyLimitBytes, 32 * MiB, 'a 2 GiB memory limit');
    assert.equal(resolveConfig(dir, [], 2, 2048 * MiB, 4096 * MiB).limits.textBodyLimitBytes, 6 * MiB, 'never above the body limit');
    assert.equal(resolveConfig(dir, [...big, ['env', configFromEnv({ TEXT_BODY_LIMIT_BYTES: String(300 * MiB) })]], 2, 2048 * MiB, 4096 * MiB).limits.textBodyLimitBytes, 300 * MiB);
    fails({ limits: { textBodyLimitBytes: 10 } }, /'limits.textBodyLimitBytes' is 10; it must be an integer from 1024/);
  });

  it('warns at start when limits.textBodyLimitBytes is above a 64th of the heap or memory limit, and not at the default', async () => {
    const MiB = 1024 * 1024;
    const warnings = async (config: ServingConfigInput | undefined) => {
      const lines: string[] = [];
      const app = await buildApp({ modelDir: scratchDir('no-model-'), config, logger: { level: 'warn', stream: { write: (l: string) => lines.push(l) } } });
      await app.model.ready.catch(() => undefined); // no model: it fails to load
      await app.close();
      return lines.map((l) => JSON.parse(l)).filter((l) => /limits\.textBodyLimitBytes is above/.test(l.msg));
    };
    const [warning, ...more] = await warnings({ limits: { bodyLimitBytes: 500 * MiB, textBodyLimitBytes: 500 * MiB } });
    assert.ok(warning, 'a 500 MiB text body limit is warned about');
    assert.equal(more.length, 0);
    assert.equal(warning.textBodyLimitBytes, 500 * MiB);
    assert.equal(warning.safe, safeTextBodyLimit());
    assert.match(warning.msg, /give the process more memory \(and --max-old-space-size\), or send large tensors as binary tensor data/);
    assert.deepEqual(await warnings(undefined), [], 'the default is the safe limit, or the body limit below it');
  });

  it('later layers override earlier ones', () => {
    const c = resolveConfig(dir, [['file', { batching: { maxBatchSize: 8 }, workers: 3 }], ['env', { workers: 2 }]]);
    assert.equal(c.batching.maxBatchSize, 8);
    assert.equal(c.workers, 2);
  });

  it('rejects an out-of-range batch size, naming field, value and range', () => fails({ batching: { maxBatchSize: 0 } }, /serving.json: 'batching.maxBatchSize' is 0; it must be an integer from 1 to 65536/));
  it('rejects a non-integer queue delay', () => fails({ batching: { maxQueueDelayMs: 2.5 } }, /'batching.maxQueueDelayMs' is 2.5; it must be an integer from 0 to 10000/));
  it('rejects a queue delay above 10 s', () => fails({ batching: { maxQueueDelayMs: 10_001 } }, /'batching.maxQueueDelayMs' is 10001; it must be an integer from 0 to 10000/));
  it('rejects a queue of no requests', () => fails({ queue: { maxSize: 0 } }, /serving.json: 'queue.maxSize' is 0; it must be an integer from 1 to 1000000/));
  it('rejects a queue byte bound below 1 KiB', () => fails({ queue: { maxBytes: 1023 } }, /serving.json: 'queue.maxBytes' is 1023; it must be an integer from 1024 to 68719476736/));
  it('takes every whole-number field at both ends of its documented range and refuses one past either, naming the range', () => {
    const GiB = 1024 ** 3;
    const ranges: Array<[string, number, number]> = [
      ['workers', 1, 256], ['intraOpNumThreads', 1, 1024],
      ['batching.maxBatchSize', 1, 65536], ['batching.maxQueueDelayMs', 0, 10_000],
      ['queue.maxSize', 1, 1_000_000], ['queue.maxBytes', 1024, 64 * GiB],
      ['limits.bodyLimitBytes', 1024, MAX_BODY_LIMIT_BYTES], ['limits.textBodyLimitBytes', 1024, MAX_BODY_LIMIT_BYTES],
      ['limits.maxTensorElements', 1, 2 ** 31 - 1], ['limits.maxTensorRank', 1, 64], ['limits.requestTimeoutMs', 100, 3_600_000],
      ['limits.maxBodyBytesInFlight', 1024 ** 2, 64 * GiB], ['limits.maxAnswerElements', 1, 2 ** 31 - 1],
    ];
    const layer = (field: string, value: number): unknown => {
      const [group, key] = field.split('.');
      return key === undefined ? { [group]: value } : { [group]: { [key]: value } };
    };
    for (const [field, min, max] of ranges) {
      for (const v of [min, max]) assert.doesNotThrow(() => resolveConfig(dir, [['serving.json', layer(field, v)]]), `${field} ${v}`);
      for (const v of [min - 1, max + 1]) fails(layer(field, v), new RegExp(`^ConfigError: serving.json: '${field.replace('.', '\\.')}' is ${v}; it must be an integer from ${min} to ${max}$`));
    }
  });
  it('rejects a string where a boolean belongs', () => fails({ batching: { enabled: 'yes' } }, /'batching.enabled' is "yes"; it must be true or false/));
  it('rejects unknown fields, listing the allowed ones', () => fails({ batchng: {} }, /unknown field 'batchng'; allowed fields are modelFile, workers/));
  it('rejects unknown nested fields', () => fails({ queue: { size: 3 } }, /unknown field 'queue.size'; allowed fields are maxSize, maxBytes/));
  it('rejects an unknown execution provider', () => fails({ executionProviders: ['rocm'] }, /'executionProviders' is \["rocm"\]; it must be a non-empty list of cpu, cuda, tensorrt/));
  it('rejects a model file outside the model directory', () => fails({ modelFile: '../x.onnx' }, /'modelFile' is "..\/x.onnx"; it must be a file name relative to the model directory/));
  it('rejects a config that is not an object', () => fails([1], /serving.json: the file's top level is an array; it must be a JSON object/));
  it('rejects a body limit below 1 KiB', () => fails({ limits: { bodyLimitBytes: 10 } }, /'limits.bodyLimitBytes' is 10; it must be an integer from 1024/));

  it('rejects a serving.json that is not JSON, naming the file', async () => {
    const d = modelDir('x', heavySpec(8, 1));
    fs.writeFileSync(path.join(d, 'serving.json'), '{ batching: ');
    await assert.rejects(buildApp({ modelDir: d }), /serving.json: not valid JSON/);
  });

  it('reads overrides from the environment and rejects bad ones', () => {
    assert.deepEqual(configFromEnv({ MAX_BATCH_SIZE: '16', BATCHING: 'off', INFERENCE_WORKERS: '2' }), { workers: 2, batching: { enabled: false, maxBatchSize: 16 } });
    assert.equal(configFromEnv({}), undefined);
    assert.throws(() => configFromEnv({ BATCHING: 'maybe' }), /BATCHING is "maybe"; it must be on or off/);
    assert.throws(() => configFromEnv({ MAX_BATCH_SIZE: 'lots' }), /MAX_BATCH_SIZE is "lots"; it must be a whole number/);
    assert.throws(() => configFromEnv({ MAX_BATCH_SIZE: '-4' }), /environment: MAX_BATCH_SIZE is "-4"; it must be a whole number in plain decimal digits/);
  });

  it('reads a serving.json that starts with a UTF-8 byte-order mark', () => {
    const d = scratchDir('bom-');
    try {
      fs.writeFileSync(path.join(d, 'serving.json'), '\ufeff{"workers": 2}');
      assert.deepEqual(readConfigFile(d), { workers: 2 });
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('says a number too large for a double is too large, not null', () => {
    const raw = JSON.parse('{"workers": 1e400, "batching": {"maxBatchSize": -1e400}}');
    fails(raw, /^ConfigError: serving.json: 'workers' is a number too large to represent \(Infinity\); it must be an integer from 1 to 256$/);
    fails({ batching: raw.batching }, /'batching.maxBatchSize' is a number too large to represent \(-Infinity\); it must be an integer from 1 to 65536$/);
  });

  it('says what the top level of serving.json is when it is not an object', () => {
    fails(null, /^ConfigError: serving.json: the file's top level is null; it must be a JSON object$/);
    fails([1], /^ConfigError: serving.json: the file's top level is an array; it must be a JSON object$/);
    fails(4, /^ConfigError: serving.json: the file's top level is 4 \(a number\); it must be a JSON object$/);
    assert.throws(() => resolveConfig(dir, [['overrides', 'x']]), /^ConfigError: overrides: the top level is "x" \(a string\); it must be an object$/);
  });

  it('reads the limits of the process\'s own cgroup and those above it, not only the mount root', () => {
    const fsRoot = scratchDir('cgroup-');
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(fsRoot, file)), { recursive: true });
      fs.writeFileSync(path.join(fsRoot, file), text);
    };
    const MiB = 1024 * 1024;
    try {
      // cgroup v2, a systemd unit with CPUQuota=250% (or a container run with --cgroupns=host): the
      // mount root is the host's and holds no limit.
      write('proc/self/cgroup', '0::/system.slice/model.service\n');
      write('sys/fs/cgroup/cgroup.controllers', 'cpu memory\n');
      write('sys/fs/cgroup/system.slice/cpu.max', 'max 100000\n');
      write('sys/fs/cgroup/system.slice/model.service/cpu.max', '250000 100000\n');
      write('sys/fs/cgroup/system.slice/model.service/memory.max', `${3 * 1024 * MiB}\n`);
      assert.equal(cgroupCpuQuota(fsRoot), 2, 'the unit\'s own quota, in whole CPUs');
      assert.equal(cgroupMemoryLimit(fsRoot), 3 * 1024 * MiB);
      // A tighter limit on a parent applies too; the smallest wins, and the quota is floored after.
      write('sys/fs/cgroup/system.slice/cpu.max', '150000 100000\n');
      write('sys/fs/cgroup/system.slice/memory.max', `${1024 * MiB}\n`);
      assert.equal(cgroupCpuQuota(fsRoot), 1);
      assert.equal(cgroupMemoryLimit(fsRoot), 1024 * MiB);
      fs.rmSync(path.join(fsRoot, 'sys'), { recursive: true });

      // cgroup v1 with the host's cgroup paths.
      write('proc/self/cgroup', '12:memory:/kubepods/pod1/ctr\n4:cpu,cpuacct:/kubepods/pod1/ctr\n1:name=systemd:/kubepods/pod1/ctr\n');
      write('sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us', '-1\n');
      write('sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us', '100000\n');
      write('sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/ctr/cpu.cfs_quota_us', '300000\n');
      write('sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/ctr/cpu.cfs_period_us', '100000\n');
      write('sys/fs/cgroup/memory/memory.limit_in_bytes', '9223372036854771712\n');
      write('sys/fs/cgroup/memory/kubepods/pod1/memory.limit_in_bytes', `${512 * MiB}\n`);
      write('sys/fs/cgroup/memory/kubepods/pod1/ctr/memory.limit_in_bytes', '9223372036854771712\n');
      assert.equal(cgroupCpuQuota(fsRoot), 3);
      assert.equal(cgroupMemoryLimit(fsRoot), 512 * MiB, 'the pod\'s limit, above the container\'s cgroup');
      fs.rmSync(path.join(fsRoot, 'sys'), { recursive: true });

      // cgroup v1 without a cgroup namespace: /proc/self/cgroup names the host's path, which does not
      // exist under the container's own mount, whose root holds the limit.
      write('proc/self/cgroup', '4:cpu,cpuacct:/docker/abc\n');
      write('sys/fs/cgroup/cpu/cpu.cfs_quota_us', '200000\n');
      write('sys/fs/cgroup/cpu/cpu.cfs_period_us', '100000\n');
      assert.equal(cgroupCpuQuota(fsRoot), 2);
      assert.equal(cgroupMemoryLimit(fsRoot), undefined);
    } finally {
      fs.rmSync(fsRoot, { recursive: true, force: true });
    }
  });
});

describe('FP16 conversion', () => {
  it('round-trips representable values and rounds others to nearest', () => {
    for (const v of [0, 1, -2, 0.5, 1024, 65504, -1023 * 2 ** -24, 5.960464477539063e-8]) {
      assert.equal(fromHalfBits(toHalfBits(v)), v);
    }
    assert.equal(toHalfBits(1), 0x3c00);
    assert.equal(fromHalfBits(toHalfBits(1e6)), Infinity);
    assert.equal(fromHalfBits(toHalfBits(0.1)), 0.0999755859375);
  });

  it('keeps float16 data in Uint16Array in an inference worker where the runtime has Float16Array (Node.js 24 and later)', async () => {
    // onnxruntime-node 1.30's binding reads a Float16Array as 0 bytes. Where Float16Array is missing (Node.js
    // 20 and 22), a stand-in makes onnxruntime-common convert as it does on Node.js 24. Each case runs in a
    // new thread: onnxruntime-common looks for Float16Array once per thread.
    const dataClass = (keep: boolean) => new Promise<string>((resolve, reject) => {
      const worker = new Worker(`
        globalThis.Float16Array ??= class Float16Array extends Uint16Array {};
        if (${keep}) require(${JSON.stringify(require.resolve('../src/tensors'))}).keepFloat16AsUint16();
        const ort = require('onnxruntime-node');
        const t = new ort.Tensor('float16', new Uint16Array([0x3c00, 0x4000]), [2]);
        require('node:worker_threads').parentPort.postMessage(t.data.constructor.name);`, { eval: true });
      worker.once('message', (name: string) => void worker.terminate().then(() => resolve(name)));
      worker.once('error', reject);
    });
    assert.equal(await dataClass(false), 'Float16Array', 'without it, onnxruntime-common hands the binding a Float16Array');
    assert.equal(await dataClass(true), 'Uint16Array');
  });
});
