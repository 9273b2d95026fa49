/**
 * HTTP itself, over real sockets: what clients and proxies send besides a plain request (connection
 * options, Expect: 100-continue, content codings, methods and paths the routes do not take).
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { exactRequest, fraudModel, listening, metricValue, request, sleep, toBytes } from './helpers';


const ROW = '[1.2, 0.1, 0.8, 0.3, 2.0, -0.5, 1, 1]';
const INSTANCES = `{"instances": [${ROW}]}`;

/** Writes `text` on a fresh connection; resolves with everything the server sent until it closed (or `ms`). */
function exchange(port: number, text: string | Buffer, ms = 3_000): Promise<{ out: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ out, closed: false });
    }, ms);
    socket.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ out, closed: true });
    });
    socket.on('error', () => undefined);
  });
}

/**
 * Sends a request's headers with `Expect: 100-continue` and waits, as curl does for a body over 1 KiB.
 * Sends the body once the server says 100 Continue; resolves with what came back in `ms`.
 */
function expectContinue(port: number, head: string, body: string, ms = 1_500): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`${head}Expect: 100-continue\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`));
    let out = '';
    let sent = false;
    socket.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (!sent && out.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        sent = true;
        socket.write(body);
      }
    });
    socket.on('error', () => undefined);
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** The status lines of the answers in a raw exchange, in order. */
function statuses(out: string): number[] {
  return [...out.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

describe('HTTP connection handling', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers a request that asks to close the connection even when the client sent more after it', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const ping = 'GET /ping HTTP/1.1\r\nHost: x\r\n\r\n';
    // Connection: close, then another request in the same write: the first is answered, the second is
    // not read (RFC 9112 9.6), and the connection closes after the answer.
    const closing = await exchange(started.port, `GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n${ping}`);
    assert.deepEqual(statuses(closing.out), [200], closing.out);
    assert.match(closing.out, /\r\nConnection: close\r\n/i);
    assert.match(closing.out, /\{"live":true\}$/);
    assert.ok(closing.closed);
    // An HTTP/1.0 request without keep-alive is the same.
    const old = await exchange(started.port, `POST /invocations HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${INSTANCES.length}\r\n\r\n${INSTANCES}${ping}`);
    assert.deepEqual(statuses(old.out), [200], old.out);
    assert.match(old.out, /"predictions":\[\{"fraud_probability":\[0\.99/);
    // An HTTP/1.0 POST with no Content-Length has no body (RFC 9112 6.3): what follows is not read, and
    // the client is told its request came without one.
    const noLength = await exchange(started.port, `POST /invocations HTTP/1.0\r\nContent-Type: application/json\r\n\r\n${INSTANCES}`);
    assert.deepEqual(statuses(noLength.out), [400], noLength.out);
    assert.match(noLength.out, /"code":"EMPTY_BODY"/);
    // A pipelined request before the one that closes is answered too, in order.
    const both = await exchange(started.port, `${ping}GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n${ping}`);
    assert.deepEqual(statuses(both.out), [200, 200], both.out);
    assert.match(both.out, /\{"live":true\}$/);
    await sleep(50);
    const metrics = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'http_errors_total', { code: 'INVALID_REQUEST' }), undefined, 'nothing counted as a request Node could not parse');
    assert.equal(metricValue(metrics, 'http_requests_total', { method: 'GET', route: '/v2/health/live', status_code: '200' }), 2);
    assert.equal(metricValue(metrics, 'http_requests_in_flight'), 1, 'only the scrape itself');
  });

  it('says 100 Continue only to a request whose body it will read, and refuses the others at once', async () => {
    const started = await listening({ modelDir: fraudModel().dir, config: { limits: { textBodyLimitBytes: 1024 } } });
    app = started.app;
    const post = (path: string, type: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\n`;
    // Served: 100 Continue, then the answer once the body came.
    const served = await expectContinue(started.port, post('/invocations', 'application/json'), INSTANCES);
    assert.deepEqual(statuses(served), [100, 200], served);
    assert.match(served, /"predictions":\[\{"fraud_probability":\[0\.99/);
    const oip = await expectContinue(started.port, post('/v2/models/fraud-mlp/infer', 'application/json'),
      JSON.stringify({ inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8] }] }));
    assert.deepEqual(statuses(oip), [100, 200], oip);
    // A body found wrong once read still had its 100 Continue.
    const badJson = await expectContinue(started.port, post('/invocations', 'application/json'), '{"instances": [');
    assert.deepEqual(statuses(badJson), [100, 400], badJson);
    // Refused by its headers: the final answer at once, no 100 Continue (so the client never sends the
    // body), and the connection closed after it (the client may still send the body).
    const refused: Array<[string, string, number, string]> = [
      [post('/invocations', 'application/json'), `{"instances": [${Array(200).fill(ROW).join(',')}]}`, 413, 'PAYLOAD_TOO_LARGE'],
      [post('/v2/models/other/infer', 'application/json'), INSTANCES, 404, 'UNKNOWN_MODEL'],
      [post('/v2/models/fraud-mlp/versions/7/infer', 'application/json'), INSTANCES, 404, 'UNKNOWN_MODEL_VERSION'],
      [post('/nowhere', 'application/json'), INSTANCES, 404, 'NOT_FOUND'],
      [post('/invocations', 'text/plain'), INSTANCES, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [head, body, status, code] of refused) {
      const out = await expectContinue(started.port, head, body);
      assert.deepEqual(statuses(out), [status], `${head}: ${out}`);
      assert.match(out, new RegExp(`"code":"${code}"`));
      assert.match(out, /\r\nconnection: close\r\n/i);
    }
    // Keep-alive still works after a 100 Continue exchange.
    const twice = await exchange(started.port, `POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${INSTANCES.length}\r\n\r\n${INSTANCES}GET /ping HTTP/1.1\r\nHost: x\r\n\r\n`, 500);
    assert.deepEqual(statuses(twice.out), [100, 200, 200], twice.out);
  });
});

describe('answered requests whose body is still arriving', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Sends `head`, waits for the answer, then sends `rest`; resolves with everything the server sent. */
  function afterAnswer(port: number, head: string, rest: string, ms: number): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
      let out = '';
      socket.on('data', (d: Buffer) => {
        const first = out === '';
        out += d.toString('latin1');
        if (first && rest) socket.write(rest);
      });
      socket.on('error', () => undefined);
      const timer = setTimeout(() => socket.destroy(), ms);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
  }

  it('never answers a request twice: a GET answered before its body arrived gets no 400 or 408 when that body goes wrong', { timeout: 20_000 }, async () => {
    const started = await listening({ modelDir: fraudModel().dir, config: { limits: { requestTimeoutMs: 100 } } });
    app = started.app;
    // Fastify answers GET and HEAD without reading a body; the rest of it is read and discarded after.
    // A malformed chunk in it, or a body that stalls past the request timeout, is not another request.
    const badChunk = await afterAnswer(started.port, 'GET /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n', 'zz\r\n', 3_000);
    assert.deepEqual(statuses(badChunk), [200], badChunk);
    const stalled = await afterAnswer(started.port, 'GET /v2/health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc', '', 8_000);
    assert.deepEqual(statuses(stalled), [200], stalled);
    const metrics = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'http_errors_total', { code: 'INVALID_REQUEST' }), undefined);
    assert.equal(metricValue(metrics, 'http_errors_total', { code: 'REQUEST_TIMEOUT' }), undefined);
    assert.equal(metricValue(metrics, 'http_requests_total', { method: 'UNKNOWN', route: '__unparsed__', status_code: '400' }), undefined);
    assert.equal(metricValue(metrics, 'http_requests_total', { method: 'UNKNOWN', route: '__unparsed__', status_code: '408' }), undefined);
    assert.equal(metricValue(metrics, 'http_requests_total', { method: 'GET', route: '/ping', status_code: '200' }), 1);
  });
});

describe('compressed request bodies', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("reads gzip and deflate bodies, as Triton's clients send them, and refuses codings it cannot read with 415", async () => {
    const started = await listening({ modelDir: fraudModel().dir, config: { limits: { bodyLimitBytes: 64 * 1024, textBodyLimitBytes: 32 * 1024 } } });
    app = started.app;
    const { port } = started;
    const features = [1.2, 0.1, 0.8, 0.3, 2.0, -0.5, 1, 1];
    // JSON, CSV and JSON Lines on /invocations.
    const json = await exactRequest(port, 'POST', '/invocations', zlib.gzipSync(INSTANCES), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal(json.status, 200, json.body);
    assert.ok(json.json().predictions[0].fraud_probability[0] > 0.9);
    const csv = await exactRequest(port, 'POST', '/invocations', zlib.deflateSync(`${features.join(',')}\n0,0,0,0,0,0,0,0\n`), { 'content-type': 'text/csv', 'content-encoding': 'deflate' });
    assert.equal(csv.status, 200, csv.body);
    assert.equal(csv.json().predictions.length, 2);
    const lines = await exactRequest(port, 'POST', '/invocations', zlib.gzipSync(`${ROW}\n${ROW}\n`), { 'content-type': 'application/jsonlines', 'content-encoding': 'x-gzip' });
    assert.equal(lines.status, 200, lines.body);
    // The OIP route, as tritonclient.http sends it with request_compression_algorithm: no Content-Type,
    // and binary tensor data, with Inference-Header-Content-Length the length of the JSON before
    // compression (here longer than the whole compressed body).
    const head = Buffer.from(JSON.stringify({
      id: 'z'.repeat(200),
      inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', parameters: { binary_data_size: 32 } }],
      outputs: [{ name: 'fraud_probability', parameters: { binary_data: false } }],
    }));
    const body = Buffer.concat([head, toBytes('float32', features)]);
    const packed = zlib.gzipSync(body);
    assert.ok(packed.length < head.length);
    for (const [coding, bytes] of [['gzip', packed], ['deflate', zlib.deflateSync(body)]] as const) {
      const oip = await exactRequest(port, 'POST', '/v2/models/fraud-mlp/infer', bytes, { 'content-encoding': coding, 'inference-header-content-length': String(head.length) });
      assert.equal(oip.status, 200, oip.body);
      assert.ok(oip.json().outputs[0].data[0] > 0.9, oip.body);
    }
    // Chunked and compressed.
    const chunked = await request(port, 'POST', '/invocations', zlib.gzipSync(INSTANCES), { 'content-type': 'application/json', 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' });
    assert.equal(chunked.status, 200, chunked.body);
    // identity is no coding at all.
    assert.equal((await exactRequest(port, 'POST', '/invocations', INSTANCES, { 'content-type': 'application/json', 'content-encoding': 'identity' })).status, 200);

    // A coding the server cannot read: 415, naming it and what is taken (and Accept-Encoding, RFC 9110).
    for (const coding of ['br', 'zstd', 'gzip, gzip', 'compress']) {
      const refused = await exactRequest(port, 'POST', '/invocations', zlib.gzipSync(INSTANCES), { 'content-type': 'application/json', 'content-encoding': coding });
      assert.equal(refused.status, 415, `${coding}: ${refused.body}`);
      assert.equal(refused.json().code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.match(refused.json().error, /Content-Encoding .* is not taken here.*gzip.*deflate/);
      assert.equal(refused.headers['accept-encoding'], 'gzip, deflate');
    }
    // A body that is not what its coding says: 400 naming the coding, not "not valid JSON".
    const corrupt = await exactRequest(port, 'POST', '/invocations', INSTANCES, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal(corrupt.status, 400, corrupt.body);
    assert.equal(corrupt.json().code, 'INVALID_REQUEST');
    assert.match(corrupt.json().error, /^the body is not valid gzip data \(Content-Encoding: gzip\)/);
    const cut = zlib.gzipSync(INSTANCES);
    const truncated = await exactRequest(port, 'POST', '/invocations', cut.subarray(0, cut.length - 10), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal(truncated.status, 400, truncated.body);
    assert.match(truncated.json().error, /^the body is not valid gzip data/);
    // Limits apply to the body as decompressed: a small body that inflates past the text limit, or past
    // the body limit as binary tensor data, is 413.
    const bomb = zlib.gzipSync(`{"instances": [${Array(2000).fill(ROW).join(',')}]}`);
    assert.ok(bomb.length < 4096);
    const tooLarge = await exactRequest(port, 'POST', '/invocations', bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal(tooLarge.status, 413, tooLarge.body);
    assert.equal(tooLarge.json().code, 'PAYLOAD_TOO_LARGE');
    const zeros = zlib.gzipSync(Buffer.concat([head, Buffer.alloc(10 * 1024 * 1024)]));
    const binaryBomb = await exactRequest(port, 'POST', '/v2/models/fraud-mlp/infer', zeros, { 'content-encoding': 'gzip', 'inference-header-content-length': String(head.length) });
    assert.equal(binaryBomb.status, 413, binaryBomb.body);
    await sleep(50);
    const metrics = (await request(port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'http_request_body_bytes_in_flight'), 0);
    assert.equal(metricValue(metrics, 'http_requests_in_flight'), 1, 'only the scrape itself');
  });

  it('reads a compressed body that decompresses to exactly the body limit, as it reads such a body uncompressed, and refuses one byte more', async () => {
    const limit = 16 * 1024;
    const started = await listening({ modelDir: fraudModel().dir, config: { limits: { bodyLimitBytes: limit, textBodyLimitBytes: limit } } });
    app = started.app;
    const padded = (size: number) => INSTANCES.slice(0, -1) + ' '.repeat(size - INSTANCES.length) + '}';
    assert.equal(Buffer.byteLength(padded(limit)), limit);
    const plain = await exactRequest(started.port, 'POST', '/invocations', padded(limit), { 'content-type': 'application/json' });
    assert.equal(plain.status, 200, plain.body);
    for (const [coding, pack] of [['gzip', zlib.gzipSync], ['deflate', zlib.deflateSync]] as const) {
      const atLimit = await exactRequest(started.port, 'POST', '/invocations', pack(padded(limit)), { 'content-type': 'application/json', 'content-encoding': coding });
      assert.equal(atLimit.status, 200, `${coding}: ${atLimit.body}`);
      const over = await exactRequest(started.port, 'POST', '/invocations', pack(padded(limit + 1)), { 'content-type': 'application/json', 'content-encoding': coding });
      assert.equal(over.status, 413, `${coding}: ${over.body}`);
      assert.equal(over.json().code, 'PAYLOAD_TOO_LARGE');
    }
  });
});

describe('methods and paths', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers a method a path does not take with 405 and Allow, and OPTIONS with the methods it takes', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const { port } = started;
    const cases: Array<[string, string, string]> = [
      ['GET', '/invocations', 'POST'],
      ['HEAD', '/invocations', 'POST'],
      ['PUT', '/invocations', 'POST'],
      ['POST', '/ping', 'GET, HEAD'],
      ['DELETE', '/v2/health/ready', 'GET, HEAD'],
      ['GET', '/v2/models/fraud-mlp/infer', 'POST'],
      ['GET', '/v2/models/fraud-mlp/versions/1/infer?x=1', 'POST'],
      ['POST', '/v2/models/fraud-mlp', 'GET, HEAD'],
      ['PATCH', '/metrics', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await request(port, method, path);
      assert.equal(res.status, 405, `${method} ${path}: ${res.body}`);
      assert.equal(res.headers.allow, allow, `${method} ${path}`);
      if (method !== 'HEAD') {
        assert.equal(res.json().code, 'METHOD_NOT_ALLOWED');
        assert.equal(res.json().error, `${method} is not allowed on ${path.split('?')[0]}; it takes ${allow}`);
      }
    }
    // With a body: refused before it is read, as a request with no route is.
    const withBody = await exactRequest(port, 'PUT', '/v2/models/fraud-mlp/infer', 'x'.repeat(200_000), { 'content-type': 'application/json' });
    assert.equal(withBody.status, 405, withBody.body);
    assert.equal(withBody.headers.allow, 'POST');
    assert.equal(withBody.headers.connection, 'close');
    // OPTIONS: 204 with Allow.
    for (const [path, allow] of [['/invocations', 'POST'], ['/v2/models/fraud-mlp/ready', 'GET, HEAD'], ['/ping?x', 'GET, HEAD']]) {
      const res = await request(port, 'OPTIONS', path);
      assert.equal(res.status, 204, `OPTIONS ${path}: ${res.body}`);
      assert.equal(res.headers.allow, allow);
    }
    // No route at all is still 404.
    for (const method of ['GET', 'POST', 'OPTIONS']) {
      const res = await request(port, method, '/nope');
      assert.equal(res.status, 404);
      assert.equal(res.json().code, 'NOT_FOUND');
    }
    const metrics = (await request(port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'http_errors_total', { code: 'METHOD_NOT_ALLOWED' }), cases.length + 1);
    assert.equal(metricValue(metrics, 'http_errors_total', { code: 'NOT_FOUND' }), 3);
  });

  it('serves its paths with a trailing slash or doubled slashes, as a base URL ending in / produces', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const { port } = started;
    const oip = { inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: [1.2, 0.1, 0.8, 0.3, 2.0, -0.5, 1, 1] }] };
    for (const path of ['/ping/', '//ping', '/v2/health/ready/', '/v2//health/live', '/v2/models/fraud-mlp/', '/v2/models/fraud-mlp/ready/',
      '/v2/models/fraud-mlp/versions/1/', '/v2/', '/v2', '//v2/health/ready?x=1', '/metrics/', '/execution-parameters/']) {
      const res = await request(port, 'GET', path);
      assert.equal(res.status, 200, `GET ${path}: ${res.body}`);
    }
    for (const path of ['/invocations/', '//invocations', '/invocations/?x=1']) {
      const res = await request(port, 'POST', path, JSON.parse(INSTANCES));
      assert.equal(res.status, 200, `POST ${path}: ${res.body}`);
    }
    for (const path of ['/v2/models/fraud-mlp/infer/', '//v2/models/fraud-mlp/infer', '/v2/models/fraud-mlp//versions/1/infer/']) {
      const res = await request(port, 'POST', path, oip);
      assert.equal(res.status, 200, `POST ${path}: ${res.body}`);
    }
    assert.equal((await request(port, 'GET', '/v2/models/other/')).json().code, 'UNKNOWN_MODEL');
    assert.equal((await request(port, 'GET', '/pingx')).status, 404);
    // Counted under the route's own template.
    const metrics = (await request(port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'http_requests_total', { method: 'GET', route: '/ping', status_code: '200' }), 2);
    assert.equal(metricValue(metrics, 'http_requests_total', { method: 'POST', route: '/v2/models/:name/infer', status_code: '200' }), 2);
  });

  it('keeps the connection open after refusing a request whose body it had read in full', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    // Read in full, then refused: nothing is left unread on the connection, so it stays open for the next request.
    const res = await request(started.port, 'POST', '/v2/models/fraud-mlp/infer', { inputs: [{ name: 'features', shape: [1, 7], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7] }] });
    assert.equal(res.status, 400, res.body);
    assert.notEqual(res.headers.connection, 'close');
  });

  it('answers a model name longer than the served one with 404 UNKNOWN_MODEL, not a 400 about the URL', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const { port } = started;
    const oip = { inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8] }] };
    for (const length of [101, 5_000]) {
      const name = 'm'.repeat(length);
      for (const [method, path] of [['GET', `/v2/models/${name}`], ['GET', `/v2/models/${name}/ready`], ['POST', `/v2/models/${name}/infer`], ['POST', `/v2/models/${name}/versions/1/infer`]]) {
        const res = await request(port, method, path, method === 'POST' ? oip : undefined);
        assert.equal(res.status, 404, `${method} ${length}: ${res.body.slice(0, 200)}`);
        assert.equal(res.json().code, 'UNKNOWN_MODEL');
        // The name is quoted in part: the answer does not grow with the URL.
        assert.ok(res.body.length < 400, res.body.slice(0, 200));
        assert.match(res.json().error, /^model 'm+\.\.\.' \(\d+ characters\) is not served here; this server serves 'fraud-mlp'$/);
      }
    }
  });
});

describe('content types', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('skips the header row of CSV sent as text/csv; header=present (RFC 4180)', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const { port } = started;
    const rows = '1.2,0.1,0.8,0.3,2.0,-0.5,1,1\n0,0,0,0,0,0,0,0\n';
    const header = 'amount,age,velocity,distance,merchant,hour,foreign,online\n';
    for (const type of ['text/csv; header=present', 'text/csv;Header=PRESENT;charset=utf-8', 'text/csv; charset=utf-8; header="present"']) {
      const res = await exactRequest(port, 'POST', '/invocations', header + rows, { 'content-type': type, accept: 'text/csv' });
      assert.equal(res.status, 200, `${type}: ${res.body}`);
      assert.equal(res.body.trim().split('\n').length, 2, res.body);
    }
    // CRLF line ends, and a header with nothing after it.
    assert.equal((await exactRequest(port, 'POST', '/invocations', header.replace('\n', '\r\n') + rows, { 'content-type': 'text/csv; header=present' })).status, 200);
    const onlyHeader = await exactRequest(port, 'POST', '/invocations', header, { 'content-type': 'text/csv; header=present' });
    assert.equal(onlyHeader.status, 400);
    assert.equal(onlyHeader.json().code, 'EMPTY_BODY');
    // Without the parameter, or with header=absent, the first row is data.
    for (const type of ['text/csv', 'text/csv; header=absent']) {
      const res = await exactRequest(port, 'POST', '/invocations', rows, { 'content-type': type });
      assert.equal(res.json().predictions.length, 2, res.body);
      const withHeader = await exactRequest(port, 'POST', '/invocations', header + rows, { 'content-type': type });
      assert.equal(withHeader.json().code, 'CSV_BAD_VALUE');
    }
  });
});
