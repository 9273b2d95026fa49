/**
 * Payload-free logs: requests carrying a distinctive marker in their values, text, names or headers,
 * over real sockets, with the server logging at `trace` (every line it and Fastify write) and every
 * request logged (LOG_REQUESTS=on). The marker must reach the answer where the answer quotes what it
 * refused, and never the log.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { exactRequest, fraudModel, HttpResult, loggedListening, modelDir, npy, request, sleep, startServer } from './helpers';
import type { ModelSpec } from '../tools/onnx-builder';
import { lookupSpec } from '../tools/test-models';

/**
 * Asserts that no log line holds any of the markers, as text or as the bytes of a Buffer logged whole
 * (`{"type":"Buffer","data":[...]}`, as Node's parse errors carry the raw packet). A marker must have
 * reached the server: see the callers.
 */
function assertNotLogged(raw: string[], markers: readonly string[]): void {
  const text = raw.join('\n');
  for (const m of markers) {
    for (const form of [m, Array.from(Buffer.from(m)).join(',')]) {
      const at = text.indexOf(form);
      assert.equal(at, -1, `${m} was logged: ${text.slice(Math.max(0, text.lastIndexOf('\n', at) + 1), text.indexOf('\n', at))}`);
    }
  }
}

/** Sends a raw request on a new connection; resolves with what came back once the connection closes. */
function rawExchange(port: number, text: string, endAfterMs?: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => { answer += d.toString(); });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.write(text);
    if (endAfterMs !== undefined) setTimeout(() => socket.destroy(), endAfterMs);
  });
}

/** An OIP request for the lookup model (lookupSpec) with one index. */
const lookupBody = (idx: number) => ({ inputs: [{ name: 'idx', shape: [1, 1], datatype: 'INT64', data: [idx] }] });

/**
 * Sends the lookup model a request with an index beyond its table beside a good one, so that they run merged
 * first (a request whose body is still arriving makes the queued ones wait, maxQueueDelayMs, for it), then
 * alone: the bad one is answered 422 quoting its index, the good one 200.
 */
async function badBesideGood(port: number, badIndex: number): Promise<void> {
  const slow = JSON.stringify(lookupBody(7));
  const arriving = net.connect(port, '127.0.0.1');
  arriving.on('error', () => undefined);
  arriving.write(`POST /v2/models/lookup/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${slow.length}\r\n\r\n${slow.slice(0, 5)}`);
  await sleep(50);
  const [bad, good] = await Promise.all([
    request(port, 'POST', '/v2/models/lookup/infer', lookupBody(badIndex)),
    request(port, 'POST', '/v2/models/lookup/infer', lookupBody(3)),
  ]);
  arriving.end(slow.slice(5));
  assert.equal(bad.json().code, 'INPUT_REJECTED_BY_MODEL', bad.body);
  assert.ok(bad.body.includes(String(Math.abs(badIndex))), bad.body);
  assert.equal(good.status, 200, good.body);
}

/** A BYTES input and an FP64 input, each echoed. */
const echoSpec: ModelSpec = {
  name: 'echo',
  inputs: [{ name: 's', type: 'string', shape: ['batch', 2] }, { name: 'f', type: 'float64', shape: ['batch', 2] }],
  outputs: [{ name: 't', type: 'string', shape: ['batch', 2] }, { name: 'g', type: 'float64', shape: ['batch', 2] }],
  nodes: [{ op: 'Identity', inputs: ['s'], outputs: ['t'] }, { op: 'Identity', inputs: ['f'], outputs: ['g'] }],
};

const ZEROS = [0, 0, 0, 0, 0, 0, 0];

