import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { fraudModel, modelDir, readyApp } from './helpers';
import { kitchenSinkSpec, oddInputName } from '../tools/test-models';
import type { ModelSpec } from '../tools/onnx-builder';

const INFER = '/v2/models/fraud-mlp/infer';
const features = (over: Record<string, unknown> = {}) => ({ name: 'features', shape: [1, 8], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0, 0, 0], ...over });

async function post(app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({
    method: 'POST', url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
  });
  return { status: res.statusCode, body: res.json() as { error: string; code: string }, headers: res.headers };
}

describe('bad input gets a 4xx with a stable code and a message naming the problem', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = await readyApp({ modelDir: fraudModel().dir });
  });
  afterEach(async () => {
    // Whatever came before, the server still answers a good request correctly.
    const ok = await post(app, INFER, { inputs: [features()] });
    assert.equal(ok.status, 200);
    await app.close();
  });

  const cases: Array<[string, string, unknown, number, string, RegExp, Record<string, string>?]> = [
    // Where the JSON breaks, in JSON.parse's words (Fastify's parser says only "Body is not valid JSON").
    ['bad JSON', INFER, '{"inputs": [', 400, 'BAD_JSON', /^the body is not valid JSON: Unexpected end of JSON input$/],
    ['JSON with NaN, which JSON has no literal for', INFER, '{"inputs":[{"name":"features","shape":[1,1],"datatype":"FP32","data":[NaN]}]}', 400, 'BAD_JSON', /^the body is not valid JSON: Unexpected token 'N'/],
    // JSON.parse's own reason: Node.js 22 (the images' runtime) adds the line and column to Node.js 20's.
    ['JSON cut short on /invocations', '/invocations', '{"instances": [[1, 2], [3', 400, 'BAD_JSON', /^the body is not valid JSON: Expected ',' or ']' after array element in JSON at position 25( \(line 1 column 26\))?$/],
    ['an empty JSON body', INFER, '', 400, 'EMPTY_BODY', /empty/],
    ['a JSON body that is not an object', INFER, '[1,2]', 400, 'INVALID_REQUEST', /body must be object/],
    // Parsed as JSON into a string: refused as JSON that is not an object, not as a Content-Type that is not taken.
    ['a JSON string as the body', INFER, '"x"', 400, 'INVALID_REQUEST', /body must be object/],
    ['a JSON string as the body, sent as application/octet-stream (read as JSON)', INFER, '"x"', 400, 'INVALID_REQUEST', /body must be object/, { 'content-type': 'application/octet-stream' }],
    ['a JSON string as the body, on the versioned route', '/v2/models/fraud-mlp/versions/1/infer', '"x"', 400, 'INVALID_REQUEST', /body must be object/],
    // Valid JSON: the refusal names the key, rather than call the JSON invalid.
    ['prototype poisoning', INFER, '{"inputs":[],"__proto__":{"x":1}}', 400, 'BAD_JSON', /^the body holds a "__proto__" key, or a "constructor" key holding "prototype", which the server refuses/],
    ['prototype poisoning through constructor', '/invocations', '{"instances":[],"constructor":{"prototype":{"x":1}}}', 400, 'BAD_JSON', /^the body holds a "__proto__" key, or a "constructor" key holding "prototype"/],
    ['an unknown model', '/v2/models/nope/infer', { inputs: [features()] }, 404, 'UNKNOWN_MODEL', /'nope' is not served here/],
    ['an unknown input', INFER, { inputs: [features(), features({ name: 'feature' })] }, 400, 'UNKNOWN_INPUT', /'feature' is not an input of the model; its inputs are 'features'/],
    ['a missing input', '/v2/models/kitchen/infer', null, 0, '', /./], // covered with the kitchen-sink model below
    ['a duplicated input', INFER, { inputs: [features(), features()] }, 400, 'DUPLICATE_INPUT', /'features' is given more than once/],
    ['data shorter than the shape', INFER, { inputs: [features({ data: [1, 2, 3] })] }, 400, 'DATA_LENGTH_MISMATCH', /data has 3 values, shape \[1,8\] needs 8/],
    ['nested data with a short row', INFER, { inputs: [features({ shape: [2, 8], data: [[0, 0, 0, 0, 0, 0, 0, 0], [1, 2]] })] }, 400, 'DATA_LENGTH_MISMATCH', /2 entries at depth 1/],
    ['nested data deeper than the shape', INFER, { inputs: [features({ data: [[[0], 0, 0, 0, 0, 0, 0, 0]] })] }, 400, 'DATA_LENGTH_MISMATCH', /deeper than shape/],
    ['the wrong rank', INFER, { inputs: [features({ shape: [8] })] }, 400, 'BAD_TENSOR_RANK', /has 1 dimensions, the model expects 2 \(\[batch, 8\]\)/],
    ['a wrong fixed dimension', INFER, { inputs: [features({ shape: [1, 7], data: [0, 0, 0, 0, 0, 0, 0] })] }, 400, 'BAD_TENSOR_SHAPE', /shape\[1\] is 7, the model expects 8/],
    ['an unknown datatype', INFER, { inputs: [features({ datatype: 'FLOAT32' })] }, 400, 'UNKNOWN_DATATYPE', /"FLOAT32" is not one of BOOL/],
    ['a datatype other than the model input', INFER, { inputs: [features({ datatype: 'FP64' })] }, 400, 'DATATYPE_MISMATCH', /datatype is FP64, the model expects FP32/],
    ['a string among floats', INFER, { inputs: [features({ data: [0, 0, 0, '1', 0, 0, 0, 0] })] }, 400, 'BAD_TENSOR_VALUE', /element 3 is "1", expected a number within FP32.s range \(±3.4028235e38\)/],
    ['null among floats', INFER, { inputs: [features({ data: [0, 0, 0, 0, 0, 0, 0, null] })] }, 400, 'BAD_TENSOR_VALUE', /element 7 is null/],
    ['data that is not an array', INFER, { inputs: [features({ data: 'abc' })] }, 400, 'DATA_LENGTH_MISMATCH', /data must be an array, got string/],
    ['an absurd shape', INFER, { inputs: [features({ shape: [1e12, 8] })] }, 400, 'TENSOR_TOO_LARGE', /more than 16777216 elements/],
    ['a dimension past 2^53', INFER, '{"inputs":[{"name":"features","shape":[9007199254740993,8],"datatype":"FP32","data":[0]}]}', 400, 'TENSOR_TOO_LARGE', /^input 'features': shape\[0\] is 9007199254740992, more than the 16777216 elements the server allows in a tensor$/],
    ['a negative dimension', INFER, { inputs: [features({ shape: [-1, 8] })] }, 400, 'BAD_TENSOR_SHAPE', /shape\[0\] is -1, every dimension must be an integer >= 1/],
    ['a zero dimension', INFER, { inputs: [features({ shape: [0, 8], data: [] })] }, 400, 'BAD_TENSOR_SHAPE', /shape\[0\] is 0/],
    // Schema errors name the value received as well as where it is and what is allowed.
    ['a fractional dimension', INFER, { inputs: [features({ shape: [1.5, 8] })] }, 400, 'INVALID_REQUEST', /^body\/inputs\/0\/shape\/0 must be integer, got 1.5$/],
    ['a dimension given as a string', INFER, { inputs: [features({ shape: [1, '8'] })] }, 400, 'INVALID_REQUEST', /^body\/inputs\/0\/shape\/1 must be integer, got "8"$/],
    ['an id that is a number', INFER, { id: 42, inputs: [features()] }, 400, 'INVALID_REQUEST', /^body\/id must be string, got 42$/],
    ['an id that is an object', INFER, { id: { trace: 1 }, inputs: [features()] }, 400, 'INVALID_REQUEST', /^body\/id must be string, got an object$/],
    ['outputs that are not a list', INFER, { inputs: [features()], outputs: 'is_fraud' }, 400, 'INVALID_REQUEST', /^body\/outputs must be array, got "is_fraud"$/],
    ['more outputs asked for than the schema takes', INFER, { inputs: [features()], outputs: new Array(1025).fill({ name: 'is_fraud' }) }, 400, 'INVALID_REQUEST', /^body\/outputs must NOT have more than 1024 items, got 1025$/],
    ['too many dimensions', INFER, { inputs: [features({ shape: Array(20).fill(1) })] }, 400, 'BAD_TENSOR_RANK', /20 dimensions, the server allows at most 16/],
    ['no inputs', INFER, { inputs: [] }, 400, 'INVALID_REQUEST', /must NOT have fewer than 1 items/],
    ['a missing datatype', INFER, { inputs: [{ name: 'features', shape: [1, 8], data: [] }] }, 400, 'INVALID_REQUEST', /must have required property 'datatype'/],
    ['an unknown output', INFER, { inputs: [features()], outputs: [{ name: 'score' }] }, 400, 'UNKNOWN_OUTPUT', /'score' is not an output of the model; its outputs are 'fraud_probability', 'is_fraud'/],
    ['instances of the wrong width', '/invocations', { instances: [[1, 2, 3]] }, 400, 'BAD_INSTANCES', /rows for input 'features' must each have shape \[8\]/],
    // A batch transform payload holds thousands of rows: the error says which one is wrong.
    ['instances with one short row', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]] }, 400, 'BAD_INSTANCES', /^instance 3: rows for input 'features' must each have shape \[8\] \(8 values\): input 'features': data has 7 values, shape \[8\] needs 8$/],
    ['instances with a word in one row', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 'x']] }, 400, 'BAD_TENSOR_VALUE', /^instance 2: input 'features': element 7 is "x", expected a number within FP32's range/],
    ['instances that mix plain rows and rows keyed by input name', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0], { features: [0, 0, 0, 0, 0, 0, 0, 0] }] }, 400, 'BAD_INSTANCES', /^instance 1: rows for input 'features' must each have shape \[8\] \(8 values\): input 'features': data must be an array, got object$/],
    ['JSON Lines with a null in one line, after a blank line', '/invocations', '[0,0,0,0,0,0,0,0]\n\n[0,0,0,0,0,0,0,0]\n[0,0,0,0,0,0,0,null]\n', 400, 'BAD_TENSOR_VALUE', /^line 4 of the JSON Lines body: input 'features': element 7 is null/, { 'content-type': 'application/jsonlines' }],
    ['JSON Lines with a line keyed by a name the model has no input of', '/invocations', '{"features":[0,0,0,0,0,0,0,0]}\n{"feature":[0,0,0,0,0,0,0,0],"features":[0,0,0,0,0,0,0,0]}\n', 400, 'UNKNOWN_INPUT', /^line 2 of the JSON Lines body names input 'feature'/, { 'content-type': 'application/jsonlines' }],
    // A line that is a whole request body ({"instances": [...]}) rather than one instance: the error shows its keys and says so.
    ['JSON Lines whose lines are request bodies holding instances', '/invocations', '{"instances":[[0,0,0,0,0,0,0,0]]}\n{"instances":[[0,0,0,0,0,0,0,0]]}\n', 400, 'MISSING_INPUT',
      /^line 1 of the JSON Lines body has no value for input 'features'; the model needs 'features'; it has the keys \["instances"\]: each row is one instance, not a request body holding "instances" or "inputs"$/, { 'content-type': 'application/jsonlines' }],
    ['an instance keyed by a misspelt input name', '/invocations', { instances: [{ feature: [0, 0, 0, 0, 0, 0, 0, 0] }] }, 400, 'MISSING_INPUT', /^instance 0 has no value for input 'features'; the model needs 'features'; it has the keys \["feature"\]$/],
    ['empty instances', '/invocations', { instances: [] }, 400, 'BAD_INSTANCES', /"instances" is empty/],
    ['instances and Open Inference Protocol inputs in one body', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0]], inputs: [features()] }, 400, 'INVALID_REQUEST', /^the body holds both "instances" \(rows\) and "inputs" \(Open Inference Protocol tensors\); send one of them$/],
    ['instances with an outputs filter, which only an OIP body takes', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0]], outputs: [{ name: 'score' }] }, 400, 'INVALID_REQUEST', /^the body holds "instances" and "outputs" \(\["score"\]\); "outputs" selects the outputs of an Open Inference Protocol body/],
    ['a JSON body with neither instances nor inputs', '/invocations', { rows: [] }, 400, 'BAD_INSTANCES', /must hold "instances"/],
    ['CSV with the wrong column count', '/invocations', '1,2,3,4,5,6,7,8\n1,2,3\n', 400, 'CSV_COLUMN_COUNT', /CSV row 2 has 3 columns; input 'features' \(\[batch, 8\]\) needs 8/, { 'content-type': 'text/csv' }],
    // A decimal comma in a quoted cell ("1,5", as a spreadsheet in many locales writes it) splits the cell: the error says so.
    ['CSV with a decimal comma in a quoted cell', '/invocations', '"1,5",2,3,4,5,6,7,8\n', 400, 'CSV_COLUMN_COUNT',
      /^CSV row 1 has 9 columns; input 'features' \(\[batch, 8\]\) needs 8: a comma inside a quoted cell splits it too, as a number holds none \(write 1\.5, not "1,5"\)$/, { 'content-type': 'text/csv' }],
    // Every cell quoted and one missing: a plain column count, no hint about commas in quotes.
    ['CSV with every cell quoted and one missing', '/invocations', '"1","2","3","4","5","6","7"\n', 400, 'CSV_COLUMN_COUNT', /^CSV row 1 has 7 columns; input 'features' \(\[batch, 8\]\) needs 8$/, { 'content-type': 'text/csv' }],
    // Lines ended by a bare CR (classic Mac OS) read as one long row: the error says why.
    ['CSV with lines ended by a bare CR', '/invocations', '1,2,3,4,5,6,7,8\r0,0,0,0,0,0,0,0\r', 400, 'CSV_COLUMN_COUNT',
      /^CSV row 1 has 15 columns; input 'features' \(\[batch, 8\]\) needs 8: its lines end with a bare carriage return \(CR\), which does not end a row; end them with LF or CRLF$/, { 'content-type': 'text/csv' }],
    ['CSV with a word in a cell', '/invocations', '1,2,3,4,5,6,7,x\n', 400, 'CSV_BAD_VALUE', /row 1, column 8 is "x", not a finite decimal number/, { 'content-type': 'text/csv' }],
    ['an empty CSV body', '/invocations', '\n\n', 400, 'EMPTY_BODY', /no rows/, { 'content-type': 'text/csv' }],
    ['an unsupported content type', '/invocations', 'x', 415, 'UNSUPPORTED_MEDIA_TYPE', /^Content-Type "application\/x-protobuf" is not taken here: send application\/json, application\/jsonlines, text\/csv or application\/x-npy$/, { 'content-type': 'application/x-protobuf' }],
    ['custom attributes over 1024 characters', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0]] }, 400, 'BAD_HEADER', /^x-amzn-sagemaker-custom-attributes must be at most 1024 visible US-ASCII characters; this one has 1025$/, { 'x-amzn-sagemaker-custom-attributes': 'a'.repeat(1025) }],
    ['custom attributes with a tab', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0]] }, 400, 'BAD_HEADER', /; character 6 is U\+0009$/, { 'x-amzn-sagemaker-custom-attributes': 'trace\tabc' }],
    ['custom attributes with a Latin-1 letter', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0]] }, 400, 'BAD_HEADER', /; character 4 is U\+00E9$/, { 'x-amzn-sagemaker-custom-attributes': 'caf\u00e9' }],
    // A binary_data_size that is not a whole number of bytes is refused as such, not as a length mismatch.
    ['a binary_data_size given as a string', INFER, Buffer.concat([Buffer.from(JSON.stringify({ inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', parameters: { binary_data_size: '32' } }] })), Buffer.alloc(32)]), 400, 'INVALID_REQUEST',
      /^input 'features': parameters.binary_data_size is "32"; it must be the length of its binary data in bytes, a whole JSON number of at least 0$/,
      { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(JSON.stringify({ inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', parameters: { binary_data_size: '32' } }] }).length) }],
    // On /invocations "inputs" is OIP's: the refusal of TensorFlow Serving's columnar form says where rows go.
    ['TensorFlow Serving\'s columnar "inputs" on /invocations', '/invocations', { inputs: { features: [[0, 0, 0, 0, 0, 0, 0, 0]] } }, 400, 'INVALID_REQUEST',
      /^body\/inputs must be array, got an object; on \/invocations "inputs", "outputs", "id" and "parameters" are read as an Open Inference Protocol body's \("inputs": a list of \{"name", "shape", "datatype", "data"\} tensors\): send rows as \{"instances": \[\.\.\.\]\}$/],
    ['rows as "inputs" on /invocations', '/invocations', { inputs: [[0, 0, 0, 0, 0, 0, 0, 0]] }, 400, 'INVALID_REQUEST', /^body\/inputs\/0 must be object, got an array of 8 items; on \/invocations "inputs", "outputs", "id" and "parameters" are read as/],
    // One instance keyed by an input named like an OIP field: the hint says where it goes.
    ['one instance keyed by an input named id, on /invocations', '/invocations', { id: [0, 0, 0, 0, 0, 0, 0, 0] }, 400, 'INVALID_REQUEST', /^body\/id must be string, got an array of 8 items; on \/invocations "inputs"/],
    // An OIP body (a list of tensors as "inputs") needs no such hint, here as on the infer routes.
    ['an OIP body with an id that is a number, on /invocations', '/invocations', { id: 42, inputs: [features()] }, 400, 'INVALID_REQUEST', /^body\/id must be string, got 42$/],
    ['an OIP body with a fractional dimension, on /invocations', '/invocations', { inputs: [features({ shape: [1.5, 8] })] }, 400, 'INVALID_REQUEST', /^body\/inputs\/0\/shape\/0 must be integer, got 1.5$/],
    ['an output asking for the classification extension', INFER, { inputs: [features()], outputs: [{ name: 'fraud_probability', parameters: { classification: 2 } }] }, 400, 'INVALID_REQUEST', /^output 'fraud_probability' asks for parameters.classification 2, the classification extension, which this server does not offer/],
  ];

  for (const [what, url, payload, status, code, message, headers] of cases) {
    if (status === 0) continue;
    it(`${what}: ${status} ${code}`, async () => {
      const res = await post(app, url, payload, headers);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.body.code, code, JSON.stringify(res.body));
      assert.match(res.body.error, message);
      // Exactly this type: KServe's Python client reads the error text only then.
      assert.equal(res.headers['content-type'], 'application/json');
    });
  }

  it('a POST without a body: 400 EMPTY_BODY', async () => {
    const res = await app.inject({ method: 'POST', url: INFER });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'EMPTY_BODY');
  });

  it('a body over the 6 MB limit: 413 PAYLOAD_TOO_LARGE', async () => {
    const big = JSON.stringify({ inputs: [features({ shape: [800_000, 8], data: new Array(800_000 * 8).fill(0.5) })] });
    assert.ok(big.length > 6 * 1024 * 1024);
    const res = await post(app, INFER, big);
    assert.equal(res.status, 413);
    assert.equal(res.body.code, 'PAYLOAD_TOO_LARGE');
  });

  it('just under the limit, a large batch is accepted', async () => {
    const rows = 100_000;
    const res = await post(app, INFER, { inputs: [features({ shape: [rows, 8], data: new Array(rows * 8).fill(1) })] });
    assert.equal(res.status, 200);
  });

  it('deeply nested data cannot exhaust the stack', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const res = await post(app, INFER, `{"inputs":[{"name":"features","shape":[1,8],"datatype":"FP32","data":${deep}}]}`);
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'DATA_LENGTH_MISMATCH');
  });

  it('a value nested deep where a number belongs: 400 BAD_TENSOR_VALUE, on every route that reads values', async () => {
    const deep = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    const oip = await post(app, INFER, `{"inputs":[{"name":"features","shape":[1,8],"datatype":"FP32","data":[${deep},0,0,0,0,0,0,0]}]}`);
    assert.equal(oip.status, 400);
    assert.deepEqual(oip.body, { error: "input 'features': element 0 is an object, expected a number within FP32's range (±3.4028235e38)", code: 'BAD_TENSOR_VALUE' });
    const lines = await post(app, '/invocations', `[${deep},0,0,0,0,0,0,0]\n`, { 'content-type': 'application/jsonlines' });
    assert.equal(lines.status, 400);
    assert.equal(lines.body.code, 'BAD_TENSOR_VALUE');
  });

  it('the JSON value null as the body: 400 naming it', async () => {
    for (const url of [INFER, '/invocations']) {
      const res = await post(app, url, 'null');
      assert.equal(res.status, 400, url);
      assert.deepEqual(res.body, { error: 'the body is the JSON value null; send a JSON object', code: 'INVALID_REQUEST' }, url);
    }
  });

  it('an unknown route: 404 NOT_FOUND (405 METHOD_NOT_ALLOWED where the path takes other methods), whatever the body', async () => {
    const res = await app.inject({ method: 'GET', url: '/v3/anything' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: 'no route for GET /v3/anything', code: 'NOT_FOUND' });
    assert.equal(res.headers['content-type'], 'application/json');
    for (const [method, url, status, code] of [['POST', '/nope', 404, 'NOT_FOUND'], ['POST', '/metrics', 405, 'METHOD_NOT_ALLOWED'], ['PUT', INFER, 405, 'METHOD_NOT_ALLOWED']] as const) {
      const bytes = await app.inject({ method, url, headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from('abc') });
      assert.equal(bytes.statusCode, status, `${method} ${url}: ${bytes.body}`);
      assert.equal(bytes.json().code, code);
    }
  });
});

describe('bad values for each datatype', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = await readyApp({ modelDir: modelDir('kitchen', kitchenSinkSpec()) });
  });
  afterEach(async () => {
    await app.close();
  });

  const good: Record<string, [string, unknown[]]> = {
    float32: ['FP32', [1, 2]], float64: ['FP64', [1, 2]], float16: ['FP16', [1, 2]],
    int8: ['INT8', [1, 2]], int16: ['INT16', [1, 2]], int32: ['INT32', [1, 2]], int64: ['INT64', [1, 2]],
    uint8: ['UINT8', [1, 2]], uint16: ['UINT16', [1, 2]], uint32: ['UINT32', [1, 2]], uint64: ['UINT64', [1, 2]],
    bool: ['BOOL', [true, false]], string: ['BYTES', ['a', 'b']],
  };
  const allInputs = (type: string, data: unknown[]) => Object.entries(good).map(([t, [datatype, d]]) => ({
    name: oddInputName(t as never), shape: [1, 2], datatype, data: t === type ? data : d,
  }));

  const bad: Array<[string, unknown, RegExp]> = [
    ['int8', 128, /expected an integer in \[-128, 127\] for INT8/],
    ['uint8', -1, /expected an integer in \[0, 255\] for UINT8/],
    ['int16', 1.5, /expected an integer in \[-32768, 32767\] for INT16/],
    ['uint16', 70000, /for UINT16/],
    ['int32', 2 ** 31, /for INT32/],
    ['uint32', 'seven', /for UINT32/],
    ['int64', '9223372036854775808', /expected an integer in \[-9223372036854775808, 9223372036854775807\] for INT64/],
    ['uint64', -1, /for UINT64/],
    ['int64', 1.25, /for INT64/],
    ['bool', 1, /expected true or false for BOOL/],
    ['string', 5, /expected a string for BYTES/],
    ['float64', true, /expected a finite number for FP64/],
    ['float16', 'x', /expected a number within FP16.s range \(±65504\)/],
  ];
  for (const [type, value, message] of bad) {
    it(`${JSON.stringify(value)} as ${good[type][0]}: 400 BAD_TENSOR_VALUE`, async () => {
      const res = await post(app, '/v2/models/kitchen/infer', { inputs: allInputs(type, [good[type][1][0], value]) });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.code, 'BAD_TENSOR_VALUE');
      assert.match(res.body.error, new RegExp(`input 'in/${type}:0 \\(row\\)': element 1 is`));
      assert.match(res.body.error, message);
    });
  }

  it('shows the value it refuses: a string quoted and cut after 40 characters, an object by its kind', async () => {
    const str = await post(app, '/v2/models/kitchen/infer', { inputs: allInputs('float32', [1, 'x'.repeat(5000)]) });
    assert.match(str.body.error, new RegExp(`element 1 is "${'x'.repeat(39)}\\.\\.\\., expected a number within FP32`));
    const obj = await post(app, '/v2/models/kitchen/infer', { inputs: allInputs('float32', [1, { value: 2 }]) });
    assert.match(obj.body.error, /element 1 is an object, expected a number within FP32/);
  });

  it('a missing input: 400 MISSING_INPUT naming it', async () => {
    const res = await post(app, '/v2/models/kitchen/infer', { inputs: allInputs('none', []).filter((i) => !i.name.includes('bool')) });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'MISSING_INPUT');
    assert.match(res.body.error, /input 'in\/bool:0 \(row\)' \(BOOL \[batch, 2\]\) is missing/);
  });

  it('inputs that disagree on the batch axis: 400 BAD_TENSOR_SHAPE', async () => {
    const inputs = allInputs('none', []);
    inputs[1] = { ...inputs[1], shape: [2, 2], data: [1, 2, 3, 4] };
    const res = await post(app, '/v2/models/kitchen/infer', { inputs });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'BAD_TENSOR_SHAPE');
    assert.match(res.body.error, /inputs disagree on the batch axis/);
  });
});

