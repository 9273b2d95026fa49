/**
 * What a hostile request, or an odd model or model directory, must not do: stall the HTTP thread with
 * a few bytes, slip a name inherited from Object.prototype past a check, or leave the server hanging
 * at start.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { fraudModel, modelDir, readyApp } from './helpers';
import type { ModelSpec } from '../tools/onnx-builder';

/** A BYTES input with a dynamic inner axis, echoed: the shape a request declares is its own. */
const stringsSpec: ModelSpec = {
  name: 'strings',
  inputs: [{ name: 's', type: 'string', shape: ['batch', 'n'] }],
  outputs: [{ name: 't', type: 'string', shape: ['batch', 'n'] }],
  nodes: [{ op: 'Identity', inputs: ['s'], outputs: ['t'] }],
};

/** A model whose tensors are named as properties of Object.prototype are. */
function protoNamedSpec(input: string, outputs: readonly string[]): ModelSpec {
  return {
    name: 'proto-named',
    inputs: [{ name: input, type: 'float32', shape: ['batch', 2] }],
    outputs: outputs.map((name) => ({ name, type: 'float32', shape: ['batch', 2] })),
    nodes: outputs.map((name) => ({ op: 'Identity', inputs: [input], outputs: [name] })),
  };
}

async function post(app: FastifyInstance, url: string, payload: string | Buffer, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload });
  return { status: res.statusCode, body: res.json() as { error?: string; code?: string; [k: string]: unknown } };
}

describe('requests built to make the server work hard', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('refuses a CSV cell of many digits that is not a number at once (no backtracking over its digits)', async () => {
    app = await readyApp({ modelDir: fraudModel().dir });
    const cell = '1'.repeat(60_000) + 'x';
    const started = performance.now();
    const res = await post(app, '/invocations', `0,0,0,0,0,0,0,${cell}\n`, { 'content-type': 'text/csv' });
    const ms = performance.now() - started;
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'CSV_BAD_VALUE');
    assert.match(res.body.error!, /^CSV row 1, column 8 is "1{40}", not a finite decimal number$/);
    assert.ok(ms < 1000, `a ${cell.length}-character cell held the HTTP thread for ${Math.round(ms)} ms`);
    // The numbers CSV takes are still read.
    const ok = await post(app, '/invocations', '1.,.5,+1.5e-3,2E2,-0,7,0.0,1e+0\n', { 'content-type': 'text/csv' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('refuses a BYTES tensor whose shape declares millions of strings its data does not hold, without allocating for them', async () => {
    app = await readyApp({ modelDir: modelDir('strings', stringsSpec) });
    const shape = [1, 16 * 1024 * 1024];
    const nested = JSON.stringify({ inputs: [{ name: 's', shape, datatype: 'BYTES', data: [['a']] }] });
    const json = JSON.stringify({ inputs: [{ name: 's', shape, datatype: 'BYTES', parameters: { binary_data_size: 5 } }] });
    const binary = Buffer.concat([Buffer.from(json), Buffer.from([1, 0, 0, 0, 0x61])]);
    const started = performance.now();
    for (let i = 0; i < 10; i++) {
      const a = await post(app, '/v2/models/strings/infer', nested);
      assert.equal(a.status, 400);
      assert.equal(a.body.code, 'DATA_LENGTH_MISMATCH');
      assert.match(a.body.error!, /nested data has 1 entries at depth 1, shape \[1,16777216\] needs 16777216/);
      const b = await post(app, '/v2/models/strings/infer', binary, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) });
      assert.equal(b.status, 400);
      assert.equal(b.body.code, 'DATA_LENGTH_MISMATCH');
      assert.match(b.body.error!, /its 5 bytes of binary data end inside element 1 of 16777216/);
    }
    const ms = performance.now() - started;
    // Each request of about 100 bytes took 80 to 150 ms of the HTTP thread (an array of 16 million holes).
    assert.ok(ms < 500, `20 requests of about 100 bytes held the HTTP thread for ${Math.round(ms)} ms`);
    // Strings the request does hold are still read, nested and binary.
    const good = await post(app, '/v2/models/strings/infer', JSON.stringify({ inputs: [{ name: 's', shape: [2, 2], datatype: 'BYTES', data: [['a', 'b'], ['c', 'd']] }] }));
    assert.equal(good.status, 200, JSON.stringify(good.body));
    assert.deepEqual((good.body.outputs as Array<{ data: unknown }>)[0].data, ['a', 'b', 'c', 'd']);
  });
});

