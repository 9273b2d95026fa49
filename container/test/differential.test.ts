/**
 * A differential test of the serving path: many concurrent requests, of random rows and values, over
 * every wire format, to models built to trip up merging and splitting; each answer must be what
 * onnxruntime gives for that request's input run alone, in this process.
 *
 * Comparisons are exact (integers, booleans, strings and floats alike: an element of an output is
 * computed from its own row the same way whatever the batch), except for outputs listed in a model's
 * `floatTolerance`, which come from a MatMul: a merged run has more rows, and onnxruntime may pick
 * another kernel for it, which can sum in another order.
 *
 * Seeds are fixed; DIFFERENTIAL_SEED=n replays another run. A failure names the seed and the request.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { FastifyInstance } from 'fastify';
import { fromBytes, HttpResult, listening, metricValue, modelDir, request, toBytes } from './helpers';
import { ElemType, ModelSpec, prng } from '../tools/onnx-builder';
import { fromHalfBits, keepFloat16AsUint16 } from '../src/tensors';

// The reference runs onnxruntime in this process, where float16 data must stay Uint16Array too (Node.js 24).
keepFloat16AsUint16();

const SEED = Number(process.env.DIFFERENTIAL_SEED ?? 20_240_611);

/** One input's values, held as the test means them: 64-bit integers as bigint, FP16 as the numbers they stand for. */
interface Feed {
  readonly name: string;
  readonly type: ElemType;
  readonly dims: number[];
  readonly values: unknown[];
}

/** An output as JSON answers carry it: shape and flat values (64-bit integers beyond 2^53 as strings, NaN as null). */
interface Answer {
  readonly dims: number[];
  readonly values: unknown[];
}

type Format = 'oip-flat' | 'oip-nested' | 'oip-binary' | 'oip-binary-some' | 'invocations-oip' | 'instances' | 'jsonlines' | 'csv';

interface Case {
  readonly spec: ModelSpec;
  readonly config: object;
  /** Random inputs for one request. */
  readonly feeds: (rand: () => number) => Feed[];
  readonly formats: readonly Format[];
  /** Whether requests must be merged (else batching must be off). */
  readonly batched: boolean;
  /** Outputs that may differ within this relative tolerance (see the file's comment). */
  readonly floatTolerance?: Record<string, number>;
  readonly requests: number;
}

const OIP: Record<ElemType, string> = {
  float32: 'FP32', float64: 'FP64', float16: 'FP16', int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64', bool: 'BOOL', string: 'BYTES',
};

