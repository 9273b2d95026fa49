/**
 * limits.maxAnswerElements: an answer far larger than its request (a model whose outputs outnumber its
 * inputs) is refused with 400 ANSWER_TOO_LARGE as soon as its first rows show it, instead of filling the
 * heap while its JSON is written.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import * as net from 'node:net';
import { assertNothingInFlight, listening, metricValue, modelDir, request } from './helpers';
import { fixedBatchSpec } from '../tools/test-models';
import { prng, type InitializerSpec, type ModelSpec, type NodeSpec } from '../tools/onnx-builder';
import { resolveConfig, configFromEnv } from '../src/config';

/** x [N, 8] -> wide [N, 64] (a MatMul) and narrow [N, 8] (x itself). */
function wideSpec(): ModelSpec {
  return {
    name: 'wide',
    inputs: [{ name: 'x', type: 'float32', shape: ['N', 8] }],
    outputs: [{ name: 'wide', type: 'float32', shape: ['N', 64] }, { name: 'narrow', type: 'float32', shape: ['N', 8] }],
    initializers: [{ name: 'w', type: 'float32', dims: [8, 64], data: Float32Array.from({ length: 8 * 64 }, (_, i) => (i % 5) / 5) }],
    nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['wide'] }, { op: 'Identity', inputs: ['x'], outputs: ['narrow'] }],
  };
}

const oip = (rows: number, outputs?: string[]) => ({
  inputs: [{ name: 'x', shape: [rows, 8], datatype: 'FP32', data: new Array(rows * 8).fill(1) }],
  ...(outputs ? { outputs: outputs.map((name) => ({ name })) } : {}),
});

/** x [N, 8] -> [N, 4096]: each row's answer is about 80 KB of JSON for 8 values sent. */
const WIDER: ModelSpec = {
  name: 'wider',
  inputs: [{ name: 'x', type: 'float32', shape: ['N', 8] }],
  outputs: [{ name: 'y', type: 'float32', shape: ['N', 4096] }],
  initializers: [{ name: 'w', type: 'float32', dims: [8, 4096], data: new Float32Array(8 * 4096).fill(0.1) }],
  nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
};

