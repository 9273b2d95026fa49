/**
 * Runs that outlast their deadline. onnxruntime cannot interrupt a run, and one request can make a run
 * last far longer than any caller waits (here: many rows in one run of a heavy model; in production a
 * long sequence through attention, or a Loop whose trip count is an input). The caller is answered at
 * its deadline, and a worker in one run for longer than limits.requestTimeoutMs is set aside while a
 * new one serves the requests that follow.
 */
import { afterEach, describe, it, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { closeAll, listening, metricValue, modelDir, Outcome, request, settle, sleep } from './helpers';
import { fixedBatchSpec, heavySpec } from '../tools/test-models';
import { prng } from '../tools/onnx-builder';
import { resolveConfig, ServingConfigInput } from '../src/config';
import { EngineHooks, InferenceEngine, PIPELINE_MAX_RUN_MS, workersOnDevice } from '../src/engine';
import type { WireTensor } from '../src/tensors';


/** 16 inputs, 8 layers of 1024: about 0.1-0.2 ms a row on one thread. */
const SPEC = heavySpec(1024, 8, 16);
/** How long the overlong runs of these tests last (calibrated on this machine). */
const LONG_RUN_MS = 3000;

/**
 * Runs `oneRow` until the engine's average run is under PIPELINE_MAX_RUN_MS, where it posts a run to a
 * worker still in another (at most 400 runs): false when one-row runs stay slower than that here.
 */
async function pipelining(engine: InferenceEngine, oneRow: () => Promise<Outcome>): Promise<boolean> {
  for (let i = 0; i < 400 && engine.averageRunMs >= PIPELINE_MAX_RUN_MS; i++) assert.ok((await oneRow()).ok);
  return engine.averageRunMs < PIPELINE_MAX_RUN_MS;
}

/** Skips the rest of a test that needs pipelining, on a machine too busy for one-row runs to be short enough. */
function notPipelining(t: TestContext, engine: InferenceEngine): void {
  t.skip(`one-row runs average ${engine.averageRunMs.toFixed(3)} ms here, over PIPELINE_MAX_RUN_MS (${PIPELINE_MAX_RUN_MS} ms), so the engine posts no run behind another (the machine is too busy)`);
}

async function waitFor(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('runs that outlast their deadline', () => {
  let engine: InferenceEngine | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await closeAll(engine, app);
    engine = app = undefined;
  });

  /** An engine of one single-threaded worker that runs a request's rows in one run, however many. */
  async function start(config: ServingConfigInput, hooks: EngineHooks): Promise<{ job: (rows: number, deadlineInMs: number) => Promise<WireTensor[]>; longRows: number }> {
    const dir = modelDir('overlong', SPEC);
    const e = await InferenceEngine.start(path.join(dir, 'model.onnx'), resolveConfig(dir, [['test', {
      workers: 1, intraOpNumThreads: 1, batching: { maxBatchSize: 65_536, maxQueueDelayMs: 0 }, ...config,
    }]]), hooks);
    engine = e;
    const job = (rows: number, deadlineInMs: number) => e.infer({ inputs: [{ name: 'input', type: 'float32', dims: [rows, 16], data: new Float32Array(rows * 16).fill(0.5) }], outputNames: ['score'], deadline: Date.now() + deadlineInMs });
    // Rows that take about LONG_RUN_MS here (the faster of two timed runs of 200 rows: small enough to
    // stay within the shortest requestTimeoutMs below, 300 ms, on a loaded machine).
    let perRow = Infinity;
    for (let i = 0; i < 2; i++) {
      const t = performance.now();
      await job(200, 60_000);
      perRow = Math.min(perRow, Math.max(0.5, performance.now() - t) / 200);
    }
    return { job, longRows: Math.min(65_536, Math.ceil(LONG_RUN_MS / perRow)) };
  }

  it('answers a caller whose run is still going at its deadline then, and keeps the worker when the run ends in time', { timeout: 60_000 }, async () => {
    const events: string[] = [];
    let answered = 0;
    const { job, longRows } = await start({ limits: { requestTimeoutMs: 30_000 } }, {
      onWorkerEvent: (event) => events.push(event),
      onAnswered: (n) => { answered += n; },
    });
    answered = 0;
    const t0 = Date.now();
    const long = settle(job(longRows, 300), t0);
    await sleep(20);
    const next = settle(job(1, 30_000), t0); // queued behind the long run
    const l = await long;
    assert.equal(!l.ok && l.code, 'DEADLINE_EXCEEDED', JSON.stringify(l));
    assert.match((l as { message: string }).message, /^the request's inference run was still going at its deadline, \d+ ms into the run/);
    assert.ok(l.at < 300 + 700, `answered ${l.at} ms after it was sent; its deadline was 300 ms, its run takes about ${LONG_RUN_MS} ms`);
    assert.equal(engine!.busyWorkers, 1, 'the run goes on');
    const n = await next;
    assert.ok(n.ok, JSON.stringify(n));
    assert.ok(n.at > l.at + 500, `the next request waited for the run to end (answered at ${n.at} ms)`);
    assert.deepEqual(events, [], 'a run shorter than limits.requestTimeoutMs does not set its worker aside');
    assert.equal(engine!.workerCount, 1);
    assert.equal(answered, 1, 'the late caller\'s result was dropped, not counted as answered');
  });

  it('gives a caller merged into a run with one answered at its deadline its own rows of the result, not that caller\'s', { timeout: 60_000 }, async () => {
    let arriving = 0;
    const runs: number[] = [];
    const dir = modelDir('overlong-merged', heavySpec(512, 4, 16));
    engine = await InferenceEngine.start(path.join(dir, 'model.onnx'), resolveConfig(dir, [['test', {
      workers: 1, intraOpNumThreads: 1, batching: { maxBatchSize: 65_536, maxQueueDelayMs: 50 },
    }]]), { requestsArriving: () => arriving, onRun: (r) => runs.push(r.requests) });
    const job = (rows: number, fill: number, deadlineInMs: number) => settle(engine!.infer({
      inputs: [{ name: 'input', type: 'float32', dims: [rows, 16], data: new Float32Array(rows * 16).fill(fill) }], outputNames: ['score'], deadline: Date.now() + deadlineInMs,
    }));
    await job(4000, 0.5, 30_000); // the first run of a shape pays one-off costs
    const t = performance.now();
    const other = await job(4000, 0.5, 30_000);
    const perRow = Math.max(0.5, performance.now() - t) / 4000;
    const alone = await job(1, -0.25, 30_000);
    assert.ok(alone.ok && other.ok);
    assert.notEqual(alone.outputs[0].data[0], other.outputs[0].data[0], 'the two callers\' rows score differently');
    runs.length = 0;
    arriving = 1; // both are held for the batching delay, then run together, the late caller's rows first
    // A run of about 600 ms, in one part: a request of more than maxBatchSize rows would run in parts.
    const late = job(Math.min(65_000, Math.ceil(600 / perRow)), 0.5, 200);
    const merged = job(1, -0.25, 30_000);
    const l = await late;
    assert.equal(!l.ok && l.code, 'DEADLINE_EXCEEDED', JSON.stringify(l));
    const m = await merged;
    assert.deepEqual(runs, [2], `one run of both requests (${perRow} ms a row)`);
    assert.ok(m.ok, JSON.stringify(m));
    assert.deepEqual(m.outputs, alone.outputs, 'the merged caller got its own row');
  });

  it('sets aside a worker in one run for longer than limits.requestTimeoutMs and serves the next requests on a new one', { timeout: 60_000 }, async () => {
    const events: Array<{ event: string; detail: Record<string, unknown> }> = [];
    // 1 s: the worker is set aside within a second of that (the engine checks every WATCH_INTERVAL_MS),
    // well before the run of about LONG_RUN_MS ends.
    const { job, longRows } = await start({ limits: { requestTimeoutMs: 1_000 } }, { onWorkerEvent: (event, detail) => events.push({ event, detail }) });
    const t0 = Date.now();
    const long = settle(job(longRows, 400), t0);
    const l = await long;
    assert.equal(!l.ok && l.code, 'DEADLINE_EXCEEDED', JSON.stringify(l));
    assert.ok(l.at < 400 + 700, `answered ${l.at} ms after it was sent, not when its run of about ${LONG_RUN_MS} ms ends`);
    await waitFor('the stuck worker to be set aside', () => events.some((e) => e.event === 'worker-stuck'));
    const stuck = events.find((e) => e.event === 'worker-stuck')!.detail;
    assert.equal(stuck.requestTimeoutMs, 1_000);
    assert.ok((stuck.runMs as number) > 1_000 && (stuck.runMs as number) < 2_000, `set aside ${JSON.stringify(stuck)}: past limits.requestTimeoutMs, and soon after it`);
    const next = await settle(job(1, 20_000), t0);
    assert.ok(next.ok, JSON.stringify(next));
    assert.ok(!events.some((e) => e.event === 'stuck-worker-stopped'), `the next request was answered (at ${next.at} ms) while the overlong run still went on, by the new worker`);
    assert.equal(engine!.busyWorkers, 1, 'the set-aside worker is still in its run');
    assert.deepEqual(events.map((e) => e.event), ['worker-stuck', 'worker-replaced']);
    await waitFor('the set-aside run to end', () => events.some((e) => e.event === 'stuck-worker-stopped'));
    assert.equal(engine!.workerCount, 1, 'one worker, the replacement');
    assert.equal(engine!.busyWorkers, 0, 'the set-aside worker was stopped once its run ended');
    assert.ok((await settle(job(1, 20_000))).ok);
  });

  it('counts a set-aside run\'s time from the set-aside, not from the start of the run: liveness gives up on it maxWorkerlessMs after it was set aside, however long limits.requestTimeoutMs is', { timeout: 60_000 }, async () => {
    // Counted from the start of the run, a run set aside under a limits.requestTimeoutMs of 5 minutes or more
    // (595 s under batch transform) would make the server ask to be restarted the moment it is set aside.
    let atSetAside: number | undefined;
    const { job, longRows } = await start({ limits: { requestTimeoutMs: 1_000 } }, {
      onWorkerEvent: (event) => { if (event === 'worker-stuck') atSetAside = engine!.setAsideForMs; },
    });
    assert.equal(engine!.setAsideForMs, 0, 'none set aside yet');
    const run = settle(job(longRows, 1_000));
    await waitFor('the set-aside', () => atSetAside !== undefined);
    assert.ok(atSetAside! < 500, `${atSetAside} ms at the set-aside, after a run of more than 1000 ms`);
    await sleep(200);
    assert.ok(engine!.setAsideForMs >= 150, `${engine!.setAsideForMs} ms, 200 ms after the set-aside`);
    assert.equal((await run).ok, false);
  });

  it('starts no more replacements than the pool has workers while their runs go on: with none left in service it refuses requests at once until a set-aside run ends', { timeout: 60_000 }, async () => {
    const events: string[] = [];
    const { job, longRows } = await start({ limits: { requestTimeoutMs: 400 } }, { onWorkerEvent: (event) => events.push(event) });
    const first = settle(job(longRows, 400));
    await waitFor('the replacement of the first stuck worker', () => events.includes('worker-replaced'));
    const second = settle(job(longRows, 400));
    await waitFor('the second stuck worker', () => events.filter((e) => e === 'worker-stuck').length === 2);
    assert.equal(!(await first).ok && !(await second).ok, true);
    assert.equal(engine!.workerCount, 0);
    assert.equal(engine!.healthy, false, 'not ready while no worker can run');
    assert.equal(engine!.busyWorkers, 2);
    const t = Date.now();
    const refused = await settle(job(1, 20_000));
    assert.equal(!refused.ok && refused.code, 'MODEL_NOT_READY', JSON.stringify(refused));
    assert.match((refused as { message: string }).message, /^every inference worker is busy with a run that has gone on for longer than limits\.requestTimeoutMs \(400 ms\)/);
    assert.ok(Date.now() - t < 200, 'refused at once, not at its deadline');
    if (!events.includes('stuck-worker-stopped')) assert.ok(engine!.workerlessForMs > 0, 'counted as having no worker (liveness fails after maxWorkerlessMs)');
    await waitFor('a set-aside run to end and its replacement to start', () => engine!.workerCount === 1);
    assert.ok((await settle(job(1, 20_000))).ok);
    await waitFor('the other set-aside run to end', () => events.filter((e) => e === 'stuck-worker-stopped').length === 2);
    assert.equal(engine!.workerCount, 1, 'no worker beyond the pool was started');
    assert.equal(engine!.busyWorkers, 0);
  });

  it('queues again, first in line, a request posted to the worker behind the run that made it stuck', { timeout: 60_000 }, async (ctx) => {
    // A light model, so runs are short and the engine posts a second run to a busy worker (pipelining).
    const dir = modelDir('overlong-pipelined', heavySpec(512, 4, 16));
    const events: string[] = [];
    let queueWaits = 0;
    const e = await InferenceEngine.start(path.join(dir, 'model.onnx'), resolveConfig(dir, [['test', {
      workers: 1, intraOpNumThreads: 1, batching: { maxBatchSize: 65_536, maxQueueDelayMs: 0 }, limits: { requestTimeoutMs: 300 },
    }]]), { onWorkerEvent: (event) => events.push(event), onQueueWait: () => { queueWaits++; } });
    engine = e;
    const job = (rows: number, deadlineInMs: number) => settle(e.infer({ inputs: [{ name: 'input', type: 'float32', dims: [rows, 16], data: new Float32Array(rows * 16).fill(0.5) }], outputNames: ['score'], deadline: Date.now() + deadlineInMs }));
    let t = Date.now();
    assert.ok((await job(4096, 5000)).ok);
    const rows = Math.min(65_536, Math.ceil((LONG_RUN_MS / Math.max(1, Date.now() - t)) * 4096));
    if (!(await pipelining(e, () => job(1, 5000)))) return notPipelining(ctx, e);
    queueWaits = 0;
    t = Date.now();
    const long = job(rows, 300);
    const behind = job(1, 20_000); // posted to the same worker, behind the long run
    const b = await behind;
    assert.ok(b.ok, JSON.stringify(b));
    assert.ok(events.includes('worker-stuck'), `answered by the new worker after the stuck one was set aside (${JSON.stringify(events)})`);
    assert.ok(!events.includes('stuck-worker-stopped'), `answered (after ${Date.now() - t} ms) while the overlong run still went on`);
    const l = await long;
    assert.equal(!l.ok && l.code, 'DEADLINE_EXCEEDED');
    assert.equal(queueWaits, 2, 'each request\'s queue wait is recorded once, not again when it is queued again');
    // A request waiting behind a long run whose deadline passes is told its run had not started. The new
    // worker's first runs may have been slow (a cold session, CPUs shared with the set-aside run): short
    // runs bring the average back under PIPELINE_MAX_RUN_MS, so the next request is posted behind long2.
    if (!(await pipelining(e, () => job(1, 5000)))) return notPipelining(ctx, e);
    const long2 = job(Math.ceil(rows / 3), 300); // on the new worker
    const early = await job(1, 100); // posted behind it
    assert.equal(!early.ok && early.code, 'DEADLINE_EXCEEDED', JSON.stringify(early));
    assert.match((early as { message: string }).message, /^the request's deadline passed while its run waited for its worker, still in an earlier run for \d+ ms$/);
    assert.equal((await long2).ok, false);
  });

  it('starts no replacement for a worker set aside while shutting down with nothing queued', { timeout: 60_000 }, async () => {
    const events: string[] = [];
    const { job, longRows } = await start({ limits: { requestTimeoutMs: 300 } }, { onWorkerEvent: (event) => events.push(event) });
    const long = settle(job(longRows, 300));
    await sleep(50);
    const closed = engine!.close(10_000);
    await waitFor('the stuck worker to be set aside', () => events.includes('worker-stuck'));
    assert.equal(engine!.busyWorkers, 1, 'only the set-aside worker: no replacement loading');
    assert.equal(!(await long).ok, true);
    await closed;
    assert.ok(!events.includes('worker-replaced'), JSON.stringify(events));
    assert.equal(engine!.busyWorkers, 0);
  });

  it('times deadlines and runs on the monotonic clock: a step of the wall clock expires nothing early, delays nothing and makes no worker look stuck', { timeout: 60_000 }, async () => {
    const events: string[] = [];
    const { job, longRows } = await start({ limits: { requestTimeoutMs: 10_000 } }, { onWorkerEvent: (event) => events.push(event) });
    const realNow = Date.now;
    try {
      // Ten minutes forward (a resumed VM, NTP stepping the clock) while a run of about a second goes on.
      const t0 = realNow();
      const run = settle(job(Math.ceil(longRows / 3), 8_000));
      const queued = settle(job(1, 8_000)); // waits for that run
      await sleep(50);
      Date.now = () => realNow() + 600_000;
      const [r, q] = await Promise.all([run, queued]);
      assert.ok(r.ok && q.ok, JSON.stringify([r, q].map((x) => x.ok || x)));
      assert.deepEqual(events, [], 'the busy worker was not taken for stuck');
      Date.now = realNow;
      // Ten minutes back while a request waits behind a run: it is still answered at its deadline. The run
      // (about 2 s) is twice the one before, so the wait the engine expects for a busy worker (a typical run,
      // here at most about a fifth of that one's) is well within the deadline and the request is queued.
      const busy = settle(job(Math.ceil((2 * longRows) / 3), 8_000));
      const sent = realNow();
      const late = settle(job(1, 600));
      await sleep(50);
      Date.now = () => realNow() - 600_000;
      const l = await late;
      assert.equal(!l.ok && l.code, 'DEADLINE_EXCEEDED', JSON.stringify(l));
      assert.ok(realNow() - sent < 600 + 700, `answered ${realNow() - sent} ms after it was sent, its deadline 600 ms`);
      assert.ok((await busy).ok);
      assert.ok(realNow() - t0 < 30_000);
    } finally {
      Date.now = realNow;
    }
  });

  it('keeps a SageMaker request run one row per run on its deadline when the wall clock steps between its rows', { timeout: 30_000 }, async () => {
    // A model whose batch axis is fixed at 1 runs each row of /invocations as its own request; they all
    // share the HTTP request's deadline, which must not move with the wall clock between them.
    const started = await listening({ modelDir: modelDir('fixed-step', fixedBatchSpec()), config: { workers: 1, limits: { requestTimeoutMs: 5000 } } });
    app = started.app;
    const realNow = Date.now;
    const e = app.model.engine as unknown as { infer: (job: unknown) => Promise<WireTensor[]> };
    const infer = e.infer.bind(e);
    let calls = 0;
    e.infer = (job) => {
      const answer = infer(job);
      // Ten minutes forward once the first row is queued (NTP stepping the clock, a resumed VM).
      if (++calls === 1) Date.now = () => realNow() + 600_000;
      return answer;
    };
    try {
      const res = await request(started.port, 'POST', '/invocations', { instances: Array.from({ length: 8 }, (_, i) => [i, i, i, i]) });
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json().predictions.length, 8);
    } finally {
      Date.now = realNow;
    }
  });

  it('answers every request once and comes back to a clean state after random traffic with overlong runs (fixed seed)', { timeout: 90_000 }, async (t) => {
    const events: string[] = [];
    let depth = -1;
    let running = -1;
    const { job, longRows } = await start({ workers: 2, batching: { maxBatchSize: 65_536, maxQueueDelayMs: 2 }, limits: { requestTimeoutMs: 400 } }, {
      onWorkerEvent: (event) => events.push(event),
      onQueue: (d, r) => { depth = d; running = r; },
    });
    const rand = prng(7);
    const jobs: Array<Promise<Outcome>> = [];
    let longs = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 4000) {
      const r = rand();
      if (r < 0.03) {
        longs++;
        jobs.push(settle(job(Math.ceil(longRows * (0.1 + rand() * 0.4)), 400))); // 0.3-1.5 s: some outlast 400 ms
      } else {
        jobs.push(settle(job(1 + Math.floor(rand() * 8), 50 + Math.floor(rand() * 1000))));
      }
      await sleep(Math.floor(rand() * 15));
    }
    let timer: NodeJS.Timeout | undefined;
    const outcomes = await Promise.race([
      Promise.all(jobs),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('a request was never answered')), 60_000); }),
    ]).finally(() => clearTimeout(timer));
    const codes = new Map<string, number>();
    for (const o of outcomes) {
      const code = o.ok ? 'ok' : o.code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    const summary = JSON.stringify({ requests: jobs.length, longs, codes: Object.fromEntries(codes), events });
    t.diagnostic(summary);
    for (const code of codes.keys()) assert.ok(['ok', 'DEADLINE_EXCEEDED', 'DEADLINE_UNMEETABLE', 'MODEL_NOT_READY'].includes(code), `unexpected answer ${code}: ${summary}`);
    // Most are served, but how many depends on how long both workers happen to be in overlong runs at once
    // (MODEL_NOT_READY then): from 88 % to 46 % of requests in CI runs on the 2-vCPU machine.
    assert.ok((codes.get('ok') ?? 0) > jobs.length / 4, summary);
    assert.ok(events.includes('worker-stuck'), `some runs outlasted limits.requestTimeoutMs: ${summary}`);
    await waitFor('every set-aside run to end and the pool to be whole again', () => engine!.busyWorkers === 0 && engine!.workerCount === 2);
    assert.equal(engine!.queueDepth, 0);
    assert.equal(engine!.runsInFlight, 0);
    assert.deepEqual([depth, running], [0, 0], 'the gauges came back to zero');
    assert.equal(events.filter((e) => e === 'worker-stuck').length, events.filter((e) => e === 'stuck-worker-stopped').length, summary);
    assert.ok((await settle(job(1, 5000))).ok);
  });

  it('counts the pool\'s workers on each GPU as they are spread (a device holds at most twice its share of copies of the model)', () => {
    for (const [workers, devices] of [[1, 1], [4, 1], [3, 2], [8, 8], [2, 4], [7, 3]]) {
      const spread = Array.from({ length: devices }, () => 0);
      for (let i = 0; i < workers; i++) spread[i % devices]++; // worker i takes GPU i mod devices
      assert.deepEqual(Array.from({ length: devices }, (_, d) => workersOnDevice(workers, devices, d)), spread, `${workers} workers on ${devices} devices`);
    }
  });

  it('answers the HTTP request 503 at its deadline, counts the replaced worker, stays ready, and asks to be restarted if the set-aside run goes on', { timeout: 60_000 }, async () => {
    const dir = modelDir('overlong-http', SPEC);
    const started = await listening({ modelDir: dir, config: { workers: 1, intraOpNumThreads: 1, batching: { maxBatchSize: 65_536, maxQueueDelayMs: 0 }, limits: { requestTimeoutMs: 500 } }, maxWorkerlessMs: 1000 });
    app = started.app;
    const body = (rows: number) => ({ inputs: [{ name: 'input', shape: [rows, 16], datatype: 'FP32', data: new Array(rows * 16).fill(0.5) }] });
    const infer = (rows: number) => request(started.port, 'POST', '/v2/models/overlong-http/infer', body(rows));
    let t = Date.now();
    assert.equal((await infer(200)).status, 200);
    const rows = Math.min(65_536, Math.ceil((LONG_RUN_MS / Math.max(1, Date.now() - t)) * 200));
    t = Date.now();
    const late = await infer(rows);
    assert.equal(late.status, 503, late.body);
    assert.equal(late.json().code, 'DEADLINE_EXCEEDED');
    assert.ok(Date.now() - t < 500 + 1500, `answered after ${Date.now() - t} ms`);
    const restarts = async () => metricValue((await request(started.port, 'GET', '/metrics')).body, 'inference_worker_restarts_total', { model: 'overlong-http' });
    for (let i = 0; i < 200 && (await restarts()) !== 1; i++) await sleep(20);
    assert.equal(await restarts(), 1);
    const setAside = async () => metricValue((await request(started.port, 'GET', '/metrics')).body, 'inference_workers_set_aside', { model: 'overlong-http' });
    assert.equal(await setAside(), 1, 'the set-aside worker, still in its run');
    for (let i = 0; i < 200 && (await request(started.port, 'GET', '/ping')).status !== 200; i++) await sleep(20);
    assert.equal((await infer(1)).status, 200, 'served by the new worker');
    // A set-aside run still going maxWorkerlessMs after it was set aside (1 s here, 5 minutes by
    // default) holds CPUs and memory for nothing: the server asks to be restarted.
    let live = await request(started.port, 'GET', '/v2/health/live');
    for (let i = 0; i < 200 && live.status === 200 && app.model.engine!.busyWorkers > 0; i++, live = await request(started.port, 'GET', '/v2/health/live')) await sleep(20);
    assert.equal(live.status, 503, `not live while the set-aside run went on (run of about ${LONG_RUN_MS} ms)`);
    assert.match(live.json().reason, /^an inference run set aside \d+ s ago, when it outlasted limits\.requestTimeoutMs, is still going/);
    for (let i = 0; i < 500 && app.model.engine!.busyWorkers > 0; i++) await sleep(20);
    assert.equal((await request(started.port, 'GET', '/v2/health/live')).status, 200, 'live again once the run ended');
    assert.equal(await setAside(), 0);
  });
});