describe('inputs whose first axes differ', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const infer = (body: unknown) => app!.inject({ method: 'POST', url: '/v2/models/m/infer', payload: body as object });

  it('a model the batching probe does not batch (scores of queries against keys) answers them as onnxruntime does', async () => {
    const spec: ModelSpec = {
      name: 'pairs',
      inputs: [{ name: 'q', type: 'float32', shape: ['nq', 2] }, { name: 'k', type: 'float32', shape: ['nk', 2] }],
      outputs: [{ name: 'scores', type: 'float32', shape: ['rows', 'cols'] }],
      nodes: [{ op: 'Transpose', inputs: ['k'], outputs: ['kt'], attributes: { perm: [1, 0] } }, { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['scores'] }],
    };
    app = await readyApp({ modelDir: modelDir('m', spec) });
    assert.equal(app.model.engine!.batchingActive, false);
    const res = await infer({ inputs: [
      { name: 'q', shape: [1, 2], datatype: 'FP32', data: [1, 2] },
      { name: 'k', shape: [3, 2], datatype: 'FP32', data: [1, 0, 0, 1, 1, 1] },
    ] });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().outputs[0], { name: 'scores', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] });
  });

  // Two independent heads: a -> ya, b -> yb. Merged, their rows must line up; not merged, they need not.
  const heads: ModelSpec = {
    name: 'heads',
    inputs: [{ name: 'a', type: 'float32', shape: ['na', 2] }, { name: 'b', type: 'float32', shape: ['nb', 2] }],
    outputs: [{ name: 'ya', type: 'float32', shape: ['na', 2] }, { name: 'yb', type: 'float32', shape: ['nb', 2] }],
    nodes: [{ op: 'Neg', inputs: ['a'], outputs: ['ya'] }, { op: 'Neg', inputs: ['b'], outputs: ['yb'] }],
  };
  const uneven = { inputs: [
    { name: 'a', shape: [1, 2], datatype: 'FP32', data: [1, 2] },
    { name: 'b', shape: [2, 2], datatype: 'FP32', data: [3, 4, 5, 6] },
  ] };

  it('with batching off in serving.json, a model answers them as onnxruntime does', async () => {
    app = await readyApp({ modelDir: modelDir('m', heads, { batching: { enabled: false } }) });
    const res = await infer(uneven);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().outputs.map((o: { data: number[] }) => o.data), [[-1, -2], [-3, -4, -5, -6]]);
  });

  it('with batching on, they are refused: 400 BAD_TENSOR_SHAPE', async () => {
    app = await readyApp({ modelDir: modelDir('m', heads) });
    assert.equal(app.model.engine!.batchingActive, true);
    const res = await infer(uneven);
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'BAD_TENSOR_SHAPE');
    assert.match(res.json().error, /inputs disagree on the batch axis: 'a' has 1 rows, 'b' has 2/);
  });
});