describe('names that Object.prototype also has', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers a datatype named as an Object.prototype property with UNKNOWN_DATATYPE, as any other unknown datatype', async () => {
    app = await readyApp({ modelDir: fraudModel().dir });
    for (const datatype of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const res = await post(app, '/v2/models/fraud-mlp/infer', JSON.stringify({ inputs: [{ name: 'features', shape: [1, 8], datatype, data: [0, 0, 0, 0, 0, 0, 0, 0] }] }));
      assert.equal(res.status, 400);
      assert.equal(res.body.code, 'UNKNOWN_DATATYPE', `${datatype}: ${res.body.error}`);
      assert.match(res.body.error!, new RegExp(`^input 'features': datatype "${datatype}" is not one of BOOL, `));
    }
  });

  it('serves a model whose input is named __proto__', async () => {
    app = await readyApp({ modelDir: modelDir('proto-input', protoNamedSpec('__proto__', ['y'])) });
    const res = await post(app, '/v2/models/proto-input/infer', JSON.stringify({ inputs: [{ name: '__proto__', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4] }] }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.outputs, [{ name: 'y', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }]);
    // JSON Lines rows keyed by the input's name (a JSON body may not use __proto__ as a key at all).
    const rows = await post(app, '/invocations', '{"__proto__": [5, 6]}\n{"__proto__": [7, 8]}\n', { 'content-type': 'application/jsonlines' });
    assert.equal(rows.status, 200, JSON.stringify(rows.body));
    assert.deepEqual(rows.body.predictions, [[5, 6], [7, 8]]);
  });

  it('serves the other outputs of a model with an output named __proto__, which onnxruntime-node cannot return, and names it as left out', async () => {
    const lines: Array<Record<string, unknown>> = [];
    app = await readyApp({
      modelDir: modelDir('proto-output', protoNamedSpec('x', ['y', '__proto__', 'constructor'])),
      logger: { level: 'info', stream: { write: (l: string) => lines.push(JSON.parse(l)) } },
    });
    const ready = lines.find((l) => l.msg === 'model ready');
    assert.deepEqual(ready?.ignoredOutputs, [{ name: '__proto__', reason: "onnxruntime-node cannot return an output named '__proto__' (its results are a plain JavaScript object keyed by output name); rename the output in the model" }]);
    const res = await post(app, '/v2/models/proto-output/infer', JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual((res.body.outputs as Array<{ name: string }>).map((o) => o.name), ['y', 'constructor']);
    const rows = await post(app, '/invocations', JSON.stringify({ instances: [[1, 2]] }));
    assert.deepEqual(rows.body.predictions, [{ y: [1, 2], constructor: [1, 2] }]);
    const asked = await post(app, '/v2/models/proto-output/infer', JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }], outputs: [{ name: '__proto__' }] }));
    assert.equal(asked.status, 400);
    assert.equal(asked.body.code, 'UNKNOWN_OUTPUT');
    assert.match(asked.body.error!, /^output '__proto__' cannot be returned: onnxruntime-node cannot return an output named '__proto__'/);
  });

  it('serves a model with an output named __proto__ beside a non-tensor one (a ZipMap), running only the outputs asked for', async () => {
    app = await readyApp({
      modelDir: modelDir('proto-zipmap', {
        name: 'proto-zipmap',
        inputs: [{ name: 'x', type: 'float32', shape: ['N', 2] }],
        outputs: [
          { name: 'label', type: 'float32', shape: ['N', 2] },
          { name: '__proto__', type: 'float32', shape: ['N', 2] },
          { name: 'output_probability', type: 'int64', shape: [], sequenceOfMaps: true },
        ],
        nodes: [
          { op: 'Identity', inputs: ['x'], outputs: ['label'] },
          { op: 'Identity', inputs: ['x'], outputs: ['__proto__'] },
          { op: 'ZipMap', domain: 'ai.onnx.ml', inputs: ['x'], outputs: ['output_probability'], attributes: { classlabels_int64s: [0, 1] } },
        ],
      }),
    });
    assert.deepEqual(app.model.engine!.signature.ignoredOutputs.map((o) => o.name), ['__proto__', 'output_probability']);
    const res = await post(app, '/v2/models/proto-zipmap/infer', JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [0.25, 0.75] }] }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.outputs, [{ name: 'label', datatype: 'FP32', shape: [1, 2], data: [0.25, 0.75] }]);
  });
});

describe('model directory entries that are not regular files', () => {
  /**
   * Builds the app for `dir` in a child process and waits for its model: what it printed, or that it
   * had not finished within 10 s (reading a FIFO blocks the thread, so only a child can be timed out).
   */
  function startIn(dir: string): string {
    const app = path.resolve(__dirname, '..', 'src', 'app.js');
    const script = `require(${JSON.stringify(app)}).buildApp({ modelDir: ${JSON.stringify(dir)}, logger: false })
      .then((a) => a.model.ready.then(() => 'ready', (e) => 'load failed: ' + e.message))
      .catch((e) => 'start failed: ' + e.message)
      .then((out) => { console.log(out); process.exit(0); });`;
    const child = spawnSync(process.execPath, ['-e', script], { timeout: 10_000, encoding: 'utf8' });
    return child.signal ? `still starting after 10 s (${child.signal})` : child.stdout.trim();
  }

  for (const file of ['serving.json', 'features.json', 'model.onnx']) {
    it(`says ${file} is a FIFO, rather than wait for a writer forever`, { timeout: 20_000 }, () => {
      const dir = fraudModel().dir;
      const target = path.join(dir, file);
      fs.rmSync(target, { force: true });
      execFileSync('mkfifo', [target]);
      const out = startIn(dir);
      const expected = file === 'model.onnx'
        ? `load failed: model file ${target} is a FIFO, not a regular file; put the model file itself in the model directory (MODEL_DIR, default /opt/ml/model), or set modelFile in serving.json to it`
        : `start failed: ${target}: cannot be read: it is a FIFO, not a regular file; put the file itself in the model directory`;
      assert.equal(out, expected);
    });
  }

  it('says serving.json is a device when it is a link to one, rather than read it (/dev/zero would never end)', async () => {
    const dir = fraudModel().dir;
    const target = path.join(dir, 'serving.json');
    fs.rmSync(target, { force: true });
    // /dev/null, which ends at once, stands in for /dev/zero, which a server that reads it fills its memory with.
    fs.symlinkSync('/dev/null', target);
    await assert.rejects(readyApp({ modelDir: dir }), { message: `${target}: cannot be read: it is a character device, not a regular file; put the file itself in the model directory` });
  });
});