const int = (rand: () => number, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const f32 = (rand: () => number) => Math.fround((rand() * 2 - 1) * 10 ** int(rand, -3, 3));
/** A finite half-precision value below 16384 in magnitude (so doubling it stays finite). */
const f16 = (rand: () => number) => fromHalfBits(int(rand, 0, 0x73ff) | (rand() < 0.5 ? 0x8000 : 0));
const int64 = (rand: () => number) => (rand() < 0.3 ? BigInt.asIntN(64, BigInt(Math.floor(rand() * 2 ** 53)) * 4099n - 2n ** 62n) : BigInt(int(rand, -1000, 1000)));
const STRINGS = ['', 'a', 'é', 'naïve, "quoted"', 'line\nbreak', '∑ 😀', 'x'.repeat(40), ' spaced '];

const fill = (n: number, make: () => unknown) => Array.from({ length: n }, make);

/** The value as a JSON body carries it. */
function jsonValue(type: ElemType, v: unknown): unknown {
  if (type === 'int64' || type === 'uint64') {
    const b = v as bigint;
    return Number.isSafeInteger(Number(b)) ? Number(b) : b.toString();
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

/** Flat values nested as `dims`. */
function nest(values: readonly unknown[], dims: readonly number[]): unknown {
  if (dims.length <= 1) return [...values];
  const per = values.length / dims[0];
  return Array.from({ length: dims[0] }, (_, i) => nest(values.slice(i * per, (i + 1) * per), dims.slice(1)));
}

/** Row `r` of a tensor as a SageMaker prediction or instance holds it: a scalar, or nested as the inner dimensions. */
function rowOf(t: Answer, r: number): unknown {
  const inner = t.dims.slice(1);
  const per = inner.reduce((a, b) => a * b, 1);
  const slice = t.values.slice(r * per, (r + 1) * per);
  return inner.length === 0 ? slice[0] : nest(slice, inner);
}

function ortTensor(f: Feed): ort.Tensor {
  switch (f.type) {
    case 'float32': return new ort.Tensor('float32', Float32Array.from(f.values as number[]), f.dims);
    case 'float16': return new ort.Tensor('float16', Uint16Array.from(f.values as number[], (v) => toBytes('float16', [v]).readUInt16LE(0)), f.dims);
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from(f.values as bigint[]), f.dims);
    case 'bool': return new ort.Tensor('bool', Uint8Array.from(f.values as boolean[], (v) => (v ? 1 : 0)), f.dims);
    case 'string': return new ort.Tensor('string', f.values as string[], f.dims);
    default: throw new Error(`no feed of type ${f.type} here`);
  }
}

/** What onnxruntime gives for these inputs alone, as JSON answers carry it; or the error it throws. */
async function reference(session: ort.InferenceSession, feeds: readonly Feed[]): Promise<Record<string, Answer> | Error> {
  let results: ort.InferenceSession.ReturnType;
  try {
    results = await session.run(Object.fromEntries(feeds.map((f) => [f.name, ortTensor(f)])));
  } catch (e) {
    return e as Error;
  }
  const out: Record<string, Answer> = {};
  for (const [name, t] of Object.entries(results)) {
    const raw = Array.from(t.data as ArrayLike<unknown>);
    const values = raw.map((v) => {
      if (t.type === 'float16') return fromHalfBits(v as number);
      if (t.type === 'bool') return v === 1 || v === true;
      return v;
    });
    out[name] = { dims: [...t.dims], values: values.map((v) => jsonValue(t.type as ElemType, v)) };
  }
  return out;
}

/** Whether `got` is `want`: exactly, or for numbers within `tolerance` relative. */
function same(got: unknown, want: unknown, tolerance: number): boolean {
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && want.every((w, i) => same(got[i], w, tolerance));
  if (want !== null && typeof want === 'object') {
    const keys = Object.keys(want);
    return got !== null && typeof got === 'object' && Object.keys(got).sort().join() === [...keys].sort().join()
      && keys.every((k) => same((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], tolerance));
  }
  if (typeof want === 'number' && typeof got === 'number' && tolerance > 0) return Math.abs(got - want) <= tolerance * Math.max(1, Math.abs(want));
  return got === want;
}

/** A request body, its headers and route, for one format. */
function encodeRequest(format: Format, feeds: readonly Feed[], outputs: readonly string[], rand: () => number): { url: string; body: string | Buffer; headers: Record<string, string>; binaryOutputs: string[] } {
  const infer = '/v2/models/m/infer';
  const json = (body: unknown, url = infer) => ({ url, body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, binaryOutputs: [] });
  const oipInputs = (nested: boolean) => feeds.map((f) => {
    const data = f.values.map((v) => jsonValue(f.type, v));
    return { name: f.name, shape: f.dims, datatype: OIP[f.type], data: nested ? nest(data, f.dims) : data };
  });
  // A model with one input takes its value as the row, or an object keyed by its name; rows whose inner
  // dimensions are fixed may also be flat. The first row says which, for the whole request.
  const bare = feeds.length === 1 && rand() < 0.7;
  const flat = rand() < 0.3;
  const instances = () => Array.from({ length: feeds[0].dims[0] }, (_, r) => {
    const rowValue = (f: Feed) => {
      const row = rowOf({ dims: f.dims, values: f.values.map((v) => jsonValue(f.type, v)) }, r);
      return Array.isArray(row) && flat ? (row as unknown[]).flat(Infinity) : row;
    };
    return bare ? rowValue(feeds[0]) : Object.fromEntries(feeds.map((f) => [f.name, rowValue(f)]));
  });
  switch (format) {
    case 'oip-flat': return json({ id: 'diff', inputs: oipInputs(false), outputs: outputs.map((name) => ({ name })) });
    case 'oip-nested': return json({ inputs: oipInputs(true) });
    case 'invocations-oip': return json({ inputs: oipInputs(rand() < 0.5) }, '/invocations');
    case 'instances': return json({ instances: instances() }, '/invocations');
    case 'jsonlines': return {
      url: '/invocations',
      body: instances().map((i) => JSON.stringify(i)).join('\n') + '\n',
      headers: { 'content-type': 'application/jsonlines', accept: rand() < 0.5 ? 'application/jsonlines' : 'application/json' },
      binaryOutputs: [],
    };
    case 'csv': {
      const f = feeds[0];
      const rows = Array.from({ length: f.dims[0] }, (_, r) => (rowOf({ dims: f.dims, values: f.values }, r) as unknown[]).flat(Infinity).map(String).join(','));
      return { url: '/invocations', body: rows.join('\n') + '\n', headers: { 'content-type': 'text/csv', accept: 'text/csv' }, binaryOutputs: [] };
    }
    case 'oip-binary':
    case 'oip-binary-some': {
      const parts = feeds.map((f) => toBytes(f.type, f.values.map((v) => (typeof v === 'bigint' ? v.toString() : v))));
      // Some inputs stay JSON; of the outputs, all or some come back as bytes.
      const asJson = feeds.map((_, i) => format === 'oip-binary-some' && i > 0 && rand() < 0.4); // one binary input at least
      const binaryOutputs = format === 'oip-binary' ? [...outputs] : outputs.filter(() => rand() < 0.5);
      const head = {
        inputs: feeds.map((f, i) => (asJson[i] ? oipInputs(false)[i] : { name: f.name, shape: f.dims, datatype: OIP[f.type], parameters: { binary_data_size: parts[i].length } })),
        ...(format === 'oip-binary' ? { parameters: { binary_data_output: true } } : { outputs: outputs.map((name) => ({ name, parameters: { binary_data: binaryOutputs.includes(name) } })) }),
      };
      const text = Buffer.from(JSON.stringify(head));
      return {
        url: infer,
        body: Buffer.concat([text, ...parts.filter((_, i) => !asJson[i])]),
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(text.length) },
        binaryOutputs,
      };
    }
  }
}

/** Checks one answer against the reference; throws with what differs. */
function checkAnswer(format: Format, res: HttpResult, want: Record<string, Answer>, outputs: readonly string[], binaryOutputs: readonly string[], types: Record<string, ElemType>, tolerance: (name: string) => number): void {
  assert.equal(res.status, 200, res.body.slice(0, 300));
  if (format.startsWith('oip') || format === 'invocations-oip') {
    let head: { outputs: Array<{ name: string; shape: number[]; data?: unknown[]; parameters?: { binary_data_size: number } }> };
    let bytes = res.raw.subarray(0, 0);
    if (binaryOutputs.length > 0) {
      const length = Number(res.headers['inference-header-content-length']);
      head = JSON.parse(res.raw.subarray(0, length).toString('utf8'));
      bytes = res.raw.subarray(length);
    } else {
      head = res.json();
    }
    assert.deepEqual(head.outputs.map((o) => o.name), outputs);
    let pos = 0;
    for (const o of head.outputs) {
      let data = o.data;
      if (binaryOutputs.includes(o.name)) {
        assert.equal(data, undefined, `${o.name} came as bytes`);
        const size = o.parameters!.binary_data_size;
        data = fromBytes(types[o.name], bytes.subarray(pos, pos + size)).map((v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
        pos += size;
      }
      assert.deepEqual(o.shape, want[o.name].dims, `shape of ${o.name}`);
      assert.ok(same(data, want[o.name].values, tolerance(o.name)), `${o.name}: got ${JSON.stringify(data)}, want ${JSON.stringify(want[o.name].values)}`);
    }
    assert.equal(pos, bytes.length, 'every byte of the answer is claimed');
    return;
  }
  const tensors = outputs.map((name) => want[name]);
  const rows = Math.max(1, ...tensors.map((t) => (t.dims.length === 0 ? 1 : t.dims[0])));
  if (format === 'csv') {
    const lines = res.body.split('\n');
    assert.equal(lines.pop(), '', 'the answer ends with a line break');
    assert.equal(lines.length, rows, res.body);
    lines.forEach((line, r) => {
      const cells = tensors.flatMap((t) => {
        if (t.dims.length === 0) return [t.values[0]];
        const row = rowOf(t, r);
        return Array.isArray(row) ? (row as unknown[]).flat(Infinity) : [row];
      });
      const got = line.split(',');
      assert.equal(got.length, cells.length, `row ${r}: ${line}`);
      cells.forEach((c, i) => assert.ok(typeof c === 'number' ? same(Number(got[i]), c, tolerance(outputs[0])) : got[i] === String(c), `row ${r}, cell ${i}: got ${got[i]}, want ${String(c)}`));
    });
    return;
  }
  // predictions: one entry per row, the output's row itself, or an object when there are several outputs;
  // a scalar output is repeated on every row.
  const predictions = Array.from({ length: rows }, (_, r) => {
    const value = (t: Answer) => (t.dims.length === 0 ? t.values[0] : r < t.dims[0] ? rowOf(t, r) : undefined);
    if (tensors.length === 1) return value(tensors[0]);
    return Object.fromEntries(outputs.flatMap((name, i) => (value(tensors[i]) === undefined ? [] : [[name, value(tensors[i])]])));
  });
  const got = /^application\/json(;|$)/.test(res.headers['content-type'] ?? '') ? res.json().predictions : res.body.trim().split('\n').map((l) => JSON.parse(l));
  const tol = Math.max(0, ...outputs.map(tolerance));
  assert.ok(same(got, predictions, tol), `got ${JSON.stringify(got).slice(0, 2000)}, want ${JSON.stringify(predictions).slice(0, 2000)}`);
}

/** Builds the model, starts the server, fires the requests at once, and compares every answer. */
async function runCase(label: string, c: Case, seed: number): Promise<FastifyInstance> {
  const dir = modelDir('m', c.spec, c.config);
  const warnings: string[] = [];
  const { app, port } = await listening({ modelDir: dir, logger: { level: 'warn', stream: { write: (line: string) => warnings.push(line) } } });
  try {
    assert.equal(app.model.engine!.batchingActive, c.batched, `batching for ${label}: ${app.model.engine!.batchingOffReason}`);
    const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), { intraOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 4 });
    const types = Object.fromEntries(c.spec.outputs.map((o) => [o.name, o.type]));
    const rand = prng(seed);
    const planned = await Promise.all(Array.from({ length: c.requests }, async (_, i) => {
      const feeds = c.feeds(rand);
      const format = c.formats[int(rand, 0, c.formats.length - 1)];
      // OIP requests may ask for some outputs, in any order; the others get every output in model order.
      const all = c.spec.outputs.map((o) => o.name);
      const outputs = format === 'oip-flat' || format === 'oip-binary-some' ? all.filter(() => rand() < 0.7).sort(() => rand() - 0.5) : all;
      const chosen = outputs.length > 0 ? outputs : all;
      return { i, feeds, format, outputs: chosen, sent: encodeRequest(format, feeds, chosen, rand), want: await reference(session, feeds) };
    }));
    await session.release();
    // Keep-alive connections first, so the burst arrives together and merges.
    await Promise.all(planned.map(() => request(port, 'GET', '/ping')));
    const answers = await Promise.all(planned.map((p) => request(port, 'POST', p.sent.url, p.sent.body, p.sent.headers)));
    answers.forEach((res, k) => {
      const p = planned[k];
      const what = `${label}, seed ${seed} (DIFFERENTIAL_SEED=${SEED}), request ${p.i} (${p.format}, ${p.feeds[0].dims[0]} rows, inputs ${JSON.stringify(p.feeds.map((f) => ({ [f.name]: f.dims })))})`;
      try {
        if (p.want instanceof Error) {
          // onnxruntime refuses these values alone: the server must refuse them too, and only them.
          assert.equal(res.status, 422, res.body);
          assert.equal(res.json().code, 'INPUT_REJECTED_BY_MODEL');
          return;
        }
        checkAnswer(p.format, res, p.want as Record<string, Answer>, p.outputs, p.sent.binaryOutputs, types, (name) => c.floatTolerance?.[name] ?? 0);
      } catch (e) {
        (e as Error).message = `${what}: ${(e as Error).message}`;
        throw e;
      }
    });
    // A merged run fails only when one of its requests holds values onnxruntime refuses (then each
    // runs again alone): a failure for any other reason (requests stacked that should not be) would
    // be hidden by those reruns.
    const refused = planned.filter((p) => p.want instanceof Error).length;
    const mergedFailures = warnings.filter((l) => l.includes('"merged-run-failed"')).length;
    assert.ok(mergedFailures <= refused, `${label}: ${mergedFailures} merged runs failed, and only ${refused} requests hold values onnxruntime refuses`);
    const metrics = (await request(port, 'GET', '/metrics')).body;
    const runs = metricValue(metrics, 'inference_runs_total', { model: 'm' })!;
    const jobs = metricValue(metrics, 'inference_requests_total', { model: 'm' })!;
    if (c.batched) assert.ok(runs < jobs, `${label}: requests were merged (${jobs} jobs in ${runs} runs)`);
    else assert.equal(runs, jobs, `${label}: one request per run`);
    return app;
  } catch (e) {
    await app.close();
    throw e;
  }
}

const BATCHING = { batching: { enabled: true, maxBatchSize: 4, maxQueueDelayMs: 5 } };

const CASES: Record<string, Case> = {
  // Several inputs and outputs of every rank and of FP32, FP16, INT64, BOOL and BYTES.
  'mixed types and ranks': {
    spec: {
      name: 'mixed',
      inputs: [
        { name: 'x', type: 'float32', shape: ['batch', 3] },
        { name: 'ids', type: 'int64', shape: ['batch'] },
        { name: 'flag', type: 'bool', shape: ['batch', 2] },
        { name: 'h', type: 'float16', shape: ['batch', 2] },
        { name: 's', type: 'string', shape: ['batch'] },
      ],
      outputs: [
        { name: 'y', type: 'float32', shape: ['batch', 2] },
        { name: 'score', type: 'float32', shape: ['batch'] },
        { name: 'cube', type: 'float32', shape: ['batch', 2, 3] },
        { name: 'ids_out', type: 'int64', shape: ['batch'] },
        { name: 'not_flag', type: 'bool', shape: ['batch', 2] },
        { name: 'h2', type: 'float16', shape: ['batch', 2] },
        { name: 's_out', type: 'string', shape: ['batch'] },
      ],
      initializers: [
        { name: 'w', type: 'float32', dims: [3, 2], data: [0.5, -1.25, 2, 0.75, -3, 1.5] },
        { name: 'b', type: 'float32', dims: [2], data: [0.1, -0.2] },
        { name: 'c', type: 'float32', dims: [2, 3], data: [1, 2, 3, -1, 0.5, 4] },
        { name: 'axis1', type: 'int64', dims: [1], data: [1] },
        { name: 'three', type: 'int64', dims: [], data: [3] },
        { name: 'seven', type: 'int64', dims: [], data: [7] },
      ],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'w'], outputs: ['xw'] },
        { op: 'Add', inputs: ['xw', 'b'], outputs: ['y'] },
        { op: 'ReduceSum', inputs: ['x', 'axis1'], outputs: ['score'], attributes: { keepdims: 0 } },
        { op: 'Unsqueeze', inputs: ['x', 'axis1'], outputs: ['x3'] },
        { op: 'Mul', inputs: ['x3', 'c'], outputs: ['cube'] },
        { op: 'Mul', inputs: ['ids', 'three'], outputs: ['ids3'] },
        { op: 'Add', inputs: ['ids3', 'seven'], outputs: ['ids_out'] },
        { op: 'Not', inputs: ['flag'], outputs: ['not_flag'] },
        { op: 'Add', inputs: ['h', 'h'], outputs: ['h2'] },
        { op: 'Identity', inputs: ['s'], outputs: ['s_out'] },
      ],
    },
    config: { workers: 2, intraOpNumThreads: 1, ...BATCHING },
    feeds: (rand) => {
      const n = int(rand, 1, 9);
      return [
        { name: 'x', type: 'float32', dims: [n, 3], values: fill(n * 3, () => f32(rand)) },
        { name: 'ids', type: 'int64', dims: [n], values: fill(n, () => int64(rand)) },
        { name: 'flag', type: 'bool', dims: [n, 2], values: fill(n * 2, () => rand() < 0.5) },
        { name: 'h', type: 'float16', dims: [n, 2], values: fill(n * 2, () => f16(rand)) },
        { name: 's', type: 'string', dims: [n], values: fill(n, () => STRINGS[int(rand, 0, STRINGS.length - 1)]) },
      ];
    },
    formats: ['oip-flat', 'oip-nested', 'oip-binary', 'oip-binary-some', 'invocations-oip', 'instances', 'jsonlines'],
    batched: true,
    floatTolerance: { y: 1e-6 },
    requests: 80,
  },
  // A dynamic inner axis (seq) that differs between concurrent requests, and token ids that are
  // sometimes out of the table's range (onnxruntime refuses those alone; merged, only their caller may fail).
  'sequences of different lengths': {
    spec: {
      name: 'sequence',
      inputs: [
        { name: 'tokens', type: 'int64', shape: ['batch', 'seq'] },
        { name: 'weight', type: 'float32', shape: ['batch', 'seq'] },
      ],
      outputs: [
        { name: 'emb', type: 'float32', shape: ['batch', 'seq', 2] },
        { name: 'weighted', type: 'float32', shape: ['batch', 'seq', 2] },
        { name: 'total', type: 'int64', shape: ['batch'] },
      ],
      initializers: [
        { name: 'table', type: 'float32', dims: [5, 2], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9.5] },
        { name: 'axis1', type: 'int64', dims: [1], data: [1] },
        { name: 'axis2', type: 'int64', dims: [1], data: [2] },
      ],
      nodes: [
        { op: 'Gather', inputs: ['table', 'tokens'], outputs: ['emb'], attributes: { axis: 0 } },
        { op: 'Unsqueeze', inputs: ['weight', 'axis2'], outputs: ['w3'] },
        { op: 'Mul', inputs: ['emb', 'w3'], outputs: ['weighted'] },
        { op: 'ReduceSum', inputs: ['tokens', 'axis1'], outputs: ['total'], attributes: { keepdims: 0 } },
      ],
    },
    config: BATCHING,
    feeds: (rand) => {
      const n = int(rand, 1, 9);
      const seq = int(rand, 1, 3);
      const bad = rand() < 0.08;
      return [
        { name: 'tokens', type: 'int64', dims: [n, seq], values: fill(n * seq, () => BigInt(int(rand, 0, 4))).map((v, i) => (bad && i === n * seq - 1 ? 9n : v)) },
        { name: 'weight', type: 'float32', dims: [n, seq], values: fill(n * seq, () => f32(rand)) },
      ];
    },
    formats: ['oip-flat', 'oip-nested', 'oip-binary', 'invocations-oip', 'instances', 'jsonlines'],
    batched: true,
    requests: 80,
  },
  // One input with fixed inner dimensions, so CSV can feed it too.
  'one input of rank 3 over CSV as well': {
    spec: {
      name: 'rank3',
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 2, 2] }],
      outputs: [
        { name: 'peak', type: 'float32', shape: ['batch'] },
        { name: 'tripled', type: 'float32', shape: ['batch', 2, 2] },
      ],
      initializers: [{ name: 'three', type: 'float32', dims: [], data: [3] }],
      nodes: [
        { op: 'ReduceMax', inputs: ['x'], outputs: ['peak'], attributes: { axes: [1, 2], keepdims: 0 } },
        { op: 'Mul', inputs: ['x', 'three'], outputs: ['tripled'] },
      ],
    },
    config: BATCHING,
    feeds: (rand) => {
      const n = int(rand, 1, 9);
      return [{ name: 'x', type: 'float32', dims: [n, 2, 2], values: fill(n * 4, () => f32(rand)) }];
    },
    formats: ['oip-flat', 'oip-nested', 'oip-binary', 'instances', 'jsonlines', 'csv'],
    batched: true,
    requests: 60,
  },
  // An output with no batch axis (a scalar): the model cannot be batched, and each request runs alone.
  'an output without a batch axis': {
    spec: {
      name: 'scalar-out',
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 2] }],
      outputs: [
        { name: 'doubled', type: 'float32', shape: ['batch', 2] },
        { name: 'sum', type: 'float32', shape: [] },
      ],
      initializers: [{ name: 'two', type: 'float32', dims: [], data: [2] }],
      nodes: [
        { op: 'Mul', inputs: ['x', 'two'], outputs: ['doubled'] },
        { op: 'ReduceSum', inputs: ['x'], outputs: ['sum'], attributes: { keepdims: 0 } },
      ],
    },
    config: BATCHING,
    feeds: (rand) => {
      const n = int(rand, 1, 9);
      return [{ name: 'x', type: 'float32', dims: [n, 2], values: fill(n * 2, () => f32(rand)) }];
    },
    formats: ['oip-flat', 'oip-nested', 'oip-binary', 'instances', 'jsonlines', 'csv'],
    batched: false,
    requests: 40,
  },
  // An output with a fixed leading dimension of 1 (a column sum over the batch).
  'an output with a fixed leading dimension': {
    spec: {
      name: 'fixed-out',
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 2] }],
      outputs: [
        { name: 'doubled', type: 'float32', shape: ['batch', 2] },
        { name: 'colsum', type: 'float32', shape: [1, 2] },
      ],
      initializers: [{ name: 'two', type: 'float32', dims: [], data: [2] }, { name: 'axis0', type: 'int64', dims: [1], data: [0] }],
      nodes: [
        { op: 'Mul', inputs: ['x', 'two'], outputs: ['doubled'] },
        { op: 'ReduceSum', inputs: ['x', 'axis0'], outputs: ['colsum'], attributes: { keepdims: 1 } },
      ],
    },
    config: BATCHING,
    feeds: (rand) => {
      const n = int(rand, 1, 9);
      return [{ name: 'x', type: 'float32', dims: [n, 2], values: fill(n * 2, () => f32(rand)) }];
    },
    formats: ['oip-flat', 'oip-nested', 'oip-binary', 'invocations-oip'],
    batched: false,
    requests: 40,
  },
  // Rows that change each other (centred on the batch's mean), declared with a dynamic batch axis:
  // only the batching probe can tell, and it must turn batching off.
  'rows centred on the batch mean': {
    spec: {
      name: 'centred',
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 3] }],
      outputs: [{ name: 'centred', type: 'float32', shape: ['batch', 3] }, { name: 'running', type: 'float32', shape: ['batch', 3] }],
      initializers: [{ name: 'axis0', type: 'int64', dims: [], data: [0] }],
      nodes: [
        { op: 'ReduceMean', inputs: ['x'], outputs: ['mean'], attributes: { axes: [0], keepdims: 1 } },
        { op: 'Sub', inputs: ['x', 'mean'], outputs: ['centred'] },
        { op: 'CumSum', inputs: ['x', 'axis0'], outputs: ['running'] },
      ],
    },
    config: BATCHING,
    feeds: (rand) => {
      const n = int(rand, 1, 9);
      return [{ name: 'x', type: 'float32', dims: [n, 3], values: fill(n * 3, () => f32(rand)) }];
    },
    formats: ['oip-flat', 'oip-nested', 'oip-binary', 'instances', 'jsonlines', 'csv'],
    batched: false,
    requests: 40,
  },
  // Inputs whose first axes are different dimensions (scores of nq queries against nk keys): the
  // probe finds that the output's second axis grows with the rows too, and turns batching off; then
  // nothing is stacked, and the inputs need not agree on their first axis.
  'inputs whose first axes differ': {
    spec: {
      name: 'pairs',
      inputs: [{ name: 'q', type: 'float32', shape: ['nq', 2] }, { name: 'k', type: 'float32', shape: ['nk', 2] }],
      outputs: [{ name: 'scores', type: 'float32', shape: ['rows', 'cols'] }],
      nodes: [
        { op: 'Transpose', inputs: ['k'], outputs: ['kt'], attributes: { perm: [1, 0] } },
        { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['scores'] },
      ],
    },
    config: BATCHING,
    feeds: (rand) => {
      const nq = int(rand, 1, 9);
      const nk = int(rand, 1, 9);
      return [
        { name: 'q', type: 'float32', dims: [nq, 2], values: fill(nq * 2, () => f32(rand)) },
        { name: 'k', type: 'float32', dims: [nk, 2], values: fill(nk * 2, () => f32(rand)) },
      ];
    },
    formats: ['oip-flat', 'oip-nested', 'oip-binary', 'invocations-oip'],
    batched: false,
    requests: 30,
  },
};

describe('every caller gets what onnxruntime gives for its own input alone', () => {
  Object.entries(CASES).forEach(([label, c], k) => {
    it(`${label}, over every wire format it takes, with concurrent requests of random rows`, async () => {
      const app = await runCase(label, c, SEED + k);
      await app.close();
    });
  });
});
