import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { fraudModel, listening, metricValue, modelDir, request, scratchDir, startServer } from './helpers';
import { heavySpec } from '../tools/test-models';
import { memoryLimit } from '../src/config';

describe('the server process', () => {
  it('on SIGTERM answers every accepted request, refuses new connections, and exits 0 within the drain time', async () => {
    const server = await startServer({ MODEL_DIR: modelDir('heavy', heavySpec(1024, 4, 16)), INFERENCE_WORKERS: '1', INTRA_OP_NUM_THREADS: '1', BATCHING: 'off', DRAIN_TIMEOUT_MS: '10000' });
    const body = { inputs: [{ name: 'input', shape: [1000, 16], datatype: 'FP32', data: new Array(16_000).fill(0.5) }] };
    // Eight requests of ~50-100 ms each on one worker: most are still queued when SIGTERM arrives.
    const inFlight = Array.from({ length: 8 }, () => request(server.port, 'POST', '/v2/models/heavy/infer', body, { connection: 'close' }));
    // SIGTERM once all eight have been accepted (the scrape itself is the ninth request in flight).
    for (let i = 0; i < 200; i++) {
      if ((metricValue((await request(server.port, 'GET', '/metrics', undefined, { connection: 'close' })).body, 'http_requests_in_flight') ?? 0) >= 9) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const t0 = Date.now();
    server.child.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    assert.deepEqual(answers.map((a) => a.status), new Array(8).fill(200), answers.map((a) => a.body).join('\n'));
    for (const a of answers) assert.deepEqual(a.json().outputs[0].shape, [1000, 1]);
    const { code } = await server.exited;
    assert.equal(code, 0, server.logs.join('\n'));
    assert.ok(Date.now() - t0 < 10_000);
    assert.ok(server.logs.some((l) => l.includes('"draining')));
    // The last line says the drain ended well: exit status 0, and how long it took.
    const last = JSON.parse(server.logs.filter((l) => l.startsWith('{')).at(-1)!) as Record<string, unknown>;
    assert.deepEqual([last.level, last.msg, last.exitCode], [30, 'drained, exiting', 0], server.logs.join('\n'));
    assert.equal(typeof last.drainSeconds, 'number');
    await assert.rejects(new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: server.port, path: '/ping' }, resolve).on('error', reject);
    }), /ECONNREFUSED/);
  });

  it('on SIGTERM closes keep-alive connections once their answer is sent, instead of waiting for the client to hang up', async () => {
    const server = await startServer({ MODEL_DIR: modelDir('heavy', heavySpec(1024, 4, 16)), INFERENCE_WORKERS: '1', INTRA_OP_NUM_THREADS: '1', BATCHING: 'off', DRAIN_TIMEOUT_MS: '10000' });
    // A client that keeps idle connections for a minute, as load balancers do.
    const keepAlive = new http.Agent({ keepAlive: true, timeout: 60_000 });
    try {
      const body = JSON.stringify({ inputs: [{ name: 'input', shape: [2000, 16], datatype: 'FP32', data: new Array(32_000).fill(0.5) }] });
      const answered = new Promise<{ status: number; connection?: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/v2/models/heavy/infer', agent: keepAlive, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
        });
        req.on('error', reject);
        req.end(body);
      });
      await new Promise((r) => setTimeout(r, 40));
      const t0 = Date.now();
      server.child.kill('SIGTERM');
      const answer = await answered;
      assert.equal(answer.status, 200);
      assert.equal(answer.connection, 'keep-alive', 'the request was answered on a kept-alive connection');
      const { code } = await server.exited;
      assert.equal(code, 0, server.logs.join('\n'));
      // Without closing idle connections while draining, the exit waits for the drain timer (11 s).
      assert.ok(Date.now() - t0 < 3_000, `exited ${Date.now() - t0} ms after SIGTERM`);
    } finally {
      keepAlive.destroy();
    }
  });

  it('on SIGINT (Ctrl-C) drains as on SIGTERM: answers the request it has accepted, then exits 0', async () => {
    const server = await startServer({ MODEL_DIR: fraudModel().dir, DRAIN_TIMEOUT_MS: '10000' });
    const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: [0.5, 0.1, 0.2, 0.3, 1, -0.5, 1, 0] }] }));
    // A request whose headers have arrived and whose body has not all arrived yet: accepted, not answered.
    const socket = net.connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => { answer += chunk.toString('latin1'); });
    socket.on('error', () => undefined);
    const closed = new Promise((resolve) => socket.on('close', resolve));
    await new Promise((resolve) => socket.on('connect', resolve));
    socket.write(`POST /v2/models/fraud-mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.subarray(0, 10));
    for (let i = 0; i < 500; i++) {
      if ((metricValue((await request(server.port, 'GET', '/metrics', undefined, { connection: 'close' })).body, 'http_requests_in_flight') ?? 0) >= 2) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    server.child.kill('SIGINT');
    for (let i = 0; i < 1000 && !server.logs.some((l) => l.includes('"draining')); i++) await new Promise((r) => setTimeout(r, 10));
    const draining = server.logs.find((l) => l.includes('"draining'));
    assert.ok(draining, server.logs.join('\n'));
    assert.equal(JSON.parse(draining).signal, 'SIGINT');
    socket.write(body.subarray(10));
    const { code } = await server.exited;
    const logs = server.logs.join('\n');
    assert.equal(code, 0, logs);
    assert.ok(!logs.includes('requests unanswered'), logs);
    await closed;
    assert.match(answer, /^HTTP\/1\.1 200 /, answer);
    assert.deepEqual(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).outputs[0].shape, [1, 1]);
  });

  it('on SIGTERM closes connections that have not sent a byte yet, and exits 0 without waiting for the drain time', async () => {
    const server = await startServer({ MODEL_DIR: fraudModel().dir, DRAIN_TIMEOUT_MS: '10000' });
    // A client that opens a connection ahead of its request (a browser's or a proxy's preconnect) and
    // has not sent it yet: no request is under way on it.
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise((resolve) => socket.on('close', resolve));
    await new Promise((resolve) => socket.on('connect', resolve));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    const logs = server.logs.join('\n');
    assert.equal(code, 0, logs);
    // Waiting for that connection, the exit came with the drain timer (11 s), with status 1.
    assert.ok(Date.now() - t0 < 3_000, `exited ${Date.now() - t0} ms after SIGTERM`);
    assert.ok(!logs.includes('requests unanswered'), logs);
    await closed;
  });

  it('past the drain time, answers the request whose run is still going with 503 and exits 1 when the run ends, without aborting', { timeout: 60_000 }, async () => {
    const server = await startServer({ MODEL_DIR: modelDir('heavy', heavySpec(1024, 4, 16)), INFERENCE_WORKERS: '1', INTRA_OP_NUM_THREADS: '1', BATCHING: 'off', DRAIN_TIMEOUT_MS: '0' });
    // About 240 G multiply-adds on one thread: several seconds, far beyond the 1 s exit timer.
    const rows = 60_000;
    const long = request(server.port, 'POST', '/v2/models/heavy/infer', { inputs: [{ name: 'input', shape: [rows, 16], datatype: 'FP32', data: new Array(rows * 16).fill(0.5) }] }, { connection: 'close' });
    for (let i = 0; i < 200; i++) {
      const text = (await request(server.port, 'GET', '/metrics', undefined, { connection: 'close' })).body;
      if (metricValue(text, 'inference_runs_in_flight', { model: 'heavy' }) === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const t0 = Date.now();
    server.child.kill('SIGTERM');
    const answer = await long;
    const answeredAfter = Date.now() - t0;
    const { code, signal } = await server.exited;
    const exitedAfter = Date.now() - t0;
    const logs = server.logs.join('\n');
    assert.equal(answer.status, 503, `the run finished within the drain time (${answeredAfter} ms), so this test did not reach its case`);
    assert.deepEqual(answer.json(), { error: "the server shut down before this request's inference finished", code: 'SHUTTING_DOWN' });
    assert.ok(answeredAfter >= 900 && answeredAfter < 2_500, `answered ${answeredAfter} ms after SIGTERM`);
    // Stopping the worker mid-run would abort the process: SIGABRT and "terminate called ... Napi::Error".
    assert.equal(signal, null, logs);
    assert.equal(code, 1, logs);
    assert.ok(!logs.includes('terminate called'), logs);
    assert.ok(exitedAfter > answeredAfter, 'the process waited for the run');
    assert.match(logs, /drain time exceeded: answering queued and running requests 503 SHUTTING_DOWN; exiting once the inference run in progress ends/);
    const last = JSON.parse(server.logs.filter((l) => l.startsWith('{')).at(-1)!) as Record<string, unknown>;
    assert.deepEqual([last.level, last.msg, last.exitCode], [40, 'drained past the drain time, exiting', 1], logs);
  });

  it('answers a request that arrives on an open connection while draining with SHUTTING_DOWN, Retry-After and Connection: close', async () => {
    const { app, port } = await listening({ modelDir: modelDir('heavy', heavySpec(1024, 4, 16)), config: { workers: 1, intraOpNumThreads: 1, batching: { enabled: false } } });
    const post = (rows: number) => {
      const body = JSON.stringify({ inputs: [{ name: 'input', shape: [rows, 16], datatype: 'FP32', data: new Array(rows * 16).fill(0.5) }] });
      return `POST /v2/models/heavy/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    };
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d: Buffer) => { received += d.toString(); });
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(post(2000));
    await new Promise((r) => setTimeout(r, 100));
    const closing = app.close();
    // The second request, pipelined on the same connection, arrives once the server is closing.
    socket.write(post(1));
    await closing;
    await closed;
    const responses = received.split(/(?=HTTP\/1\.1 )/);
    assert.equal(responses.length, 2, received.slice(0, 500));
    assert.match(responses[0], /^HTTP\/1\.1 200 /);
    assert.match(responses[1], /^HTTP\/1\.1 503 /);
    assert.match(responses[1], /\r\nretry-after: 1\r\n/i);
    assert.match(responses[1], /\r\nconnection: close\r\n/i);
    const body = JSON.parse(responses[1].slice(responses[1].indexOf('\r\n\r\n') + 4));
    assert.deepEqual(body, { error: 'the server is shutting down and takes no new requests; retry on another instance', code: 'SHUTTING_DOWN' });
  });

  it('logs JSON lines with request ids and never the payload, and not probes or scrapes', async () => {
    const model = fraudModel().dir;
    const server = await startServer({ MODEL_DIR: model });
    try {
      // The "model ready" line gives the pool, and what each worker's copy of the model is expected to take.
      const ready = server.logs.filter((l) => l.includes('"model ready"')).map((l) => JSON.parse(l))[0];
      const modelBytes = fs.statSync(path.join(model, 'model.onnx')).size;
      assert.deepEqual(ready.memory, { perWorkerMiB: Math.round((2 * modelBytes + 32 * 1024 * 1024) / (1024 * 1024)), limitMiB: Math.round(memoryLimit() / (1024 * 1024)) });
      const secret = 0.123456789;
      const res = await request(server.port, 'POST', '/invocations', { instances: [[secret, 0, 0, 0, 0, 0, 0, 0]] }, { 'x-request-id': 'trace-me-1' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-request-id'], 'trace-me-1', 'echoed');
      const bad = await request(server.port, 'POST', '/invocations', { instances: [['SECRET-VALUE', 0, 0, 0, 0, 0, 0, 0]] });
      assert.equal(bad.status, 400);
      assert.equal(bad.headers['x-request-id'], undefined, 'a generated id is only logged');
      // An id that is not a plausible one (here 16,000 characters, which would go into every log line
      // about the request) is replaced by a generated one.
      const long = await request(server.port, 'POST', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0]] }, { 'x-request-id': 'x'.repeat(16_000) });
      assert.equal(long.headers['x-request-id'], undefined);
      // Probes and scrapes come every few seconds: they log only warnings and errors.
      for (const url of ['/ping', '/v2/health/live', '/v2/health/ready', '/v2/models/fraud-mlp/ready', '/metrics', '/execution-parameters']) {
        assert.equal((await request(server.port, 'GET', url, undefined, { 'x-request-id': 'probe-1' })).status, 200, url);
      }
      await new Promise((r) => setTimeout(r, 100));
      const lines = server.logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      assert.ok(lines.some((l) => l.reqId === 'trace-me-1' && l.msg === 'request completed'), 'request id from x-request-id');
      assert.deepEqual(lines.filter((l) => l.reqId === 'probe-1').map((l) => l.req?.url ?? l.msg), [], 'a probe or scrape was logged');
      const text = server.logs.join('\n');
      assert.ok(!text.includes('0.123456789'), 'a request value was logged');
      assert.ok(!text.includes('SECRET-VALUE'), 'a rejected value was logged');
      assert.ok(!text.includes('x'.repeat(200)), 'a client\'s oversized request id was logged');
    } finally {
      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
    }
  });

  it('leaves onnxruntime\'s own error lines (not JSON, quoting the values a run failed on) out of the log', async () => {
    // y = table[idx]: an index beyond the table of 10 fails the run, and onnxruntime's message names it.
    const dir = modelDir('lookup', {
      name: 'lookup',
      inputs: [{ name: 'idx', type: 'int64', shape: ['n', 1] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['n', 1] }],
      initializers: [{ name: 'table', type: 'float32', dims: [10], data: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90] }],
      nodes: [{ op: 'Gather', inputs: ['table', 'idx'], outputs: ['y'], attributes: { axis: 0 } }],
    });
    const server = await startServer({ MODEL_DIR: dir });
    try {
      const res = await request(server.port, 'POST', '/invocations', { instances: [[123456789]] });
      assert.equal(res.status, 422, res.body);
      assert.match(res.json().error, /123456789/, 'the caller is told');
      await new Promise((r) => setTimeout(r, 100));
      const text = server.logs.join('\n');
      assert.ok(!text.includes('123456789'), `a request value was logged: ${text}`);
      for (const line of text.split('\n').filter((l) => l.trim() !== '')) assert.doesNotThrow(() => JSON.parse(line), `not a JSON line: ${line}`);
    } finally {
      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
    }
  });

  it('with LOG_REQUESTS=off logs only rejected requests, still with their request id', async () => {
    const server = await startServer({ MODEL_DIR: fraudModel().dir, LOG_REQUESTS: 'off' });
    try {
      const ok = await request(server.port, 'POST', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0]] }, { 'x-request-id': 'quiet-1' });
      assert.equal(ok.status, 200);
      const bad = await request(server.port, 'POST', '/invocations', { instances: [['x', 0, 0, 0, 0, 0, 0, 0]] }, { 'x-request-id': 'loud-1' });
      assert.equal(bad.status, 400);
      await new Promise((r) => setTimeout(r, 100));
      const lines = server.logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      assert.ok(!lines.some((l) => l.reqId === 'quiet-1'), 'a successful request was logged');
      assert.ok(!lines.some((l) => l.msg === 'incoming request' || l.msg === 'request completed'));
      assert.ok(lines.some((l) => l.reqId === 'loud-1' && l.msg === 'request rejected' && l.code === 'BAD_TENSOR_VALUE'), server.logs.join('\n'));
    } finally {
      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
    }
    await assert.rejects(startServer({ MODEL_DIR: fraudModel().dir, LOG_REQUESTS: 'errors' }), /environment: LOG_REQUESTS is \\"errors\\"; it must be on \(a line when each request arrives and one when it is answered\) or off \(only rejected and failed requests\)/);
  });

  it('on an uncaught error logs one fatal JSON line, with its type and stack frames but not its message, and exits 1', async () => {
    // A module loaded before the server, standing in for a bug: the HTTP server it creates throws, outside
    // any request handler, on a request for /__throw.
    const preload = path.join(scratchDir('uncaught-'), 'throw.js');
    fs.writeFileSync(preload, [
      "const http = require('node:http');",
      'const create = http.createServer;',
      'http.createServer = (...args) => create(...args).prependListener(\'request\', (req) => {',
      "  if (req.url === '/__throw') throw new TypeError('quoting a value 0.123456789');",
      '});',
    ].join('\n'));
    const server = await startServer({ MODEL_DIR: fraudModel().dir, NODE_OPTIONS: `--require ${preload}` });
    await request(server.port, 'GET', '/__throw', undefined, { connection: 'close' }).catch(() => undefined);
    const { code, signal } = await server.exited;
    const text = server.logs.join('\n');
    assert.deepEqual([code, signal], [1, null], text);
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON line: ${line}`);
    const fatal = lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: { type: string; stack: string }; exitCode?: number }).filter((l) => l.level === 60);
    assert.equal(fatal.length, 1, text);
    assert.equal(fatal[0].msg, 'uncaught error, exiting');
    assert.equal(fatal[0].err?.type, 'TypeError');
    assert.match(fatal[0].err?.stack ?? '', /throw\.js/);
    assert.equal(fatal[0].exitCode, 1);
    assert.ok(!text.includes('0.123456789'), 'the error message was logged');
  });

  it('refuses to start with a clear message when serving.json is invalid', async () => {
    const dir = modelDir('bad-config', heavySpec(8, 1), { batching: { maxBatchSize: 0 } });
    await assert.rejects(startServer({ MODEL_DIR: dir }), /'batching.maxBatchSize' is 0; it must be an integer from 1 to 65536/);
  });
});
