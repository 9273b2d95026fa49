import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { listening, modelDir, npy, request, toBytes } from './helpers';
import { encodeNpy } from '../src/npy';
import { fixedBatchSpec, kitchenSinkSpec, multiInputSpec } from '../tools/test-models';
import { convertElements, ORT_TO_OIP, OrtType } from '../src/tensors';
import type { ModelSpec } from '../tools/onnx-builder';

/** A small deterministic generator (same sequence every run, so a failure can be replayed). */
function generator(seed: number) {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  return { next, pick };
}

const ODD_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, -(2 ** 63), 'x', '', '\u0000', 'NaN',
  '18446744073709551616', '__proto__', 'é'.repeat(3), [], {}, [[]], [1, [2]], { a: 1 },
];

/** A copy of `value` with random parts replaced, dropped, renamed or added. */
function mutate(value: unknown, g: ReturnType<typeof generator>, depth = 0): unknown {
  if (depth > 4 || g.next() < 0.15) return g.next() < 0.5 ? g.pick(ODD_VALUES) : value;
  if (Array.isArray(value)) {
    const copy = value.map((v) => mutate(v, g, depth + 1));
    if (g.next() < 0.2) copy.push(g.pick(ODD_VALUES));
    if (g.next() < 0.2) copy.pop();
    return copy;
  }
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (g.next() < 0.1) continue;
      copy[g.next() < 0.05 ? `${k}x` : k] = mutate(v, g, depth + 1);
    }
    if (g.next() < 0.1) copy[g.pick(['extra', 'parameters', 'id', 'outputs'])] = g.pick(ODD_VALUES);
    return copy;
  }
  return g.next() < 0.3 ? g.pick(ODD_VALUES) : value;
}

/** A valid OIP request for the spec's model: one row (or the fixed batch), inner axes of 2 where dynamic. */
function validRequest(spec: ModelSpec) {
  return {
    id: 'fuzz',
    inputs: spec.inputs.map((input) => {
      const shape = input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 2));
      shape[0] = typeof input.shape[0] === 'number' && input.shape[0] > 0 ? input.shape[0] : 1;
      const n = shape.reduce((a, b) => a * b, 1);
      const type = input.type as OrtType;
      const data = Array.from({ length: n }, (_, i) => (type === 'bool' ? i % 2 === 0 : type === 'string' ? `s${i}` : i));
      return { name: input.name, shape, datatype: ORT_TO_OIP[type], data };
    }),
    outputs: [{ name: spec.outputs[0].name }],
  };
}

/** The same request with every input as binary tensor data: the JSON head and the bytes after it. */
function binaryRequest(valid: ReturnType<typeof validRequest>) {
  const parts = valid.inputs.map((i) => toBytes(OIP_TO_TYPE[i.datatype], i.data));
  const head = {
    ...valid,
    inputs: valid.inputs.map(({ data: _data, ...rest }, k) => ({ ...rest, parameters: { binary_data_size: parts[k].length } })),
    parameters: { binary_data_output: true },
  };
  return { head, bytes: Buffer.concat(parts) };
}

/** The first input of a valid request as an .npy file (what NumpySerializer sends to /invocations). */
function npyRequest(valid: ReturnType<typeof validRequest>, spec: ModelSpec): Buffer {
  const input = valid.inputs[0];
  const type = spec.inputs[0].type as OrtType;
  return encodeNpy({ type, dims: input.shape, data: convertElements(input.name, type, input.data.length, (i) => input.data[i]) });
}

/** Headers NumPy would not write, or would for arrays the server does not read. */
const ODD_NPY: Array<[string, number[]]> = [
  ['<f4', [1, 99999999999]], ['|O', [2]], ['<U999999', [1]], ['>i8', [1, 2]], ['<c16', [1]], ['<f8', []], ['|b1', [0, 2]],
  ['<f4', [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]], ['|S0', [1]], ['<f2', [3]], ['=u4', [1]], ['', [1]],
];

const OIP_TO_TYPE: Record<string, string> = Object.fromEntries(Object.entries(ORT_TO_OIP).map(([t, d]) => [d, t]));

/** A binary tensor data request: the JSON, then the bytes, with the JSON's length in the header. */
function binaryBody(head: unknown, bytes: Buffer, headerLength?: number): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(head));
  const body = Buffer.concat([json, bytes]);
  return { body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength ?? json.length), 'content-length': String(body.length) } };
}

