import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { exactRequest, fraudModel, fromBytes, listening, modelDir, request, toBytes } from './helpers';
import { ALL_TYPES, fixedBatchSpec, kitchenSinkSpec, multiInputSpec, oddInputName, oddOutputName } from '../tools/test-models';
import { ORT_TO_OIP, OrtType } from '../src/tensors';

/** Two distinct rows per type, chosen to survive the trip exactly (FP16 values are representable). */
function rowsFor(type: string, seed: number): unknown[][] {
  switch (type) {
    case 'bool': return [[seed % 2 === 0, true], [false, seed % 3 === 0]];
    case 'string': return [[`s${seed}-a`, 'ünïcødé ✓'], ['', `s${seed}-d`]];
    case 'int64': return [[seed, '-9223372036854775808'], ['9007199254740993', -seed]];
    case 'uint64': return [[seed, '18446744073709551615'], [0, 7]];
    case 'int8': return [[-128, 127], [seed % 100, -1]];
    case 'uint8': return [[0, 255], [seed % 200, 1]];
    case 'float16': return [[0.5, -2], [1024, seed % 16]];
    case 'float32': return [[0.25 + seed, -1.5], [3.5, 1e-3]];
    default: return [[seed, 2], [3, 4]];
  }
}

/** What the server answers for rows it was sent: int64 beyond 2^53 as strings, the rest as JSON values. */
function expected(type: string, rows: unknown[][]): unknown[] {
  return rows.flat().map((v) => {
    if (type === 'float32') return Math.fround(v as number);
    if ((type === 'int64' || type === 'uint64') && typeof v === 'string') {
      return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    }
    return v;
  });
}

