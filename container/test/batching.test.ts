import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as zlib from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app';
import { fraudModel, HttpResult, listening, metricValue, modelDir, request, sleep } from './helpers';
import { generateTransactions, predictFraud } from '../tools/fraud-model';
import { heavySpec, kitchenSinkSpec, oddInputName, oddOutputName } from '../tools/test-models';
import type { ModelSpec } from '../tools/onnx-builder';
import { resolveConfig, ServingConfigInput } from '../src/config';
import { EngineHooks, InferenceEngine, PIPELINE_MAX_RUN_MS } from '../src/engine';
import type { InferenceError } from '../src/errors';
import { ORT_TO_OIP, OrtType, WireTensor } from '../src/tensors';

const heavy = () => modelDir('heavy', heavySpec(1024, 4, 16));
const heavyBody = (rows: number) => ({ inputs: [{ name: 'input', shape: [rows, 16], datatype: 'FP32', data: new Array(rows * 16).fill(0.25) }] });

describe('dynamic batching and load behaviour', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Sends 20 concurrent requests of 1 to 3 rows each; checks every caller got its own rows back. */
  async function scoreConcurrently(port: number, weights: Parameters<typeof predictFraud>[0]): Promise<number> {
    const { x } = generateTransactions(60, 3);
    let next = 0;
    const requests = Array.from({ length: 20 }, (_, i) => {
      const rows = x.slice(next, next + (i % 3) + 1);
      next += rows.length;
      return rows;
    });
    // Open the 20 keep-alive connections first, as long-lived clients have them: the burst then arrives together.
    await Promise.all(requests.map(() => request(port, 'GET', '/ping')));
    const answers = await Promise.all(requests.map((rows, i) => request(port, 'POST', '/v2/models/fraud-mlp/infer', {
      id: `caller-${i}`, inputs: [{ name: 'features', shape: [rows.length, 8], datatype: 'FP32', data: rows }],
    })));
    answers.forEach((res, i) => {
      assert.equal(res.status, 200, res.body);
      const body = res.json();
      assert.equal(body.id, `caller-${i}`);
      const [prob, flag] = body.outputs;
      assert.deepEqual(prob.shape, [requests[i].length, 1]);
      requests[i].forEach((row, r) => {
        const want = predictFraud(weights, row);
        assert.ok(Math.abs(prob.data[r] - want) < 1e-5, `caller ${i} row ${r}: got ${prob.data[r]}, want ${want}`);
        assert.equal(flag.data[r], want > 0.5);
      });
    });
    return next;
  }

  it('merges concurrent requests into few runs and gives each caller exactly its own rows', async () => {
    const { dir, weights } = fraudModel();
    const started = await listening({ modelDir: dir, config: { workers: 1, batching: { maxBatchSize: 64, maxQueueDelayMs: 100 } } });
    app = started.app;
    const rows = await scoreConcurrently(started.port, weights);
    const metrics = (await request(started.port, 'GET', '/metrics')).body;
    const runs = metricValue(metrics, 'inference_runs_total', { model: 'fraud-mlp' })!;
    assert.equal(metricValue(metrics, 'inference_requests_total', { model: 'fraud-mlp' }), 20);
    assert.equal(metricValue(metrics, 'inference_batch_size_sum', { model: 'fraud-mlp' }), rows);
    assert.ok(runs >= 1 && runs <= 5, `20 concurrent requests ran in ${runs} runs; batching should merge them`);
    assert.ok((metricValue(metrics, 'inference_batch_size_bucket', { model: 'fraud-mlp', le: '8' }) ?? 0) < runs, 'some run held more than 8 rows');
  });

  it('runs a request larger than maxBatchSize as parts of at most maxBatchSize rows, and answers all its rows in order', async () => {
    const { dir, weights } = fraudModel();
    const started = await listening({ modelDir: dir, config: { workers: 1, batching: { maxBatchSize: 8, maxQueueDelayMs: 0 } } });
    app = started.app;
    const { x } = generateTransactions(100, 5);
    for (const [url, body] of [
      ['/v2/models/fraud-mlp/infer', { inputs: [{ name: 'features', shape: [100, 8], datatype: 'FP32', data: x }] }],
      ['/invocations', { instances: x }],
    ] as const) {
      const res = await request(started.port, 'POST', url, body);
      assert.equal(res.status, 200, res.body.slice(0, 300));
      const probabilities: number[] = url === '/invocations'
        ? res.json().predictions.map((p: { fraud_probability: number[] }) => p.fraud_probability[0])
        : res.json().outputs[0].data;
      assert.equal(probabilities.length, 100);
      x.forEach((row, r) => assert.ok(Math.abs(probabilities[r] - predictFraud(weights, row)) < 1e-5, `${url} row ${r}`));
    }
    const metrics = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'inference_batch_size_sum', { model: 'fraud-mlp' }), 200);
    assert.equal(metricValue(metrics, 'inference_batch_size_bucket', { model: 'fraud-mlp', le: '8' }), metricValue(metrics, 'inference_runs_total', { model: 'fraud-mlp' }), 'no run held more than 8 rows');
    assert.ok(metricValue(metrics, 'inference_runs_total', { model: 'fraud-mlp' })! >= 26, 'each request ran as at least 13 parts');
  });

  it('with batching off, every request is its own run', async () => {
    const { dir, weights } = fraudModel();
    const started = await listening({ modelDir: dir, config: { workers: 1, batching: { enabled: false } } });
    app = started.app;
    await scoreConcurrently(started.port, weights);
    const metrics = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'inference_runs_total', { model: 'fraud-mlp' }), 20);
  });

  it('merges requests of every datatype and splits each back exactly', async () => {
    const started = await listening({ modelDir: modelDir('kitchen', kitchenSinkSpec()), config: { workers: 1, batching: { maxQueueDelayMs: 100 } } });
    app = started.app;
    const types = Object.keys(ORT_TO_OIP) as OrtType[];
    const valueFor = (t: OrtType, caller: number, k: number): unknown => {
      switch (t) {
        case 'bool': return (caller + k) % 2 === 0;
        case 'string': return `caller-${caller}-${k}`;
        case 'float32': case 'float64': case 'float16': return caller + k / 4;
        default: return caller * 3 + k;
      }
    };
    const bodies = Array.from({ length: 12 }, (_, caller) => {
      const rows = (caller % 2) + 1;
      return {
        rows,
        inputs: types.map((t) => ({ name: oddInputName(t), shape: [rows, 2], datatype: ORT_TO_OIP[t], data: Array.from({ length: rows * 2 }, (_, k) => valueFor(t, caller, k)) })),
      };
    });
    await Promise.all(bodies.map(() => request(started.port, 'GET', '/ping')));
    const answers = await Promise.all(bodies.map((b) => request(started.port, 'POST', '/v2/models/kitchen/infer', { inputs: b.inputs })));
    answers.forEach((res, caller) => {
      assert.equal(res.status, 200, res.body);
      for (const t of types) {
        const out = res.json().outputs.find((o: { name: string }) => o.name === oddOutputName(t));
        assert.deepEqual(out.shape, [bodies[caller].rows, 2]);
        assert.deepEqual(out.data, bodies[caller].inputs.find((i) => i.name === oddInputName(t))!.data, `caller ${caller}, ${t}`);
      }
    });
    const metrics = (await request(started.port, 'GET', '/metrics')).body;
    const runs = metricValue(metrics, 'inference_runs_total', { model: 'kitchen' })!;
    assert.ok(runs < 12, `12 concurrent requests ran in ${runs} runs`);
  });

  it('answers 503 QUEUE_FULL with Retry-After when the queue is full, and recovers', async () => {
    const started = await listening({ modelDir: heavy(), config: { workers: 1, intraOpNumThreads: 1, batching: { enabled: false }, queue: { maxSize: 2 } } });
    app = started.app;
    const answers = await Promise.all(Array.from({ length: 8 }, () => request(started.port, 'POST', '/v2/models/heavy/infer', heavyBody(1000))));
    const full = answers.filter((a) => a.status === 503);
    assert.ok(answers.some((a) => a.status === 200), 'some requests are served');
    assert.ok(full.length >= 3, `expected at least 3 rejections, got statuses ${answers.map((a) => a.status)}`);
    for (const a of full) {
      assert.equal(a.json().code, 'QUEUE_FULL');
      assert.match(a.json().error, /queue is full: \d+ requests are queued \(queue.maxSize 2\)/);
      assert.ok(Number(a.headers['retry-after']) >= 1);
    }
    const after = await request(started.port, 'POST', '/v2/models/heavy/infer', heavyBody(10));
    assert.equal(after.status, 200);
  });

  it('holds a request for a fuller batch while another POST is still arriving, and runs the two together once it has', async () => {
    const { dir } = fraudModel();
    const started = await listening({ modelDir: dir, config: { workers: 1, batching: { maxBatchSize: 8, maxQueueDelayMs: 10_000 } } });
    app = started.app;
    const m = { model: 'fraud-mlp' };
    const metrics = async () => (await request(started.port, 'GET', '/metrics')).body;
    const until = async (what: string, check: () => Promise<boolean> | boolean) => {
      for (let i = 0; i < 500; i++) {
        if (await check()) return;
        await sleep(10);
      }
      assert.fail(`timed out waiting for ${what}`);
    };
    const row = (v: number) => JSON.stringify({ inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: new Array(8).fill(v) }] });
    // The first request's headers and half its body: it is arriving.
    const slow = row(0.5);
    let secondAnswered = false;
    const answer = new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: started.port, method: 'POST', path: '/v2/models/fraud-mlp/infer', headers: { 'content-type': 'application/json', 'content-length': String(slow.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.write(slow.slice(0, 20));
      // The rest once the second request waits in the queue (or, held by nothing, was answered alone).
      void until('the second request to be queued', () => app!.model.engine!.queueDepth === 1 || secondAnswered).then(() => req.end(slow.slice(20)), reject);
    });
    await until('the first body to be counted in flight', async () => (metricValue(await metrics(), 'http_request_body_bytes_in_flight') ?? 0) > 0);
    // A complete request is held while the first is still arriving, instead of running alone at once.
    const second = request(started.port, 'POST', '/v2/models/fraud-mlp/infer', row(0.25)).finally(() => { secondAnswered = true; });
    const t0 = Date.now();
    const [first, other] = await Promise.all([answer, second]);
    // Once both have arrived nothing more is on its way: the two run then, not after maxQueueDelayMs.
    assert.ok(Date.now() - t0 < 5_000, `answered ${Date.now() - t0} ms after the second request was sent`);
    assert.equal(first, 200);
    assert.equal(other.status, 200, other.body);
    const text = await metrics();
    assert.equal(metricValue(text, 'inference_runs_total', m), 1, 'one run of both rows');
    assert.equal(metricValue(text, 'inference_batch_size_sum', m), 2);
  });

  it('answers 503 OVERLOADED before reading a body that would put more than limits.maxBodyBytesInFlight in flight, and frees the room when answered or aborted', async () => {
    const MiB = 1024 * 1024;
    const started = await listening({ modelDir: heavy(), config: { workers: 1, intraOpNumThreads: 1, batching: { enabled: false }, limits: { maxBodyBytesInFlight: MiB } } });
    app = started.app;
    const infer = '/v2/models/heavy/infer';
    const big = JSON.stringify(heavyBody(8_000)); // about 0.6 MiB, and a run of a few hundred ms
    assert.ok(big.length > MiB / 2 && big.length < MiB, `${big.length} bytes`);
    const inFlight = async () => metricValue((await request(started.port, 'GET', '/metrics')).body, 'http_request_body_bytes_in_flight');
    const until = async (what: string, check: () => Promise<boolean>) => {
      for (let i = 0; i < 300; i++) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.fail(`timed out waiting for ${what}`);
    };

    // With Content-Length: a chunked body counts as limits.bodyLimitBytes (6 MiB), more than the limit here.
    const sized = { 'content-length': String(big.length) };
    const first = request(started.port, 'POST', infer, big, sized);
    await until('the first body to be in flight', async () => (await inFlight()) === big.length);
    const second = await request(started.port, 'POST', infer, big, sized);
    assert.equal(second.status, 503, second.body);
    assert.equal(second.json().code, 'OVERLOADED');
    assert.equal(second.json().error, `${big.length} bytes of request bodies and unsent answers are in flight; this body of ${big.length} bytes would pass limits.maxBodyBytesInFlight (${MiB}); retry shortly`);
    assert.equal(second.headers['retry-after'], '1');
    const smallBody = JSON.stringify(heavyBody(2));
    const small = await request(started.port, 'POST', infer, smallBody, { 'content-length': String(smallBody.length) });
    assert.equal(small.status, 200, 'a body that fits next to the first is admitted');
    assert.equal((await first).status, 200);
    await until('the room to be freed after the answer', async () => (await inFlight()) === 0);

    // An upload the client abandons half-way frees its room too.
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: started.port, method: 'POST', path: infer, headers: { 'content-type': 'application/json', 'content-length': String(big.length) } });
      req.on('error', () => resolve());
      req.write(big.slice(0, big.length / 2), () => setTimeout(() => { req.destroy(); resolve(); }, 50));
    });
    await until('the room to be freed after the abort', async () => (await inFlight()) === 0);
    // Alone, a body is admitted whatever its size: chunked, it counts as limits.bodyLimitBytes (6 MiB here).
    const chunked = await request(started.port, 'POST', infer, smallBody);
    assert.equal(chunked.status, 200, chunked.body);
    assert.equal((await request(started.port, 'POST', infer, big, sized)).status, 200);
  });

  it('counts a compressed body as limits.bodyLimitBytes against limits.maxBodyBytesInFlight, whatever its Content-Length', async () => {
    const MiB = 1024 * 1024;
    const started = await listening({ modelDir: fraudModel().dir, config: { limits: { maxBodyBytesInFlight: MiB } } });
    app = started.app;
    const inFlight = async () => metricValue((await request(started.port, 'GET', '/metrics')).body, 'http_request_body_bytes_in_flight');
    // A body still arriving holds 1000 bytes.
    const held = http.request({ host: '127.0.0.1', port: started.port, method: 'POST', path: '/invocations', headers: { 'content-type': 'application/json', 'content-length': '1000' } });
    held.on('error', () => undefined);
    held.write('{"instances": ');
    try {
      for (let i = 0; i < 300 && (await inFlight()) !== 1000; i++) await sleep(10);
      assert.equal(await inFlight(), 1000);
      const body = JSON.stringify({ instances: [[0, 0, 0, 0, 0, 0, 0, 0]] });
      const packed = zlib.gzipSync(body);
      const compressed = await request(started.port, 'POST', '/invocations', packed, { 'content-encoding': 'gzip', 'content-length': String(packed.length) });
      assert.equal(compressed.status, 503, compressed.body);
      assert.equal(compressed.json().code, 'OVERLOADED');
      assert.match(compressed.json().error, new RegExp(`this body of ${6 * MiB} bytes would pass`));
      const plain = await request(started.port, 'POST', '/invocations', body, { 'content-length': String(body.length) });
      assert.equal(plain.status, 200, 'the same body uncompressed fits beside the one held');
    } finally {
      held.destroy(); // a failed check must not leave the app waiting for this body
    }
  });

  it('lets go of a request\'s parsed body once its inputs are decoded, not when it is answered', async () => {
    // Parsed JSON takes up to about 17 times the body's size. Kept until the answer, 30 requests of
    // 6 MiB ([[0], [0], ...]) waiting for their runs at once, well within limits.maxBodyBytesInFlight,
    // took a server with a 2 GiB pod's heap (1120 MiB) to "JavaScript heap out of memory".
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    app = await buildApp({ modelDir: heavy(), config: { workers: 1, intraOpNumThreads: 1, batching: { enabled: false } } });
    const parsed: Array<WeakRef<object>> = [];
    app.addHook('preHandler', (req, _reply, done) => {
      if (req.body !== null && typeof req.body === 'object') parsed.push(new WeakRef(req.body));
      done();
    });
    await app.model.ready;
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const { inputs } = heavyBody(20_000); // a run of a second or so
    for (const [url, body] of [['/v2/models/heavy/infer', { inputs }], ['/invocations', { inputs }], ['/invocations', { instances: Array.from({ length: 20_000 }, () => new Array(16).fill(0.25)) }]] as const) {
      parsed.length = 0;
      let answered = false;
      const answer = request(port, 'POST', url, body).then((res) => {
        answered = true;
        return res;
      });
      for (let i = 0; i < 500 && metricValue((await request(port, 'GET', '/metrics')).body, 'inference_runs_in_flight', { model: 'heavy' }) !== 1; i++) await sleep(5);
      gc();
      assert.equal(parsed.length, 1);
      assert.equal(parsed[0].deref(), undefined, `${url} with ${Object.keys(body)[0]}: the parsed body is still held while the request runs`);
      assert.equal(answered, false, 'the run ended before the check: make it longer');
      assert.equal((await answer).status, 200);
    }
  });

  it('records inference compute and queue time in seconds', async () => {
    const started = await listening({ modelDir: heavy(), config: { workers: 1, intraOpNumThreads: 1, batching: { enabled: false } } });
    app = started.app;
    // Two requests at once on one worker: the second waits for the first's run.
    const t0 = performance.now();
    const answers = await Promise.all([0, 1].map(() => request(started.port, 'POST', '/v2/models/heavy/infer', heavyBody(500))));
    const wallSeconds = (performance.now() - t0) / 1000;
    assert.deepEqual(answers.map((a) => a.status), [200, 200]);
    const metrics = (await request(started.port, 'GET', '/metrics')).body;
    for (const name of ['inference_compute_duration_seconds', 'inference_queue_duration_seconds']) {
      assert.equal(metricValue(metrics, `${name}_count`, { model: 'heavy' }), 2, name);
      const sum = metricValue(metrics, `${name}_sum`, { model: 'heavy' })!;
      assert.ok(sum >= 0 && sum <= wallSeconds, `${name}_sum is ${sum} for requests answered within ${wallSeconds.toFixed(3)} s`);
    }
    assert.ok(metricValue(metrics, 'inference_compute_duration_seconds_sum', { model: 'heavy' })! > 0);
  });

  it('answers 503 rather than letting a request wait past its deadline', async () => {
    const started = await listening({ modelDir: heavy(), config: { workers: 1, intraOpNumThreads: 1, batching: { enabled: false }, limits: { requestTimeoutMs: 150 } } });
    app = started.app;
    const t0 = Date.now();
    const answers = await Promise.all(Array.from({ length: 10 }, () => request(started.port, 'POST', '/v2/models/heavy/infer', heavyBody(1000))));
    const elapsed = Date.now() - t0;
    const late = answers.filter((a) => a.status === 503);
    assert.ok(late.length >= 1, `statuses ${answers.map((a) => a.status)}`);
    for (const a of late) {
      assert.ok(['DEADLINE_UNMEETABLE', 'DEADLINE_EXCEEDED'].includes(a.json().code), a.body);
      assert.ok(Number(a.headers['retry-after']) >= 1);
    }
    assert.ok(elapsed < 3000, `all answered in ${elapsed} ms`);
  });

  it('keeps /ping fast while inference saturates the workers', async () => {
    // A long request timeout: on a machine short of CPU the six runs' wait estimate can pass the default
    // 55 s, and a refused request would end the load early; what is measured here is /ping.
    const started = await listening({ modelDir: heavy(), config: { workers: 1, intraOpNumThreads: 1, batching: { enabled: false }, limits: { requestTimeoutMs: 600_000 } } });
    app = started.app;
    const load = Promise.all(Array.from({ length: 6 }, () => request(started.port, 'POST', '/v2/models/heavy/infer', heavyBody(2000))));
    const pings: number[] = [];
    let done = false;
    void load.then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 30));
    while (!done && pings.length < 200) {
      const t0 = performance.now();
      const res: HttpResult = await request(started.port, 'GET', '/ping');
      pings.push(performance.now() - t0);
      assert.equal(res.status, 200);
      await new Promise((r) => setTimeout(r, 5));
    }
    const answers = await load;
    assert.deepEqual(answers.map((a) => (a.status === 200 ? 200 : `${a.status} ${a.body}`)), answers.map(() => 200));
    pings.sort((a, b) => a - b);
    assert.ok(pings.length >= 5, `only ${pings.length} pings during the load`);
    const p90 = pings[Math.floor(pings.length * 0.9)];
    assert.ok(p90 < 50, `/ping p90 ${p90.toFixed(1)} ms during inference`);
  });
});