describe('random malformed requests', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  for (const spec of [kitchenSinkSpec(), multiInputSpec(), fixedBatchSpec()]) {
    it(`never get a 5xx or an answer without an error code, and leave the server working (${spec.name})`, async () => {
      const started = await listening({ modelDir: modelDir(`fuzz-${spec.name}`, spec) });
      app = started.app;
      const g = generator(7);
      const valid = validRequest(spec);
      const name = started.app.model.name;
      const infer = `/v2/models/${name}/infer`;
      assert.equal((await request(started.port, 'POST', infer, valid)).status, 200, 'the unmutated request is valid');
      const binary = binaryRequest(valid);
      const validBinary = binaryBody(binary.head, binary.bytes);
      assert.equal((await request(started.port, 'POST', infer, validBinary.body, validBinary.headers)).status, 200, 'the unmutated binary request is valid');
      const validNpy = npyRequest(valid, spec);
      if (spec.inputs.length === 1) {
        const ok = await request(started.port, 'POST', '/invocations', validNpy, { 'content-type': 'application/x-npy' });
        assert.equal(ok.status, 200, `the unmutated .npy request is valid: ${ok.body}`);
      }
      const statuses = new Map<number, number>();
      for (let round = 0; round < 10; round++) {
        const answers = await Promise.all(Array.from({ length: 40 }, () => {
          const kind = g.next();
          if (kind < 0.5) return request(started.port, 'POST', g.pick([infer, '/invocations', `/v2/models/${name}/versions/1/infer`]), JSON.stringify(mutate(valid, g)), { 'content-type': 'application/json' });
          if (kind < 0.62) return request(started.port, 'POST', '/invocations', JSON.stringify({ instances: mutate([[1, 2], [3, 4]], g) }), { 'content-type': 'application/json' });
          if (kind < 0.7) return request(started.port, 'POST', '/invocations', g.pick(['1,2\n3,4', '1,2,3', '', 'a,b', '1,,2', '"x",1\n', '\n\n', '1e999,1', ',,,\n,,,']), { 'content-type': 'text/csv' });
          if (kind < 0.75) {
            const rows = mutate([[1, 2], [3, 4], { x: [1, 2] }], g) as unknown[];
            const lines = Array.isArray(rows) ? rows.map((r) => JSON.stringify(r) ?? '').join('\n') : String(rows);
            // JSON Lines, also under application/json (as a batch transform job may send them).
            return request(started.port, 'POST', '/invocations', lines, { 'content-type': g.pick(['application/jsonlines', 'application/json']) });
          }
          if (kind < 0.78) {
            // The simplified JSON of SageMaker's TensorFlow Serving container: bare rows, one row, one keyed instance.
            const body = mutate(g.pick([[[1, 2], [3, 4]], [1, 2], { [spec.inputs[0].name]: [1, 2] }, 5, 'x']), g);
            return request(started.port, 'POST', '/invocations', JSON.stringify(body) ?? 'null', { 'content-type': 'application/json' });
          }
          if (kind < 0.84) {
            // NumPy .npy: bytes changed, cut or added, or a header NumPy would not write.
            const what = g.next();
            let body: Buffer = Buffer.from(validNpy);
            if (what < 0.3) for (let k = 0; k < 4; k++) body[Math.floor(g.next() * Math.min(body.length, 80))] = Math.floor(g.next() * 256);
            else if (what < 0.5) body = body.subarray(0, Math.floor(g.next() * body.length));
            else if (what < 0.6) body = Buffer.concat([body, Buffer.from([g.pick([0, 1, 255])])]);
            else {
              const [descr, shape] = g.pick(ODD_NPY);
              body = npy(descr, shape, new Uint8Array(Math.floor(g.next() * 64)), { fortran: g.next() < 0.3, version: g.pick([1, 2, 3]) });
            }
            return request(started.port, 'POST', '/invocations', body, { 'content-type': 'application/x-npy', accept: g.pick(['application/x-npy', 'application/json']) });
          }
          if (kind < 0.93) {
            // Binary tensor data: a mutated JSON head, or the bytes cut, grown or changed, or a wrong header length.
            const bytes = Buffer.from(binary.bytes);
            const what = g.next();
            if (what < 0.3) return request(started.port, 'POST', infer, ...Object.values(binaryBody(mutate(binary.head, g), bytes)) as [Buffer, Record<string, string>]);
            let changed = bytes;
            if (what < 0.5) changed = bytes.subarray(0, Math.floor(g.next() * bytes.length));
            else if (what < 0.65) changed = Buffer.concat([bytes, Buffer.from([g.pick([0, 1, 255])])]);
            else if (what < 0.85) for (let k = 0; k < 8 && bytes.length > 0; k++) bytes[Math.floor(g.next() * bytes.length)] = Math.floor(g.next() * 256);
            const jsonLength = Buffer.byteLength(JSON.stringify(binary.head));
            const headerLength = what >= 0.85 ? Math.floor(g.next() * (jsonLength + changed.length + 10)) : undefined;
            const sent = binaryBody(binary.head, changed, headerLength);
            return request(started.port, 'POST', g.pick([infer, '/invocations']), sent.body, sent.headers);
          }
          const text = JSON.stringify(valid);
          const cut = Math.floor(g.next() * text.length);
          return request(started.port, 'POST', infer, text.slice(0, cut) + g.pick(['', '}', ']', '"', '\\', '\u0000']) + text.slice(cut + 1), { 'content-type': 'application/json' });
        }));
        for (const a of answers) {
          statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
          assert.ok(a.status === 200 || (a.status >= 400 && a.status < 500), `status ${a.status}: ${a.body.slice(0, 300)}`);
          if (a.status !== 200) assert.match(String(a.json().code), /^[A-Z_]+$/, a.body.slice(0, 300));
        }
      }
      assert.ok((statuses.get(400) ?? 0) > 100, `mostly rejected: ${JSON.stringify([...statuses])}`);
      assert.equal((await request(started.port, 'POST', infer, valid)).status, 200, 'still serving after the malformed requests');
    });
  }
});
