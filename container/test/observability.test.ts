/**
 * What operators read: the request metrics and the log lines about each request, over real sockets,
 * in the paths that end a request early (a client that hangs up, a body that stalls, a failed run).
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Worker } from 'node:worker_threads';
import type { AppOptions } from '../src/app';
import { engineWorkers, fraudModel, loggedListening, metricValue, modelDir, request, sleep } from './helpers';
import { heavySpec } from '../tools/test-models';

/** A ready app on 127.0.0.1 port 0 whose log lines (parsed) are kept in `lines`. */
const logged = (options: AppOptions) => loggedListening(options);

/** Sends a raw request on a new connection, which the caller may destroy. */
function rawRequest(port: number, text: string): net.Socket {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(text);
  return socket;
}

describe('request metrics and logs', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('counts and logs a client that hangs up while its request runs as CLIENT_CLOSED, as one that hangs up while it is queued', async () => {
    const started = await logged({ modelDir: modelDir('slow', heavySpec(1024, 4, 16)), config: { workers: 1, intraOpNumThreads: 1, batching: { enabled: false } }, logRequests: false });
    app = started.app;
    const metrics = async () => (await request(started.port, 'GET', '/metrics')).body;
    const rows = 8000; // a run of a few hundred ms
    const body = JSON.stringify({ inputs: [{ name: 'input', shape: [rows, 16], datatype: 'FP32', data: new Array(rows * 16).fill(0.5) }] });
    const socket = rawRequest(started.port, `POST /v2/models/slow/infer HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone-1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    for (let i = 0; i < 400 && metricValue(await metrics(), 'inference_runs_in_flight', { model: 'slow' }) !== 1; i++) await sleep(5);
    assert.equal(metricValue(await metrics(), 'inference_runs_in_flight', { model: 'slow' }), 1, 'the run has started');
    socket.destroy();
    for (let i = 0; i < 400 && metricValue(await metrics(), 'inference_runs_in_flight', { model: 'slow' }) !== 0; i++) await sleep(10);
    await sleep(50);
    const text = await metrics();
    assert.equal(metricValue(text, 'inference_runs_in_flight', { model: 'slow' }), 0, 'the run has ended');
    assert.equal(metricValue(text, 'http_requests_total', { method: 'POST', route: '/v2/models/:name/infer', status_code: '499' }), 1);
    assert.equal(metricValue(text, 'http_errors_total', { code: 'CLIENT_CLOSED' }), 1, 'every 499 is a CLIENT_CLOSED');
    const mine = started.lines.filter((l) => l.reqId === 'gone-1');
    assert.deepEqual(mine.map((l) => [l.msg, l.code, l.status]), [['client closed the connection before the answer', 'CLIENT_CLOSED', 499]], 'logged once, even with LOG_REQUESTS=off');
  });
  it('logs the model, pool, providers, queue, limits and drain time when the model starts loading, and again once it is ready', async () => {
    const started = await logged({ modelDir: fraudModel().dir, config: { workers: 1, intraOpNumThreads: 1, queue: { maxSize: 77 }, limits: { bodyLimitBytes: 123456 } }, drainMs: 4321 });
    app = started.app;
    const loading = started.lines.findIndex((l) => l.msg === 'loading model');
    const ready = started.lines.findIndex((l) => l.msg === 'model ready');
    assert.ok(loading >= 0 && loading < ready, started.raw.join(''));
    const line = started.lines[loading];
    assert.equal(line.level, 30);
    assert.equal(line.model, 'fraud-mlp');
    assert.match(String(line.file), /model\.onnx$/);
    assert.deepEqual([line.workers, line.intraOpNumThreads, line.executionProviders, line.drainMs], [1, 1, ['cpu'], 4321]);
    for (const l of [line, started.lines[ready]]) {
      assert.equal((l.queue as { maxSize: number }).maxSize, 77);
      assert.equal((l.limits as { bodyLimitBytes: number }).bodyLimitBytes, 123456);
      assert.equal(l.drainMs, 4321);
    }
  });
  it('gives the latency histograms buckets up to 600 s, past batch transform\'s 595 s deadline, so long requests are not all +Inf', async () => {
    const started = await logged({ modelDir: fraudModel().dir });
    app = started.app;
    assert.equal((await request(started.port, 'POST', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0]] })).status, 200);
    const text = (await request(started.port, 'GET', '/metrics')).body;
    for (const name of ['http_request_duration_seconds', 'inference_compute_duration_seconds', 'inference_queue_duration_seconds']) {
      const bounds = [...new Set([...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"`, 'gm'))].map((m) => m[1]))];
      assert.deepEqual(bounds.slice(-5), ['60', '120', '300', '600', '+Inf'], name);
      assert.equal(bounds[0], '0.0005', name);
    }
  });
  it('names a request by its X-Request-Id, and echoes it, when that is 1 to 128 letters, digits, _, ., : and -; by a generated id otherwise', async () => {
    const started = await logged({ modelDir: fraudModel().dir });
    app = started.app;
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const [id, usable] of [['a'.repeat(128), true], ['Az09_.:-', true], ['a'.repeat(129), false], ['has space', false], ['a/b', false], ['', false]] as const) {
      const res = await request(started.port, 'GET', '/v2', undefined, { 'x-request-id': id });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-request-id'], usable ? id : undefined, `${id.length} characters: ${id.slice(0, 10)}`);
      await sleep(10);
      const line = started.lines.filter((l) => l.msg === 'request completed').at(-1);
      if (usable) assert.equal(line?.reqId, id);
      else assert.match(String(line?.reqId), uuid, `${id.length} characters: ${id.slice(0, 10)}`);
    }
  });
  it('logs a request refused while its body arrives (a malformed chunk) with the same request id as its other lines', async () => {
    const started = await logged({ modelDir: fraudModel().dir });
    app = started.app;
    const socket = rawRequest(started.port, 'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n1,2\r\nzz\r\n');
    let answer = '';
    socket.on('data', (d: Buffer) => { answer += d.toString(); });
    await new Promise((resolve) => socket.on('close', resolve));
    assert.match(answer, /^HTTP\/1.1 400 /);
    await sleep(50);
    const incoming = started.lines.find((l) => l.msg === 'incoming request');
    const rejected = started.lines.find((l) => l.msg === 'request rejected');
    assert.ok(incoming && rejected, JSON.stringify(started.lines));
    assert.equal(typeof incoming.reqId, 'string');
    assert.equal(rejected.reqId, incoming.reqId, 'the generated id, as the client sent none');
    assert.equal(answer.includes('x-request-id'), false, 'a generated id stays in the logs');
  });
  it('logs a request its run failed for (500 INFERENCE_FAILED) as an error, a bad input as info, and neither with the values sent', async () => {
    const started = await logged({ modelDir: fraudModel().dir, config: { workers: 1, batching: { enabled: false } }, logRequests: false });
    app = started.app;
    // A run the worker cannot even start (standing in for onnxruntime running out of memory): its
    // tensor's shape no longer matches its data.
    const [worker] = engineWorkers(app.model.engine);
    const post = worker.postMessage.bind(worker);
    worker.postMessage = ((msg: { type: string; feeds?: Array<{ dims: number[] }> }, transfer?: never) => post(msg.type === 'run' ? { ...msg, feeds: msg.feeds!.map((f) => ({ ...f, dims: [1, 7] })) } : msg, transfer)) as Worker['postMessage'];
    const failed = await request(started.port, 'POST', '/invocations', { instances: [[0.123456789, 0, 0, 0, 0, 0, 0, 0]] }, { 'x-request-id': 'failed-1' });
    assert.equal(failed.status, 500, failed.body);
    assert.equal(failed.json().code, 'INFERENCE_FAILED');
    worker.postMessage = post;
    const bad = await request(started.port, 'POST', '/invocations', { instances: [['0.987654321', 0, 0, 0, 0, 0, 0, 0]] }, { 'x-request-id': 'bad-1' });
    assert.equal(bad.status, 400);
    await sleep(50);
    const level = (id: string) => started.lines.filter((l) => l.reqId === id).map((l) => [l.level, l.code]);
    assert.deepEqual(level('failed-1'), [[50, 'INFERENCE_FAILED']], 'a server fault is an error');
    assert.deepEqual(level('bad-1'), [[30, 'BAD_TENSOR_VALUE']], 'a client\'s bad input is not');
    const text = JSON.stringify(started.lines);
    assert.ok(!text.includes('123456789') && !text.includes('987654321'), 'a value sent was logged');
  });
  it('with LOG_REQUESTS=off names the method and path (without the query string) of each request it logs as rejected, failed or abandoned', async () => {
    const started = await logged({ modelDir: fraudModel().dir, logRequests: false });
    app = started.app;
    assert.equal((await request(started.port, 'POST', '/invocations?token=s3cret', { instances: [[1]] }, { 'x-request-id': 'bad-1' })).status, 400);
    assert.equal((await request(started.port, 'GET', '/nope?token=s3cret', undefined, { 'x-request-id': 'nf-1' })).status, 404);
    assert.equal((await request(started.port, 'DELETE', '/invocations', undefined, { 'x-request-id': 'na-1' })).status, 405);
    assert.equal((await request(started.port, 'GET', '/v2/models/other', undefined, { 'x-request-id': 'um-1' })).status, 404);
    // A client that hangs up mid-body: CLIENT_CLOSED, logged when its response closes.
    const socket = rawRequest(started.port, 'POST /invocations?token=s3cret HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone-1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"instances": [');
    for (let i = 0; i < 100 && metricValue((await request(started.port, 'GET', '/metrics')).body, 'http_requests_in_flight') !== 2; i++) await sleep(10);
    socket.destroy();
    for (let i = 0; i < 100 && !started.lines.some((l) => l.reqId === 'gone-1'); i++) await sleep(10);
    const linesOf = (id: string) => started.lines.filter((l) => l.reqId === id).map((l) => [l.msg, l.method, l.url, l.code]);
    assert.deepEqual(linesOf('bad-1'), [['request rejected', 'POST', '/invocations', 'BAD_INSTANCES']]);
    assert.deepEqual(linesOf('nf-1'), [['request rejected', 'GET', '/nope', 'NOT_FOUND']]);
    assert.deepEqual(linesOf('na-1'), [['request rejected', 'DELETE', '/invocations', 'METHOD_NOT_ALLOWED']]);
    assert.deepEqual(linesOf('um-1'), [['request rejected', 'GET', '/v2/models/other', 'UNKNOWN_MODEL']]);
    assert.deepEqual(linesOf('gone-1'), [['client closed the connection before the answer', 'POST', '/invocations', 'CLIENT_CLOSED']]);
    assert.ok(!started.raw.join('').includes('s3cret'), 'the query string was logged');
  });
  it('with LOG_REQUESTS=off still logs requests no route takes (404, 405) as rejected, as it logs every other refusal', async () => {
    const started = await logged({ modelDir: fraudModel().dir, logRequests: false });
    app = started.app;
    assert.equal((await request(started.port, 'GET', '/nope', undefined, { 'x-request-id': 'nf-1' })).status, 404);
    assert.equal((await request(started.port, 'POST', '/nope', { a: 1 }, { 'x-request-id': 'nf-2' })).status, 404);
    assert.equal((await request(started.port, 'DELETE', '/invocations', undefined, { 'x-request-id': 'na-1' })).status, 405);
    await sleep(50);
    const rejected = (id: string) => started.lines.filter((l) => l.reqId === id).map((l) => [l.msg, l.code, l.status]);
    assert.deepEqual(rejected('nf-2'), [['request rejected', 'NOT_FOUND', 404]], 'with a body');
    assert.deepEqual(rejected('nf-1'), [['request rejected', 'NOT_FOUND', 404]], 'without one');
    assert.deepEqual(rejected('na-1'), [['request rejected', 'METHOD_NOT_ALLOWED', 405]]);
  });
});