/** y = x and z = -x, with a dynamic inner axis: requests of different widths cannot share a run. */
const pairSpec: ModelSpec = {
  name: 'pair',
  inputs: [{ name: 'x', type: 'float32', shape: ['n', 'k'] }],
  outputs: [{ name: 'y', type: 'float32', shape: ['n', 'k'] }, { name: 'z', type: 'float32', shape: ['n', 'k'] }],
  nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }, { op: 'Neg', inputs: ['x'], outputs: ['z'] }],
};

type Outcome = { ok: true; outputs: number[][] } | { ok: false; code: string; message: string; retryAfterSeconds?: number };
const settle = (p: Promise<WireTensor[]>): Promise<Outcome> => p.then(
  (outputs) => ({ ok: true as const, outputs: outputs.map((t) => [...(t.data as Float32Array)]) }),
  (e: InferenceError) => ({ ok: false as const, code: e.code, message: e.message, ...(e.retryAfterSeconds !== undefined ? { retryAfterSeconds: e.retryAfterSeconds } : {}) }),
);

describe('the batcher\'s rules, seen from the engine', () => {
  let engine: InferenceEngine | undefined;
  afterEach(async () => {
    await engine?.close(0);
    engine = undefined;
  });

  /**
   * One worker, and a batcher that waits up to 10 s for a fuller batch while `arriving` says requests
   * are on their way: nothing runs until the rules below say it must.
   */
  async function pairEngine(config: ServingConfigInput, hooks: EngineHooks = {}): Promise<InferenceEngine> {
    const dir = modelDir('pair', pairSpec);
    const batching = { maxQueueDelayMs: 10_000, ...config.batching };
    return InferenceEngine.start(path.join(dir, 'model.onnx'), resolveConfig(dir, [['test', { workers: 1, ...config, batching }]]), hooks);
  }
  const job = (values: number[], outputNames = ['y'], extra: { deadline?: number; cancelled?: () => boolean } = {}) => settle(engine!.infer({
    inputs: [{ name: 'x', type: 'float32', dims: [1, values.length], data: Float32Array.from(values) }],
    outputNames, deadline: extra.deadline ?? Date.now() + 60_000, cancelled: extra.cancelled,
  }));

  it('holds rows for a fuller batch while more requests arrive, runs a batch at once when it reaches maxBatchSize, and never delays a lone request', async () => {
    const runs: number[] = [];
    let arriving = 1;
    engine = await pairEngine({ batching: { maxBatchSize: 4 } }, { requestsArriving: () => arriving, onRun: (r) => runs.push(r.rows) });
    const waiting = [job([1, 1]), job([2, 2]), job([3, 3])];
    await sleep(100);
    assert.deepEqual(runs, [], 'three rows wait for a fourth');
    const t0 = Date.now();
    const results = await Promise.all([...waiting, job([4, 4])]);
    assert.ok(Date.now() - t0 < 5_000, `the full batch ran ${Date.now() - t0} ms after its fourth row, not after maxQueueDelayMs`);
    assert.deepEqual(runs, [4], 'one run of exactly maxBatchSize rows');
    assert.deepEqual(results, [1, 2, 3, 4].map((v) => ({ ok: true, outputs: [[v, v]] })), 'each caller gets its own row');
    arriving = 0;
    const t1 = Date.now();
    assert.deepEqual(await job([5, 5]), { ok: true, outputs: [[5, 5]] });
    assert.ok(Date.now() - t1 < 5_000, `a lone request was answered after ${Date.now() - t1} ms`);
    assert.deepEqual(runs, [4, 1]);
  });

  it('never merges a request that would take a batch past maxBatchSize, even by one row', async () => {
    const runs: number[] = [];
    let arriving = 1;
    engine = await pairEngine({ batching: { maxBatchSize: 4 } }, { requestsArriving: () => arriving, onRun: (r) => runs.push(r.rows) });
    const rowsOf = (values: number[][]) => settle(engine!.infer({
      inputs: [{ name: 'x', type: 'float32', dims: [values.length, 2], data: Float32Array.from(values.flat()) }], outputNames: ['y'], deadline: Date.now() + 60_000,
    }));
    const two = rowsOf([[1, 1], [2, 2]]); // held: 2 rows wait for a fuller batch
    const three = rowsOf([[3, 3], [4, 4], [5, 5]]); // 2 + 3 rows queued pass maxBatchSize: the batch is taken now, without these 3
    arriving = 0; // the 3 rows left run as soon as the worker is free
    assert.deepEqual(await two, { ok: true, outputs: [[1, 1, 2, 2]] });
    assert.deepEqual(await three, { ok: true, outputs: [[3, 3, 4, 4, 5, 5]] });
    assert.deepEqual(runs, [2, 3], 'two runs, neither of more than maxBatchSize rows');
  });

  it('leaves out of a batch a queued request whose deadline has passed, for the deadline timer to answer', async () => {
    const runs: number[] = [];
    engine = await pairEngine({ batching: { maxBatchSize: 3, maxQueueDelayMs: 60 } }, { requestsArriving: () => 1, onRun: (r) => runs.push(r.rows) });
    const first = job([1, 1]);
    const due = Date.now() + 80; // beyond the batching delay, or it would be refused at once as unmeetable
    const hurried = job([2, 2], ['y'], { deadline: due });
    // The event loop is held past the second request's deadline, so its timer has not fired yet when
    // the third request fills the batch and the batch is taken.
    while (Date.now() < due + 10) { /* busy */ }
    const third = job([3, 3]);
    const results = await Promise.all([first, hurried, third]);
    assert.deepEqual(results.map((r) => (r.ok ? r.outputs : r.code)), [[[1, 1]], 'DEADLINE_EXCEEDED', [[3, 3]]]);
    assert.deepEqual(runs, [2], 'one run, of the two requests still on time');
  });

  it('merges only requests with the same inner dimensions, computes every output the merged callers asked for, and skips a caller that has gone', async () => {
    const runs: number[] = [];
    const events: string[] = [];
    let arriving = 1;
    let gone = false;
    let queueWaits = 0;
    engine = await pairEngine({ batching: { maxBatchSize: 5 } }, { requestsArriving: () => arriving, onRun: (r) => runs.push(r.rows), onWorkerEvent: (e) => events.push(e), onQueueWait: () => { queueWaits++; } });
    const pending = [
      job([1, 1], ['y']),
      job([2, 2, 2], ['y']), // three columns: runs on its own
      job([3, 3], ['z']),
      job([4, 4], ['y'], { cancelled: () => gone }), // its client hangs up before the batch is taken
    ];
    gone = true;
    arriving = 0;
    pending.push(job([5, 5], ['z', 'y']));
    const results = await Promise.all(pending);
    assert.deepEqual(results, [
      { ok: true, outputs: [[1, 1]] },
      { ok: true, outputs: [[2, 2, 2]] },
      { ok: true, outputs: [[-3, -3]] },
      { ok: false, code: 'CLIENT_CLOSED', message: 'the client closed the connection; what was left of its request was not run' },
      { ok: true, outputs: [[-5, -5], [5, 5]] },
    ]);
    assert.deepEqual(runs, [3, 1], 'the two-column rows of callers still waiting ran together, the three-column row alone');
    assert.equal(queueWaits, 5, 'the wait of the caller that had gone is recorded too');
    assert.deepEqual(events, [], 'no merged run failed');
  });

  it('keeps apart requests whose inner dimensions differ only in where the digits fall: [1, 11, 1] and [1, 1, 11], or inputs of 1 and 11 columns against 11 and 1', async () => {
    // maxBatchSize 2: the second row queued fills a batch, so it is taken at once, the first request at
    // its head; with its dimensions, the second may join it only if the two could share a run.
    const specs: ModelSpec[] = [
      {
        name: 'cube', inputs: [{ name: 'x', type: 'float32', shape: ['n', 'a', 'b'] }],
        outputs: [{ name: 'y', type: 'float32', shape: ['n', 'a', 'b'] }], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
      },
      {
        name: 'twin', inputs: [{ name: 'p', type: 'float32', shape: ['n', 'i'] }, { name: 'q', type: 'float32', shape: ['n', 'j'] }],
        outputs: [{ name: 'pp', type: 'float32', shape: ['n', 'i'] }, { name: 'qq', type: 'float32', shape: ['n', 'j'] }],
        nodes: [{ op: 'Identity', inputs: ['p'], outputs: ['pp'] }, { op: 'Identity', inputs: ['q'], outputs: ['qq'] }],
      },
    ];
    const requests: Array<Array<Array<{ name: string; dims: number[] }>>> = [
      [[{ name: 'x', dims: [1, 11, 1] }], [{ name: 'x', dims: [1, 1, 11] }]],
      [[{ name: 'p', dims: [1, 1] }, { name: 'q', dims: [1, 11] }], [{ name: 'p', dims: [1, 11] }, { name: 'q', dims: [1, 1] }]],
    ];
    for (const [m, spec] of specs.entries()) {
      const runs: number[] = [];
      const events: string[] = [];
      let arriving = 1;
      const dir = modelDir(spec.name, spec);
      engine = await InferenceEngine.start(path.join(dir, 'model.onnx'), resolveConfig(dir, [['test', { workers: 1, batching: { maxBatchSize: 2, maxQueueDelayMs: 10_000 } }]]), {
        requestsArriving: () => arriving, onRun: (r) => runs.push(r.rows), onWorkerEvent: (e) => events.push(e),
      });
      const outputNames = spec.outputs.map((o) => o.name);
      const answers = requests[m].map((inputs, k) => engine!.infer({
        inputs: inputs.map(({ name, dims }) => ({ name, type: 'float32' as const, dims, data: Float32Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, v) => 100 * k + v) })),
        outputNames, deadline: Date.now() + 60_000,
      }).then((outputs) => outputs.map((t) => ({ dims: t.dims, data: [...(t.data as Float32Array)] }))));
      arriving = 0; // the second request runs as soon as the first is done
      const got = await Promise.all(answers);
      got.forEach((outputs, k) => requests[m][k].forEach(({ dims }, i) => {
        const count = dims.reduce((a, d) => a * d, 1);
        assert.deepEqual(outputs[i], { dims, data: Array.from({ length: count }, (_, v) => 100 * k + v) }, `${spec.name}: request ${k}, output ${i}`);
      }));
      assert.deepEqual(runs, [1, 1], `${spec.name}: each request ran alone`);
      assert.deepEqual(events, [], `${spec.name}: no merged run was tried and failed`);
      await engine.close(0);
      engine = undefined;
    }
  });

  it('closed with a drain time, runs and answers the requests held for a fuller batch, though no run is going', async () => {
    engine = await pairEngine({ batching: { maxBatchSize: 8, maxQueueDelayMs: 100 } }, { requestsArriving: () => 1 });
    const queued = [job([1, 1]), job([2, 2])];
    assert.equal(engine.queueDepth, 2, 'both are held for the batching delay');
    await engine.close(10_000);
    engine = undefined;
    assert.deepEqual(await Promise.all(queued), [{ ok: true, outputs: [[1, 1]] }, { ok: true, outputs: [[2, 2]] }]);
  });

  it('records the queue wait of requests still queued at shutdown, answered SHUTTING_DOWN', async () => {
    let queueWaits = 0;
    engine = await pairEngine({ batching: { maxBatchSize: 8 } }, { requestsArriving: () => 1, onQueueWait: () => { queueWaits++; } });
    const queued = [job([1, 1]), job([2, 2]), job([3, 3])]; // held for a fuller batch
    await sleep(50);
    assert.equal(queueWaits, 0, 'nothing has left the queue yet');
    await engine.close(0);
    engine = undefined;
    for (const r of await Promise.all(queued)) assert.equal(!r.ok && r.code, 'SHUTTING_DOWN');
    assert.equal(queueWaits, 3);
  });

  it('records the queue wait of a request answered DEADLINE_EXCEEDED in the queue, once, as the whole time it waited', async () => {
    const waits: number[] = [];
    engine = await pairEngine({}, { requestsArriving: () => 1, onQueueWait: (ms) => waits.push(ms) });
    const late = await job([1, 1], ['y'], { deadline: Date.now() + 100 }); // held for a fuller batch past its deadline
    assert.equal(!late.ok && late.code, 'DEADLINE_EXCEEDED');
    assert.equal(waits.length, 1, 'the longest waits of all are recorded too');
    assert.ok(waits[0] >= 90, `recorded ${waits[0]} ms, not the time it waited until its deadline`);
  });

  it('refuses a request beyond queue.maxSize with QUEUE_FULL and a retry delay, and one whose deadline the queue cannot meet at once', async () => {
    engine = await pairEngine({ queue: { maxSize: 2 } }, { requestsArriving: () => 1 });
    const queued = [job([1, 1])];
    // The queue ahead would take maxQueueDelayMs (10 s): a request due in 1 s is refused at once.
    const hurried = await job([2, 2], ['y'], { deadline: Date.now() + 1_000 });
    assert.ok(!hurried.ok);
    assert.equal(hurried.code, 'DEADLINE_UNMEETABLE');
    assert.match(hurried.message, /^the queue ahead would take about \d+ ms, beyond this request's deadline in \d+ ms$/);
    queued.push(job([3, 3]));
    assert.equal(engine.queueDepth, 2);
    const full = await job([4, 4]);
    assert.ok(!full.ok);
    assert.equal(full.code, 'QUEUE_FULL');
    assert.equal(full.message, 'the inference queue is full: 2 requests are queued (queue.maxSize 2)');
    assert.ok(full.retryAfterSeconds! >= 1, `Retry-After ${full.retryAfterSeconds}`);
    await engine.close(0);
    assert.deepEqual((await Promise.all(queued)).map((r) => !r.ok && r.code), ['SHUTTING_DOWN', 'SHUTTING_DOWN']);
  });

  it('posts a request to a worker still in a run only while runs average under PIPELINE_MAX_RUN_MS; longer, it waits in the queue', async (t) => {
    engine = await pairEngine({ batching: { enabled: false } });
    assert.ok(engine.averageRunMs >= 1, `the warm-up seeds the average at 1 ms or more, over PIPELINE_MAX_RUN_MS (${engine.averageRunMs} ms)`);
    const first = job([1, 1]);
    const second = job([2, 2]);
    assert.equal(engine.runsInFlight, 1, 'one run on the only worker');
    assert.equal(engine.queueDepth, 1, 'the second request waits in the queue, not in the worker behind the first run');
    assert.deepEqual(await Promise.all([first, second]), [{ ok: true, outputs: [[1, 1]] }, { ok: true, outputs: [[2, 2]] }]);
    // Short runs bring the average under PIPELINE_MAX_RUN_MS (unless this machine is too busy for that).
    for (let i = 0; i < 400 && engine.averageRunMs >= PIPELINE_MAX_RUN_MS; i++) assert.ok((await job([i, i])).ok);
    if (engine.averageRunMs >= PIPELINE_MAX_RUN_MS) {
      t.skip(`one-row runs average ${engine.averageRunMs.toFixed(3)} ms here, over PIPELINE_MAX_RUN_MS (${PIPELINE_MAX_RUN_MS} ms): the machine is too busy`);
      return;
    }
    const third = job([3, 3]);
    const fourth = job([4, 4]);
    assert.equal(engine.runsInFlight, 2, 'the fourth request was posted to the worker behind the third run');
    assert.equal(engine.queueDepth, 0);
    assert.deepEqual(await Promise.all([third, fourth]), [{ ok: true, outputs: [[3, 3]] }, { ok: true, outputs: [[4, 4]] }]);
  });

  it('counts a run in flight in the wait estimate: with the only worker busy and nothing queued, a request due within the batching delay plus a run is refused at once', async () => {
    engine = await pairEngine({}, { requestsArriving: () => 0 });
    const running = job([1, 1]); // nothing arriving: dispatched at once, and the worker is busy
    assert.equal(engine.queueDepth, 0);
    assert.equal(engine.runsInFlight, 1);
    // Nothing is queued, but the worker is in a run: the wait is that run (averageRunMs, at least 1 ms
    // after the warm-up) plus maxQueueDelayMs (10 s), more than this request's 10 s.
    const hurried = await job([2, 2], ['y'], { deadline: Date.now() + 10_000 });
    assert.ok(!hurried.ok, 'refused at once, not queued');
    assert.equal(hurried.code, 'DEADLINE_UNMEETABLE');
    assert.match(hurried.message, /^the queue ahead would take about \d+ ms, beyond this request's deadline in \d+ ms$/);
    assert.deepEqual(await running, { ok: true, outputs: [[1, 1]] });
  });

  it('refuses a request whose deadline passed before it was queued with DEADLINE_UNMEETABLE and a retry delay of 1 s, not 0, when nothing is queued', async () => {
    engine = await pairEngine({}, { requestsArriving: () => 0 });
    const late = await job([1, 1], ['y'], { deadline: Date.now() - 1 });
    assert.ok(!late.ok);
    assert.equal(late.code, 'DEADLINE_UNMEETABLE');
    assert.match(late.message, /^this request's deadline passed \d+ ms before it was read in full/);
    assert.equal(late.retryAfterSeconds, 1);
  });

  it('bounds the queued tensor bytes by queue.maxBytes, inclusive, and stops counting a request once its deadline has passed', async () => {
    engine = await pairEngine({ queue: { maxBytes: 1024 } }, { requestsArriving: () => 1 });
    const floats = (n: number, v: number) => new Array(n).fill(v);
    const late = await job(floats(64, 1), ['y'], { deadline: Date.now() + 100 }); // 256 bytes, answered at its deadline
    assert.ok(!late.ok);
    assert.equal(late.code, 'DEADLINE_EXCEEDED');
    const queued = [job(floats(128, 2)), job(floats(128, 3))]; // 512 bytes each: exactly queue.maxBytes together
    assert.equal(engine.queueDepth, 2, 'both fit');
    const over = await job([4]);
    assert.ok(!over.ok);
    assert.equal(over.code, 'QUEUE_FULL');
    assert.equal(over.message, 'the inference queue is full: queued tensors would exceed queue.maxBytes 1024');
    await engine.close(0);
    await Promise.all(queued);
  });

  it('takes a request larger than queue.maxBytes when the queue is empty, and refuses one behind another', async () => {
    let arriving = 0;
    engine = await pairEngine({ queue: { maxBytes: 1024 } }, { requestsArriving: () => arriving });
    const floats = (n: number, v: number) => new Array(n).fill(v);
    assert.deepEqual(await job(floats(512, 1)), { ok: true, outputs: [floats(512, 1)] }, '2048 bytes, alone: taken');
    arriving = 1;
    const queued = job([2]); // held for a fuller batch
    const behind = await job(floats(512, 3));
    assert.ok(!behind.ok);
    assert.equal(behind.code, 'QUEUE_FULL');
    await engine.close(0);
    await queued;
  });

  it('stops counting a request\'s bytes against queue.maxBytes once it has run', async () => {
    let arriving = 0;
    engine = await pairEngine({ queue: { maxBytes: 1024 } }, { requestsArriving: () => arriving });
    const floats = (n: number, v: number) => new Array(n).fill(v);
    assert.ok((await job(floats(128, 1))).ok, 'a lone request of 512 bytes runs at once');
    arriving = 1;
    const queued = [job(floats(128, 2))]; // 512 bytes, held for a fuller batch
    queued.push(job(floats(128, 3))); // 512 more: exactly queue.maxBytes with the one queued, none with the one that ran
    assert.equal(engine.queueDepth, 2, 'the bytes of the request that ran no longer count');
    await engine.close(0);
    await Promise.all(queued);
  });

  it('runs a large request a few parts at a time, leaving room in the queue for other callers', async () => {
    let deepest = 0;
    engine = await pairEngine({ queue: { maxSize: 2 }, batching: { maxBatchSize: 4, maxQueueDelayMs: 0 } }, { onQueue: (depth) => { deepest = Math.max(deepest, depth); } });
    const rows = 40;
    const big = settle(engine.infer({
      inputs: [{ name: 'x', type: 'float32', dims: [rows, 1], data: Float32Array.from({ length: rows }, (_, i) => i) }],
      outputNames: ['y'], deadline: Date.now() + 60_000,
    }));
    const other = job([7]);
    assert.deepEqual(await other, { ok: true, outputs: [[7]] }, 'another caller is not refused while the large request runs');
    assert.deepEqual(await big, { ok: true, outputs: [Array.from({ length: rows }, (_, i) => i)] });
    assert.ok(deepest <= 2, `the queue held ${deepest} requests`);
  });

  it('runs a request of one row more than maxBatchSize as two parts, never one run past maxBatchSize', async () => {
    const runs: number[] = [];
    engine = await pairEngine({ batching: { maxBatchSize: 4, maxQueueDelayMs: 0 } }, { onRun: (r) => runs.push(r.rows) });
    const rows = 5;
    const result = await settle(engine.infer({
      inputs: [{ name: 'x', type: 'float32', dims: [rows, 1], data: Float32Array.from({ length: rows }, (_, i) => i) }],
      outputNames: ['y'], deadline: Date.now() + 60_000,
    }));
    assert.deepEqual(result, { ok: true, outputs: [[0, 1, 2, 3, 4]] });
    assert.deepEqual(runs.sort(), [1, 4], 'a part of maxBatchSize rows and one of the row left');
  });

  // batching.maxBatchSize 1 is batching off too: nothing could be merged, and no request is split.
  for (const [what, batching] of [['batching.enabled false', { enabled: false, maxBatchSize: 4 }], ['maxBatchSize 1', { enabled: true, maxBatchSize: 1 }]] as const) {
    it(`with batching off (${what}), runs a request of more rows than maxBatchSize in one run, as its rows may depend on each other`, async () => {
      const runs: number[] = [];
      engine = await pairEngine({ batching: { ...batching, maxQueueDelayMs: 0 } }, { onRun: (r) => runs.push(r.rows) });
      assert.equal(engine.batchingActive, false);
      const rows = 10;
      const result = await settle(engine.infer({
        inputs: [{ name: 'x', type: 'float32', dims: [rows, 1], data: Float32Array.from({ length: rows }, (_, i) => i) }],
        outputNames: ['y'], deadline: Date.now() + 60_000,
      }));
      assert.deepEqual(result, { ok: true, outputs: [Array.from({ length: rows }, (_, i) => i)] });
      assert.deepEqual(runs, [rows], 'one run of all its rows, not parts of maxBatchSize');
    });
  }

  it('stacks the parts of a large request back in row order, whichever part finishes first', async () => {
    // Two workers run a full part and a one-row last part side by side: the short one ends first.
    const heavy = heavySpec(1024, 4, 16);
    const spec: ModelSpec = {
      ...heavy,
      outputs: [...heavy.outputs, { name: 'echo', type: 'float32', shape: ['batch', 16] }],
      nodes: [...heavy.nodes, { op: 'Identity', inputs: ['input'], outputs: ['echo'] }],
    };
    const dir = modelDir('heavy-echo', spec);
    const finished: number[] = [];
    engine = await InferenceEngine.start(path.join(dir, 'model.onnx'), resolveConfig(dir, [['test', { workers: 2, intraOpNumThreads: 1, batching: { maxBatchSize: 256, maxQueueDelayMs: 0 } }]]), {
      onRun: (r) => finished.push(r.rows),
    });
    const rows = 257;
    const result = await settle(engine.infer({
      inputs: [{ name: 'input', type: 'float32', dims: [rows, 16], data: Float32Array.from({ length: rows * 16 }, (_, k) => Math.floor(k / 16)) }],
      outputNames: ['echo'], deadline: Date.now() + 60_000,
    }));
    assert.ok(result.ok, JSON.stringify(result));
    const [echoed] = result.outputs;
    assert.deepEqual(Array.from({ length: rows }, (_, r) => echoed[r * 16]), Array.from({ length: rows }, (_, r) => r), `parts finished in the order ${JSON.stringify(finished)} (rows)`);
  });
});