describe('logs at trace never hold payload', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('logs bad input in every body format without the values, text or names sent, which the answers quote', async () => {
    const started = await loggedListening({ modelDir: fraudModel().dir, config: { limits: { textBodyLimitBytes: 4096 } } }, 'trace');
    app = started.app;
    const { port } = started;
    const infer = '/v2/models/fraud-mlp/infer';
    const oip = (input: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: [0.5, ...ZEROS], ...input }], ...extra });
    const binaryHead = 'mkBinJson11';
    const cases: Array<{ marker: string; send: () => Promise<HttpResult>; code: string; quoted: boolean }> = [
      { marker: 'mkValue1', code: 'BAD_TENSOR_VALUE', quoted: true, send: () => request(port, 'POST', infer, oip({ data: ['mkValue1', ...ZEROS] })) },
      { marker: '7301234e+39', code: 'BAD_TENSOR_VALUE', quoted: true, send: () => request(port, 'POST', infer, oip({ data: [3.7301234e39, ...ZEROS] })) },
      { marker: 'mkUnknownName3', code: 'UNKNOWN_INPUT', quoted: true, send: () => request(port, 'POST', infer, oip({ name: 'mkUnknownName3' })) },
      { marker: 'mkType4', code: 'UNKNOWN_DATATYPE', quoted: true, send: () => request(port, 'POST', infer, oip({ datatype: 'mkType4' })) },
      { marker: '730123457', code: 'INVALID_REQUEST', quoted: true, send: () => request(port, 'POST', infer, oip({}, { id: 730123457 })) },
      { marker: 'mkBadJson6', code: 'BAD_JSON', quoted: true, send: () => request(port, 'POST', infer, '{"inputs": [mkBadJson6]}') },
      { marker: 'mkProto7', code: 'BAD_JSON', quoted: false, send: () => request(port, 'POST', infer, '{"__proto__": {"mkProto7": 1}, "inputs": []}') },
      { marker: 'mkInstance8', code: 'BAD_TENSOR_VALUE', quoted: true, send: () => request(port, 'POST', '/invocations', { instances: [['mkInstance8', ...ZEROS]] }) },
      { marker: 'mkCsv9', code: 'CSV_BAD_VALUE', quoted: true, send: () => request(port, 'POST', '/invocations', `0,0,0,0,0,0,0,mkCsv9\n`, { 'content-type': 'text/csv' }) },
      { marker: 'mkJsonLines10', code: 'BAD_JSON', quoted: true, send: () => request(port, 'POST', '/invocations', '[mkJsonLines10]\n', { 'content-type': 'application/jsonlines' }) },
      { marker: 'mkBinJson11', code: 'BAD_JSON', quoted: true, send: () => exactRequest(port, 'POST', infer, `${binaryHead}mkBinBytes11`, { 'inference-header-content-length': String(binaryHead.length) }) },
      { marker: 'mkBinBytes12', code: 'DATA_LENGTH_MISMATCH', quoted: false, send: () => {
        const head = oip({ data: undefined, parameters: { binary_data_size: 32 } });
        return exactRequest(port, 'POST', infer, `${head}mkBinBytes12`, { 'inference-header-content-length': String(head.length) });
      } },
      { marker: 'mkAttribute13', code: 'BAD_HEADER', quoted: false, send: () => request(port, 'POST', '/invocations', { instances: [[0.5, ...ZEROS]] }, { 'x-amzn-sagemaker-custom-attributes': 'mkAttribute13\u00e9' }) },
      { marker: 'mkGzip14', code: 'INVALID_REQUEST', quoted: false, send: () => exactRequest(port, 'POST', '/invocations', 'mkGzip14 is not gzip', { 'content-type': 'text/csv', 'content-encoding': 'gzip' }) },
      { marker: 'mkDeclaredLarge15', code: 'PAYLOAD_TOO_LARGE', quoted: false, send: () => exactRequest(port, 'POST', '/invocations', 'mkDeclaredLarge15,'.repeat(300), { 'content-type': 'text/csv' }) },
      { marker: 'mkChunkedLarge16', code: 'PAYLOAD_TOO_LARGE', quoted: false, send: () => request(port, 'POST', '/invocations', 'mkChunkedLarge16,'.repeat(300), { 'content-type': 'text/csv' }) },
      { marker: 'mkOutput17', code: 'UNKNOWN_OUTPUT', quoted: true, send: () => request(port, 'POST', infer, oip({}, { outputs: [{ name: 'mkOutput17' }] })) },
      { marker: 'mkOutput18', code: 'INVALID_REQUEST', quoted: true, send: () => request(port, 'POST', '/invocations', { instances: [[0.5, ...ZEROS]], outputs: [{ name: 'mkOutput18' }] }) },
      { marker: 'mkCsvRow19', code: 'CSV_COLUMN_COUNT', quoted: false, send: () => request(port, 'POST', '/invocations', `0,0,mkCsvRow19\n`, { 'content-type': 'text/csv' }) },
      { marker: 'mkWrongRoute20', code: 'UNSUPPORTED_MEDIA_TYPE', quoted: false, send: () => request(port, 'POST', infer, 'mkWrongRoute20,0\n', { 'content-type': 'text/csv' }) },
      { marker: 'mkNotFound21', code: 'NOT_FOUND', quoted: false, send: () => request(port, 'POST', '/nope', { instances: [['mkNotFound21']] }) },
      { marker: 'mkNpy22', code: 'BAD_NPY', quoted: true, send: () => request(port, 'POST', '/invocations', npy('mkNpy22', [1], new Uint8Array(4)), { 'content-type': 'application/x-npy' }) },
      { marker: 'mkLines23', code: 'BAD_JSON', quoted: true, send: () => request(port, 'POST', '/invocations', '[0.5,0,0,0,0,0,0,0]\n[mkLines23]\n', { 'content-type': 'application/json' }) },
      { marker: 'mkBare24', code: 'BAD_TENSOR_VALUE', quoted: true, send: () => request(port, 'POST', '/invocations', [['mkBare24', ...ZEROS]]) },
    ];
    for (const c of cases) {
      const res = await c.send();
      assert.equal(res.json().code, c.code, `${c.marker}: ${res.body}`);
      if (c.quoted) assert.ok(res.body.includes(c.marker), `the answer quotes what it refused: ${res.body}`);
    }
    await sleep(50);
    assert.equal(started.lines.filter((l) => l.msg === 'request rejected').length, cases.length, 'every refusal is logged');
    assertNotLogged(started.raw, cases.map((c) => c.marker));
  });

  it('logs served requests without their values, BYTES strings, answers or custom attributes', async () => {
    const started = await loggedListening({ modelDir: modelDir('echo', echoSpec) }, 'trace');
    app = started.app;
    const inputs = [
      { name: 's', shape: [1, 2], datatype: 'BYTES', data: ['mkBytesIn1', 'mkBytesIn2'] },
      { name: 'f', shape: [1, 2], datatype: 'FP64', data: [0.7301234567, 1] },
    ];
    const json = await request(started.port, 'POST', '/v2/models/echo/infer', { id: 'mkRequestId3', inputs, outputs: [{ name: 't' }, { name: 'g' }] });
    assert.equal(json.status, 200, json.body);
    assert.ok(json.body.includes('mkBytesIn1') && json.body.includes('0.7301234567') && json.body.includes('mkRequestId3'), json.body);
    const binary = await request(started.port, 'POST', '/v2/models/echo/infer', { inputs, parameters: { binary_data_output: true } });
    assert.equal(binary.status, 200);
    assert.ok(binary.body.includes('mkBytesIn2'));
    const rows = await request(started.port, 'POST', '/invocations', { inputs }, { 'x-amzn-sagemaker-custom-attributes': 'mkAttribute4=1' });
    assert.equal(rows.status, 200, rows.body);
    assert.equal(rows.headers['x-amzn-sagemaker-custom-attributes'], 'mkAttribute4=1');
    await sleep(50);
    assert.equal(started.lines.filter((l) => l.msg === 'request completed').length, 3);
    assertNotLogged(started.raw, ['mkBytesIn', '7301234567', 'mkRequestId3', 'mkAttribute4']);
  });

  it('logs requests Node cannot parse (a malformed chunk, a bad or oversized header) and a client that hangs up mid-body without what they sent', async () => {
    const started = await loggedListening({ modelDir: fraudModel().dir }, 'trace');
    app = started.app;
    const malformed = await rawExchange(started.port, 'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nmkChunk1\r\nzz\r\n');
    assert.match(malformed, /^HTTP\/1.1 400 /);
    // Refused before a request was under way: a control character in a header, headers too large.
    const badHeader = await rawExchange(started.port, 'POST /invocations HTTP/1.1\r\nHost: x\r\nX-Amzn-SageMaker-Custom-Attributes: mkHeader3\x01\r\nContent-Length: 0\r\n\r\n');
    assert.match(badHeader, /^HTTP\/1.1 400 /);
    const largeHeader = await rawExchange(started.port, `POST /invocations HTTP/1.1\r\nHost: x\r\nX-Amzn-SageMaker-Custom-Attributes: ${'mkHeader4,'.repeat(2000)}\r\nContent-Length: 0\r\n\r\n`);
    assert.match(largeHeader, /^HTTP\/1.1 431 /);
    const body = `{"instances": [["mkAborted2", ${'0, '.repeat(5000)}`;
    await rawExchange(started.port, `POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 1000}\r\n\r\n${body}`, 100);
    await sleep(100);
    assert.ok(started.lines.some((l) => l.code === 'CLIENT_CLOSED'), JSON.stringify(started.lines));
    assertNotLogged(started.raw, ['mkChunk1', 'mkAborted2', 'mkHeader3', 'mkHeader4']);
  });

  it('logs runs onnxruntime refuses (alone, and merged with another request) without the values it quotes', async () => {
    const started = await loggedListening({ modelDir: modelDir('lookup', lookupSpec()), config: { workers: 1, batching: { enabled: true, maxQueueDelayMs: 200 } } }, 'trace');
    app = started.app;
    await badBesideGood(started.port, 730123457);
    await sleep(50);
    assert.ok(started.lines.some((l) => l.event === 'merged-run-failed'), 'the two requests ran merged first');
    assertNotLogged(started.raw, ['730123457']);
  });

  it('logs the URL without its query string, and no header value a client sent but a usable X-Request-Id', async () => {
    const started = await loggedListening({ modelDir: fraudModel().dir }, 'trace');
    app = started.app;
    const headers = {
      'accept-version': 'mkVersion3', authorization: 'Bearer mkAuth4', cookie: 'session=mkCookie5', 'x-request-id': 'mk Id 6 (not an id)',
      'x-amzn-sagemaker-custom-attributes': 'mkAttribute7', 'x-api-key': 'mkKey8', 'user-agent': 'mkAgent9',
      // The Host header is the client's to write too, up to the 16 KiB of headers.
      host: 'mkHost14.example',
    };
    const served = await request(started.port, 'POST', '/invocations?token=mkQuery1&x=mkQuery2', { instances: [[0.5, ...ZEROS]] }, headers);
    assert.equal(served.status, 200, served.body);
    const refused = await request(started.port, 'POST', '/v2/models/fraud-mlp/infer?token=mkQuery10', { inputs: [] }, headers);
    assert.equal(refused.status, 400, refused.body);
    assert.equal((await request(started.port, 'GET', '/nope?token=mkQuery11', undefined, headers)).status, 404);
    assert.equal((await request(started.port, 'GET', '/v2/models/%zz?token=mkQuery12', undefined, headers)).status, 400);
    const malformed = await rawExchange(started.port, 'POST /invocations?token=mkQuery13 HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n1,2\r\nzz\r\n');
    assert.match(malformed, /^HTTP\/1.1 400 /);
    await sleep(50);
    // The path is logged (the route and the model name a request addressed).
    const urls = started.lines.filter((l) => l.msg === 'incoming request').map((l) => (l.req as { url: string }).url);
    assert.deepEqual(urls, ['/invocations', '/v2/models/fraud-mlp/infer', '/nope', '/v2/models/%zz', '/invocations']);
    // Every refusal names its path too, without the query string.
    assert.deepEqual(started.lines.filter((l) => l.msg === 'request rejected').map((l) => l.url), ['/v2/models/fraud-mlp/infer', '/nope', '/v2/models/%zz', '/invocations']);
    assertNotLogged(started.raw, ['mkQuery', 'mkVersion3', 'mkAuth4', 'mkCookie5', 'mk Id 6', 'mkAttribute7', 'mkKey8', 'mkAgent9', 'mkHost14']);
  });

  it('logs an unexpected error (500 INTERNAL) without its message, which may quote what the request held', async () => {
    // An input check that fails with a plain Error quoting a value, as code outside the server may.
    const started = await loggedListening({
      modelDir: fraudModel().dir,
      inputChecks: [(inputs) => { throw new TypeError(`cannot check ${String(inputs[0].data[0])}`); }],
    }, 'trace');
    app = started.app;
    const res = await request(started.port, 'POST', '/invocations', { instances: [[0.7301234, ...ZEROS]] });
    assert.equal(res.status, 500);
    assert.deepEqual(res.json(), { error: 'internal server error', code: 'INTERNAL' });
    await sleep(50);
    const line = started.lines.find((l) => l.msg === 'unexpected error');
    assert.ok(line, JSON.stringify(started.lines));
    assertNotLogged(started.raw, ['7301234']);
    // Still enough to find the fault: the error's type and where it was thrown.
    const err = line.err as { type?: string; stack?: string };
    assert.equal(err.type, 'TypeError');
    assert.match(err.stack ?? '', /log-payload\.test\.js/);
  });

  it('in the server process, writes nothing of a run onnxruntime refuses to stdout or stderr (onnxruntime\'s own lines quote the values)', async () => {
    const server = await startServer({ MODEL_DIR: modelDir('lookup', lookupSpec()), LOG_LEVEL: 'trace', INFERENCE_WORKERS: '1', BATCHING: 'on', MAX_QUEUE_DELAY_MS: '200' });
    try {
      const alone = await request(server.port, 'POST', '/v2/models/lookup/infer', lookupBody(730123457));
      assert.equal(alone.json().code, 'INPUT_REJECTED_BY_MODEL', alone.body);
      await badBesideGood(server.port, -730123458);
      await sleep(100);
      assert.ok(server.logs.some((l) => l.includes('merged-run-failed')), server.logs.join('\n'));
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    assertNotLogged(server.logs, ['730123457', '730123458']);
  });
});