describe('Open Inference Protocol', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('serves server metadata, liveness, readiness and model metadata', async () => {
    const started = await listening({ modelDir: modelDir('kitchen-sink', kitchenSinkSpec()) });
    app = started.app;
    const { port } = started;
    assert.equal((await request(port, 'GET', '/v2/health/live')).status, 200);
    assert.deepEqual((await request(port, 'GET', '/v2/health/ready')).json().ready, true);
    const server = (await request(port, 'GET', '/v2')).json();
    assert.equal(server.name, 'ai-platform-constructs-inference-server');
    assert.deepEqual(server.extensions, ['binary_tensor_data']);
    const ready = await request(port, 'GET', '/v2/models/kitchen-sink/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json(), { name: 'kitchen-sink', ready: true });
    const meta = (await request(port, 'GET', '/v2/models/kitchen-sink')).json();
    assert.deepEqual(meta.inputs.map((i: { name: string }) => i.name), ALL_TYPES.map(oddInputName));
    assert.deepEqual(meta.inputs.find((i: { name: string }) => i.name === oddInputName('uint16')), { name: 'in/uint16:0 (row)', datatype: 'UINT16', shape: [-1, 2] });
    assert.deepEqual(meta.outputs.map((o: { datatype: string }) => o.datatype), ALL_TYPES.map((t) => ORT_TO_OIP[t as OrtType]));
    const unknown = await request(port, 'GET', '/v2/models/other');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json(), { error: "model 'other' is not served here; this server serves 'kitchen-sink'", code: 'UNKNOWN_MODEL' });
    assert.equal((await request(port, 'GET', '/v2/models/other/ready')).status, 404);
  });

  it("names the model's platform onnx_onnxv1, the protocol's name for an ONNX model run by ONNX Runtime, on both metadata routes", async () => {
    // The protocol's Platforms section: "The following platform names are allowed: ... onnx_onnxv1 :
    // A ONNX model encoded for ONNX Runtime." (Triton's own name, onnxruntime_onnx, is not among them.)
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    for (const path of ['/v2/models/fraud-mlp', '/v2/models/fraud-mlp/versions/1']) {
      const meta = await request(started.port, 'GET', path);
      assert.equal(meta.status, 200);
      assert.equal(meta.json().platform, 'onnx_onnxv1', path);
    }
  });

  it('gives the shape [-1] in model metadata for a tensor the model declares no shape for', async () => {
    const spec = { name: 'unshaped', inputs: [{ name: 'x', type: 'float32' as const, shape: [], unshaped: true }], outputs: [{ name: 'y', type: 'float32' as const, shape: [], unshaped: true }], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }] };
    const started = await listening({ modelDir: modelDir('unshaped', spec) });
    app = started.app;
    const meta = (await request(started.port, 'GET', '/v2/models/unshaped')).json();
    assert.deepEqual(meta.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1] }]);
    assert.deepEqual(meta.outputs, [{ name: 'y', datatype: 'FP32', shape: [-1] }]);
  });

  it('serves version 1 of the model on the /versions/{v} routes and answers 404 for any other version', async () => {
    const started = await listening({ modelDir: modelDir('fraud', fixedBatchSpec()) });
    app = started.app;
    const { port } = started;
    const ready = await request(port, 'GET', '/v2/models/fraud/versions/1/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json(), { name: 'fraud', ready: true });
    const meta = (await request(port, 'GET', '/v2/models/fraud/versions/1')).json();
    assert.deepEqual(meta.versions, ['1']);
    assert.deepEqual(meta, (await request(port, 'GET', '/v2/models/fraud')).json());
    const infer = await request(port, 'POST', '/v2/models/fraud/versions/1/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
    assert.equal(infer.status, 200, infer.body);
    assert.equal(infer.json().model_version, '1');
    for (const [method, url, body] of [
      ['GET', '/v2/models/fraud/versions/2/ready', undefined],
      ['GET', '/v2/models/fraud/versions/2', undefined],
      ['POST', '/v2/models/fraud/versions/2/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }],
    ] as const) {
      const res = await request(port, method, url, body);
      assert.equal(res.status, 404, `${method} ${url}`);
      assert.deepEqual(res.json(), { error: "model 'fraud' has no version '2'; the only version served is '1'", code: 'UNKNOWN_MODEL_VERSION' });
    }
    const otherModel = await request(port, 'GET', '/v2/models/other/versions/1/ready');
    assert.equal(otherModel.status, 404);
    assert.equal(otherModel.json().code, 'UNKNOWN_MODEL');
  });

  it('answers 404 for an unknown model or version before reading the body: broken, invalid or too large', async () => {
    const started = await listening({ modelDir: modelDir('fraud', fixedBatchSpec()), config: { limits: { bodyLimitBytes: 1024 } } });
    app = started.app;
    const { port } = started;
    const bodies: [string, string | Buffer][] = [
      ['broken JSON', '{"inputs": ['],
      ['a body the schema refuses', JSON.stringify({ inputs: 'x' })],
      ['a body over the limit', JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: new Array(2000).fill(1) }] })],
    ];
    for (const [what, body] of bodies) {
      const unknown = await request(port, 'POST', '/v2/models/other/infer', body);
      assert.equal(unknown.status, 404, `${what}: ${unknown.body}`);
      assert.deepEqual(unknown.json(), { error: "model 'other' is not served here; this server serves 'fraud'", code: 'UNKNOWN_MODEL' });
      const version = await request(port, 'POST', '/v2/models/fraud/versions/7/infer', body);
      assert.equal(version.status, 404, `${what}: ${version.body}`);
      assert.equal(version.json().code, 'UNKNOWN_MODEL_VERSION');
      // The same body sent to the model served here is still judged on its own.
      assert.equal((await request(port, 'POST', '/v2/models/fraud/infer', body)).status === 404, false, what);
    }
  });

  it('round-trips every datatype with odd tensor names, flat and nested data, and echoes the id', async () => {
    const started = await listening({ modelDir: modelDir('kitchen-sink', kitchenSinkSpec()) });
    app = started.app;
    const inputs = ALL_TYPES.map((t, i) => {
      const rows = rowsFor(t, 5);
      // Alternate nested and flat data so both layouts are covered for every other type.
      return { name: oddInputName(t), shape: [2, 2], datatype: ORT_TO_OIP[t as OrtType], data: i % 2 === 0 ? rows : rows.flat() };
    });
    const res = await request(started.port, 'POST', '/v2/models/kitchen-sink/infer', { id: 'req-42', inputs });
    assert.equal(res.status, 200, res.body);
    const body = res.json();
    assert.equal(body.id, 'req-42');
    assert.equal(body.model_name, 'kitchen-sink');
    assert.equal(body.outputs.length, ALL_TYPES.length);
    for (const t of ALL_TYPES) {
      const out = body.outputs.find((o: { name: string }) => o.name === oddOutputName(t));
      assert.ok(out, `output for ${t}`);
      assert.equal(out.datatype, ORT_TO_OIP[t as OrtType]);
      assert.deepEqual(out.shape, [2, 2]);
      assert.deepEqual(out.data, expected(t, rowsFor(t, 5)), `data for ${t}`);
    }
  });

  it('returns only the outputs the request names, in the order it names them, also on the versioned route', async () => {
    const started = await listening({ modelDir: modelDir('kitchen-sink', kitchenSinkSpec()) });
    app = started.app;
    const inputs = ALL_TYPES.map((t) => ({ name: oddInputName(t), shape: [2, 2], datatype: ORT_TO_OIP[t as OrtType], data: rowsFor(t, 1).flat() }));
    const res = await request(started.port, 'POST', '/v2/models/kitchen-sink/versions/1/infer', {
      inputs, outputs: [{ name: oddOutputName('string') }, { name: oddOutputName('bool') }],
    });
    assert.equal(res.status, 200, res.body);
    const body = res.json();
    assert.equal(body.id, undefined);
    assert.deepEqual(body.outputs.map((o: { name: string }) => o.name), ['out.string', 'out.bool']);
    assert.deepEqual(body.outputs[1].data, [false, true, false, false]);
    const twice = await request(started.port, 'POST', '/v2/models/kitchen-sink/infer', { inputs, outputs: [{ name: oddOutputName('bool') }, { name: oddOutputName('bool') }] });
    assert.deepEqual(twice.json().outputs.map((o: { name: string }) => o.name), ['out.bool'], 'an output named twice is answered once');
    const none = await request(started.port, 'POST', '/v2/models/kitchen-sink/infer', { inputs, outputs: [] });
    assert.deepEqual(none.json().outputs.map((o: { name: string }) => o.name), ALL_TYPES.map(oddOutputName), 'an empty list asks for every output');
  });

  it('serves a model with two inputs, a dynamic inner axis and two outputs', async () => {
    const started = await listening({ modelDir: modelDir('multi', multiInputSpec()) });
    app = started.app;
    const res = await request(started.port, 'POST', '/v2/models/multi/infer', {
      inputs: [
        { name: 'b', shape: [2, 3], datatype: 'FP32', data: [[1, 2, 3], [4, 5, 6]] },
        { name: 'a', shape: [2, 1], datatype: 'FP32', data: [10, 20] },
      ],
    });
    assert.equal(res.status, 200, res.body);
    const [sum, copy] = res.json().outputs;
    assert.deepEqual(sum, { name: 'sum', datatype: 'FP32', shape: [2, 1], data: [16, 35] });
    assert.deepEqual(copy.shape, [2, 3]);
  });

  it("serves Triton's clients: a body with no Content-Type or as application/octet-stream is read as JSON; binary tensor data gets a clear 400", async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const { port } = started;
    const body = JSON.stringify({ id: 'x'.repeat(1000), inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0, 0, 0] }] });
    // tritonclient.http (Python) sends no Content-Type.
    const untyped = await exactRequest(port, 'POST', '/v2/models/fraud-mlp/infer', body, {});
    assert.equal(untyped.status, 200, untyped.body);
    assert.equal(untyped.json().id, 'x'.repeat(1000), 'any id is echoed, however long');
    // perf_analyzer and the C++ client: octet-stream, and the JSON header's length.
    const octet = await exactRequest(port, 'POST', '/v2/models/fraud-mlp/infer', body, {
      'content-type': 'application/octet-stream', 'inference-header-content-length': String(body.length),
    });
    assert.equal(octet.status, 200, octet.body);
    assert.equal(octet.json().outputs[0].name, 'fraud_probability');
    // Binary data no input claims is refused.
    const leftover = await exactRequest(port, 'POST', '/v2/models/fraud-mlp/infer', Buffer.concat([Buffer.from(body), Buffer.alloc(32)]), {
      'content-type': 'application/octet-stream', 'inference-header-content-length': String(body.length),
    });
    assert.equal(leftover.status, 400);
    assert.deepEqual(leftover.json(), { error: "the request carries 32 bytes of binary data, and its inputs' binary_data_size add up to 0", code: 'DATA_LENGTH_MISMATCH' });
    // SageMaker's route takes no binary tensor data.
    const invocations = await exactRequest(port, 'POST', '/invocations', Buffer.concat([Buffer.from(body), Buffer.alloc(32)]), {
      'content-type': 'application/octet-stream', 'inference-header-content-length': String(body.length),
    });
    assert.equal(invocations.status, 400);
    assert.equal(invocations.json().code, 'BINARY_DATA_UNSUPPORTED');
    assert.match(invocations.json().error, new RegExp(`Inference-Header-Content-Length is "${body.length}" and the body is ${body.length + 32} bytes: binary tensor data is served on /v2/models/\\{name\\}/infer, not here`));
    const notJson = await exactRequest(port, 'POST', '/v2/models/fraud-mlp/infer', 'features=1,2,3', {});
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json().code, 'BAD_JSON');
    assert.match(notJson.json().error, /came with no Content-Type, or application\/octet-stream, so it was read as JSON/);
    // Read as JSON, the body is still checked against the request schema.
    const malformed = await exactRequest(port, 'POST', '/v2/models/fraud-mlp/infer', JSON.stringify({ inputs: [{ name: 'features', shape: 'wide', datatype: 'FP32', data: [] }] }), {});
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json().code, 'INVALID_REQUEST');
    // Other media types are still refused.
    const xml = await exactRequest(port, 'POST', '/v2/models/fraud-mlp/infer', body, { 'content-type': 'application/xml' });
    assert.equal(xml.status, 415);
    const takes = 'is not taken here: send application/json, or binary tensor data as application/octet-stream with Inference-Header-Content-Length (CSV, JSON Lines and NumPy .npy are taken on POST /invocations)';
    assert.deepEqual(xml.json(), { error: `Content-Type "application/xml" ${takes}`, code: 'UNSUPPORTED_MEDIA_TYPE' });
    // CSV, JSON Lines and .npy are /invocations' formats: on an infer route they are refused as types, not as a body of the wrong shape.
    for (const type of ['text/csv', 'application/jsonlines; charset=utf-8', 'application/x-npy']) {
      const res = await exactRequest(port, 'POST', '/v2/models/fraud-mlp/versions/1/infer', '1,2,3,4,5,6,7,8\n', { 'content-type': type });
      assert.equal(res.status, 415, type);
      assert.deepEqual(res.json(), { error: `Content-Type ${JSON.stringify(type)} ${takes}`, code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
  });

  it('answers server metadata on /v2/ as on /v2, and serves a model whose name is longer than 100 characters', async () => {
    const name = 'fraud-'.padEnd(150, 'x');
    const started = await listening({ modelDir: fraudModel().dir, modelName: name });
    app = started.app;
    const slash = await request(started.port, 'GET', '/v2/');
    assert.equal(slash.status, 200);
    assert.deepEqual(slash.json(), (await request(started.port, 'GET', '/v2')).json());
    const ready = await request(started.port, 'GET', `/v2/models/${name}/ready`);
    assert.equal(ready.status, 200, ready.body);
    const res = await request(started.port, 'POST', `/v2/models/${name}/infer`, { inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0, 0, 0] }] });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json().model_name, name);
  });

  it('reads and writes binary tensor data (the binary tensor data extension) for every datatype', async () => {
    const started = await listening({ modelDir: modelDir('kitchen-sink', kitchenSinkSpec()) });
    app = started.app;
    const values = (t: string) => rowsFor(t, 3).flat();
    const inputs = ALL_TYPES.map((t) => ({ name: oddInputName(t), shape: [2, 2], datatype: ORT_TO_OIP[t as OrtType], parameters: { binary_data_size: toBytes(t, values(t)).length } }));
    const json = Buffer.from(JSON.stringify({
      id: 'bin-1',
      inputs,
      parameters: { binary_data_output: true },
      // One output answered as JSON despite binary_data_output: its own parameter wins.
      outputs: [...ALL_TYPES.map((t) => ({ name: oddOutputName(t), ...(t === 'int16' ? { parameters: { binary_data: false } } : {}) }))],
    }));
    const body = Buffer.concat([json, ...ALL_TYPES.map((t) => toBytes(t, values(t)))]);
    const res = await exactRequest(started.port, 'POST', '/v2/models/kitchen-sink/infer', body, {
      'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length),
    });
    assert.equal(res.status, 200, res.body.slice(0, 300));
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    const headLength = Number(res.headers['inference-header-content-length']);
    const head = JSON.parse(res.raw.subarray(0, headLength).toString('utf8'));
    assert.equal(head.id, 'bin-1');
    let pos = headLength;
    for (const out of head.outputs) {
      const t = ALL_TYPES.find((x) => oddOutputName(x) === out.name)!;
      assert.deepEqual(out.shape, [2, 2]);
      if (t === 'int16') {
        assert.deepEqual(out.data, values(t), 'answered as JSON');
        continue;
      }
      assert.equal(out.data, undefined, out.name);
      const size = out.parameters.binary_data_size;
      assert.deepEqual(fromBytes(t, res.raw.subarray(pos, pos + size)), expected(t, rowsFor(t, 3)), `binary ${t}`);
      pos += size;
    }
    assert.equal(pos, res.raw.length, 'the binary outputs fill the rest of the body');

    // Binary inputs, JSON answer (no output asks for binary data), sent chunked (no Content-Length).
    const plain = await request(started.port, 'POST', '/v2/models/kitchen-sink/infer', Buffer.concat([Buffer.from(JSON.stringify({ inputs })), ...ALL_TYPES.map((t) => toBytes(t, values(t)))]), {
      'content-type': 'application/octet-stream', 'inference-header-content-length': String(Buffer.byteLength(JSON.stringify({ inputs }))),
    });
    assert.equal(plain.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(plain.status, 200, plain.body.slice(0, 300));
    assert.deepEqual(plain.json().outputs.find((o: { name: string }) => o.name === oddOutputName('string')).data, values('string'));
  });

  it('refuses malformed binary tensor data with a 400 naming the problem', async () => {
    const started = await listening({ modelDir: modelDir('kitchen-sink', kitchenSinkSpec()) });
    app = started.app;
    const send = (inputs: object[], binary: Buffer, headerLength?: number) => {
      const json = Buffer.from(JSON.stringify({ inputs }));
      return exactRequest(started.port, 'POST', '/v2/models/kitchen-sink/infer', Buffer.concat([json, binary]), {
        'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength ?? json.length),
      });
    };
    const json = ALL_TYPES.filter((t) => t !== 'float32' && t !== 'bool' && t !== 'string').map((t) => ({ name: oddInputName(t), shape: [1, 2], datatype: ORT_TO_OIP[t as OrtType], data: rowsFor(t, 1)[0] }));
    const f32 = (size: number) => ({ name: oddInputName('float32'), shape: [1, 2], datatype: 'FP32', parameters: { binary_data_size: size } });
    const bool = (size: number) => ({ name: oddInputName('bool'), shape: [1, 2], datatype: 'BOOL', parameters: { binary_data_size: size } });
    const str = (size: number) => ({ name: oddInputName('string'), shape: [1, 2], datatype: 'BYTES', parameters: { binary_data_size: size } });
    const good = Buffer.concat([toBytes('float32', [1, 2]), toBytes('bool', [true, false]), toBytes('string', ['a', 'b'])]);
    const ok = await send([...json, f32(8), bool(2), str(10)], good);
    assert.equal(ok.status, 200, ok.body);
    const cases: Array<[string, Promise<{ status: number; json: () => { code: string; error: string } }>, string, RegExp]> = [
      ['size not matching the shape', send([...json, f32(4), bool(2), str(10)], Buffer.concat([toBytes('float32', [1]), toBytes('bool', [true, false]), toBytes('string', ['a', 'b'])])), 'DATA_LENGTH_MISMATCH', /binary_data_size is 4 bytes; 2 FP32 elements take 8/],
      ['sizes past the end', send([...json, f32(8), bool(2), str(99)], good), 'DATA_LENGTH_MISMATCH', /binary_data_size is 99, but 10 bytes of binary data are left for it/],
      ['a BOOL byte of 2', send([...json, f32(8), bool(2), str(10)], Buffer.concat([toBytes('float32', [1, 2]), Buffer.from([1, 2]), toBytes('string', ['a', 'b'])])), 'BAD_TENSOR_VALUE', /element 1 is the byte 2; a BOOL is 0 or 1/],
      ['invalid UTF-8', send([...json, f32(8), bool(2), str(10)], Buffer.concat([toBytes('float32', [1, 2]), toBytes('bool', [true, false]), Buffer.from([1, 0, 0, 0, 0xff, 1, 0, 0, 0, 0x62])])), 'BAD_TENSOR_VALUE', /element 0 is not valid UTF-8/],
      ['a BYTES length past the end', send([...json, f32(8), bool(2), str(10)], Buffer.concat([toBytes('float32', [1, 2]), toBytes('bool', [true, false]), Buffer.from([1, 0, 0, 0, 0x61, 9, 0, 0, 0, 0x62])])), 'DATA_LENGTH_MISMATCH', /end inside element 1 of 2/],
      ['data and binary_data_size both', send([...json, { ...f32(8), data: [1, 2] }, bool(2), str(10)], good), 'INVALID_REQUEST', /gives both "data" and binary_data_size/],
      ['a header longer than the body', send([...json, f32(8), bool(2), str(10)], good, 1e6), 'INVALID_REQUEST', /Inference-Header-Content-Length is "1000000" and the body is \d+ bytes: it must be the length of the JSON/],
      ['a header cutting the JSON short', send([...json, f32(8), bool(2), str(10)], good, 10), 'BAD_JSON', /^the first 10 bytes of the body \(Inference-Header-Content-Length\) are not valid JSON: Unexpected end of JSON input$/],
      // JSON that is not an object: refused as such, not as a Content-Type the route does not take.
      ['JSON that is a string', exactRequest(started.port, 'POST', '/v2/models/kitchen-sink/infer', Buffer.concat([Buffer.from('"x"'), good]), {
        'content-type': 'application/octet-stream', 'inference-header-content-length': '3',
      }), 'INVALID_REQUEST', /^body must be object, got "x"$/],
    ];
    for (const [what, pending, code, message] of cases) {
      const res = await pending;
      assert.equal(res.status, 400, what);
      assert.equal(res.json().code, code, `${what}: ${res.json().error}`);
      assert.match(res.json().error, message, what);
    }
    // The extension's switches are booleans: "true" or 1 is refused naming the field, not answered as JSON.
    for (const [body, field, value] of [
      [{ inputs: [...json, f32(8), bool(2), str(10)], parameters: { binary_data_output: 'true' } }, 'parameters.binary_data_output', '"true"'],
      [{ inputs: [...json, f32(8), bool(2), str(10)], outputs: [{ name: 'out.float32' }, { name: 'out.int8', parameters: { binary_data: 1 } }] }, 'outputs[1].parameters.binary_data', '1'],
    ] as const) {
      const head = Buffer.from(JSON.stringify(body));
      const res = await exactRequest(started.port, 'POST', '/v2/models/kitchen-sink/infer', Buffer.concat([head, good]), {
        'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length),
      });
      assert.equal(res.status, 400, res.body);
      assert.deepEqual(res.json(), { error: `${field} is ${value}; it must be true or false (a JSON boolean), as the binary tensor data extension takes it`, code: 'INVALID_REQUEST' });
    }
    // binary_data_size in a plain JSON request: no bytes to take it from.
    const noBinary = await request(started.port, 'POST', '/v2/models/kitchen-sink/infer', { inputs: [...json, f32(8), bool(2), str(10)] });
    assert.equal(noBinary.json().code, 'INVALID_REQUEST');
    assert.match(noBinary.json().error, /has binary_data_size but the request carries no binary data/);
    // An input with neither.
    const neither = await request(started.port, 'POST', '/v2/models/kitchen-sink/infer', { inputs: [...json, { name: oddInputName('float32'), shape: [1, 2], datatype: 'FP32' }, { ...bool(2), data: [true, false], parameters: {} }, { ...str(0), data: ['a', 'b'], parameters: {} }] });
    assert.deepEqual(neither.json(), { error: `input '${oddInputName('float32')}' has no "data" (nor binary_data_size)`, code: 'DATA_LENGTH_MISMATCH' });
  });
});