describe('the answer limit (limits.maxAnswerElements)', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('refuses an answer of more values than the limit with 400 ANSWER_TOO_LARGE, counting only the outputs asked for', async () => {
    // 72 values a row with both outputs: 10 rows fit in 720, 11 do not.
    const started = await listening({ modelDir: modelDir('wide', wideSpec()), config: { limits: { maxAnswerElements: 720 } } });
    app = started.app;
    const url = '/v2/models/wide/infer';
    const fits = await request(started.port, 'POST', url, oip(10));
    assert.equal(fits.status, 200, fits.body);
    assert.deepEqual(fits.json().outputs.map((o: { shape: number[] }) => o.shape), [[10, 64], [10, 8]]);
    const over = await request(started.port, 'POST', url, oip(11));
    assert.equal(over.status, 400, over.body);
    assert.deepEqual(over.json(), {
      error: 'the answer would hold 792 values (72 a row, 11 rows), more than limits.maxAnswerElements (720): send at most 10 rows per request',
      code: 'ANSWER_TOO_LARGE',
    });
    // Only the outputs returned count: 8 a row.
    assert.equal((await request(started.port, 'POST', url, oip(90, ['narrow']))).status, 200);
    assert.equal((await request(started.port, 'POST', url, oip(91, ['narrow']))).json().code, 'ANSWER_TOO_LARGE');
    // /invocations answers the same way.
    const rows = Array.from({ length: 11 }, () => new Array(8).fill(1));
    const invocations = await request(started.port, 'POST', '/invocations', { instances: rows });
    assert.equal(invocations.status, 400, invocations.body);
    assert.equal(invocations.json().code, 'ANSWER_TOO_LARGE');
    // The server goes on answering.
    assert.equal((await request(started.port, 'POST', url, oip(1))).status, 200);
  });

  it('says when even one row is too much', async () => {
    const started = await listening({ modelDir: modelDir('wide', wideSpec()), config: { limits: { maxAnswerElements: 50 } } });
    app = started.app;
    const res = await request(started.port, 'POST', '/v2/models/wide/infer', oip(1));
    assert.equal(res.status, 400);
    assert.match(res.json().error, /72 a row, 1 rows\), more than limits\.maxAnswerElements \(50\): even one row is more; raise limits\.maxAnswerElements \(MAX_ANSWER_ELEMENTS\) or ask for fewer outputs$/);
  });

  it('stops a request run in parts after its first part, and one fed a row per run after its first row', async () => {
    const runs = async (port: number, model: string) => metricValue((await request(port, 'GET', '/metrics')).body, 'inference_runs_total', { model }) ?? 0;
    // Batches of 4 rows: 200 rows would be 50 runs.
    const started = await listening({ modelDir: modelDir('wide', wideSpec()), config: { batching: { maxBatchSize: 4 }, limits: { maxAnswerElements: 720 } } });
    app = started.app;
    const before = await runs(started.port, 'wide');
    const res = await request(started.port, 'POST', '/v2/models/wide/infer', oip(200));
    assert.equal(res.status, 400, res.body);
    assert.match(res.json().error, /^the answer would hold 14400 values \(72 a row, 200 rows\)/);
    const ran = (await runs(started.port, 'wide')) - before;
    assert.ok(ran <= 3, `${ran} runs of the 50 parts`);
    await app.close();

    // A model whose batch is fixed at 1 runs a CSV request a row at a time: 4 values a row, 5 rows fit.
    const fixed = await listening({ modelDir: modelDir('fixed', fixedBatchSpec()), config: { limits: { maxAnswerElements: 20 } } });
    app = fixed.app;
    const csv = (n: number) => Array.from({ length: n }, () => '1,2,3,4').join('\n');
    assert.equal((await request(fixed.port, 'POST', '/invocations', csv(5), { 'content-type': 'text/csv' })).status, 200);
    const first = await runs(fixed.port, 'fixed');
    const refused = await request(fixed.port, 'POST', '/invocations', csv(50), { 'content-type': 'text/csv' });
    assert.equal(refused.status, 400, refused.body);
    assert.match(refused.json().error, /^the answer would hold 200 values \(4 a row, 50 rows\), more than limits\.maxAnswerElements \(20\): send at most 5 rows per request$/);
    const fed = (await runs(fixed.port, 'fixed')) - first;
    assert.ok(fed <= 3, `${fed} runs of the 50 rows`);
  });

  it('counts an answer its client does not read towards limits.maxBodyBytesInFlight, and refuses one that would pass it', async () => {
    // x [N, 8] -> [N, 4096] of values that print as about 19 characters: 128 rows answer about 10 MB
    // for a body of 4 KB. A client that never reads holds its answer in the server until its
    // connection times out; 80 such clients took a server with a 1120 MiB heap (a 2 GiB pod's) to
    // "JavaScript heap out of memory".
    const MiB = 1024 * 1024;
    const started = await listening({ modelDir: modelDir('wider', WIDER), config: { limits: { maxBodyBytesInFlight: 16 * MiB } } });
    app = started.app;
    const url = '/v2/models/wider/infer';
    const body = JSON.stringify(oip(128));
    // A client that sends its request and reads no more than the start of the answer.
    const stalled = net.connect(started.port, '127.0.0.1');
    stalled.on('error', () => undefined);
    stalled.write(`POST ${url} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await new Promise((resolve) => stalled.once('readable', resolve));
    try {
      // Its answer is still in the server: another answer as large would pass the limit, and is refused.
      const refused = await request(started.port, 'POST', url, body);
      assert.equal(refused.status, 503, refused.body.slice(0, 200));
      assert.equal(refused.json().code, 'OVERLOADED');
      assert.match(refused.json().error, /^the answer is \d+ bytes, and \d+ bytes of request bodies and unsent answers are in flight: together more than limits\.maxBodyBytesInFlight \(16777216\); retry shortly$/);
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal(refused.headers['inference-header-content-length'], undefined);
      // A small answer still fits beside it.
      assert.equal((await request(started.port, 'POST', url, oip(1))).status, 200);
    } finally {
      stalled.destroy();
    }
    // Once that client has gone, its room is free again.
    await assertNothingInFlight(started.port);
    const alone = await request(started.port, 'POST', url, body);
    assert.equal(alone.status, 200);
    assert.deepEqual(alone.json().outputs[0].shape, [128, 4096]);
  });

  it('sends an answer larger than limits.maxBodyBytesInFlight when nothing else is in flight, and an error answer whatever is in flight', async () => {
    const started = await listening({ modelDir: modelDir('wider', WIDER), config: { limits: { maxBodyBytesInFlight: 1024 * 1024 } } });
    app = started.app;
    // About 10 MB of JSON for a body of 4 KB, alone in flight: refusing it would refuse it for good.
    const alone = await request(started.port, 'POST', '/v2/models/wider/infer', oip(128));
    assert.equal(alone.status, 200, alone.body.slice(0, 200));
    assert.ok(alone.body.length > 1024 * 1024, `${alone.body.length} bytes`);
    // While a client that reads nothing holds such an answer in flight, an error answer is still the
    // request's own error (here a POST without a body), not OVERLOADED: only successful answers are held to the limit.
    const body = JSON.stringify(oip(128));
    const stalled = net.connect(started.port, '127.0.0.1');
    stalled.on('error', () => undefined);
    stalled.write(`POST /v2/models/wider/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await new Promise((resolve) => stalled.once('readable', resolve));
    try {
      const empty = await request(started.port, 'POST', '/v2/models/wider/infer', undefined, { 'content-length': '0', 'content-type': 'application/json' });
      assert.equal(empty.status, 400, empty.body);
    } finally {
      stalled.destroy();
    }
  });

  it('frees the room of an answer whose client hung up while its run was under way, so later requests are not refused', { timeout: 60_000 }, async () => {
    // x [N, 16] through sixteen 1024-wide layers to y [N, 64]: 4000 rows in one run take about a second
    // on one thread, and answer about 3 MB of JSON for a body of 250 KB.
    const rand = prng(3);
    const layer = (fanIn: number, fanOut: number) => Float32Array.from({ length: fanIn * fanOut }, () => (rand() * 2 - 1) * Math.sqrt(2 / fanIn));
    const initializers: InitializerSpec[] = [{ name: 'w0', type: 'float32', dims: [16, 1024], data: layer(16, 1024) }];
    const nodes: NodeSpec[] = [{ op: 'MatMul', inputs: ['x', 'w0'], outputs: ['h0'] }];
    for (let l = 1; l <= 16; l++) {
      const out = l === 16 ? 64 : 1024;
      initializers.push({ name: `w${l}`, type: 'float32', dims: [1024, out], data: layer(1024, out) });
      nodes.push({ op: 'MatMul', inputs: [`h${l - 1}`, `w${l}`], outputs: [`m${l}`] }, { op: 'Relu', inputs: [`m${l}`], outputs: [l === 16 ? 'y' : `h${l}`] });
    }
    const spec: ModelSpec = { name: 'deep', inputs: [{ name: 'x', type: 'float32', shape: ['N', 16] }], outputs: [{ name: 'y', type: 'float32', shape: ['N', 64] }], initializers, nodes };
    const started = await listening({ modelDir: modelDir('deep', spec), config: { workers: 1, intraOpNumThreads: 1, batching: { maxBatchSize: 4096 }, limits: { maxBodyBytesInFlight: 2 * 1024 * 1024 } } });
    app = started.app;
    const metric = async (name: string) => metricValue((await request(started.port, 'GET', '/metrics')).body, name, { model: 'deep' }) ?? 0;
    const rows = 4000;
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [rows, 16], datatype: 'FP32', data: new Array(rows * 16).fill(0.5) }] });
    const socket = net.connect(started.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`POST /v2/models/deep/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    // Gone once its run is under way: the run goes on, and its answer is sent to nobody.
    while (await metric('inference_runs_in_flight') === 0) await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    while (await metric('inference_runs_total') === 0) await new Promise((r) => setTimeout(r, 20));
    // Its answer (3 MB, above the 2 MiB cap, taken as it was alone) holds no room once the run is over.
    const small = JSON.stringify({ inputs: [{ name: 'x', shape: [2, 16], datatype: 'FP32', data: new Array(32).fill(0.5) }] });
    const later = await request(started.port, 'POST', '/v2/models/deep/infer', small);
    assert.equal(later.status, 200, later.body.slice(0, 300));
    await assertNothingInFlight(started.port);
  });

  it('defaults to a 1024th of the heap or memory limit, at least 2^20, and takes MAX_ANSWER_ELEMENTS', () => {
    const dir = modelDir('wide', wideSpec());
    const GiB = 1024 ** 3;
    assert.equal(resolveConfig(dir, [], 2, 16 * GiB, 4 * GiB).limits.maxAnswerElements, 4 * 1024 * 1024, 'the heap is the smaller');
    assert.equal(resolveConfig(dir, [], 2, 2 * GiB, 4 * GiB).limits.maxAnswerElements, 2 * 1024 * 1024, 'the memory is the smaller');
    assert.equal(resolveConfig(dir, [], 2, 512 * 1024 * 1024, 4 * GiB).limits.maxAnswerElements, 1024 * 1024, 'at least 2^20');
    assert.deepEqual(configFromEnv({ MAX_ANSWER_ELEMENTS: '5000' }), { limits: { maxAnswerElements: 5000 } });
    assert.throws(() => configFromEnv({ MAX_ANSWER_ELEMENTS: '0' }), /environment: MAX_ANSWER_ELEMENTS="0": 'limits.maxAnswerElements' is 0; it must be an integer from 1 to 2147483647/);
  });
});
