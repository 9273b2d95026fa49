import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { onnx } from 'onnx-proto';
import { listening, modelDir, request, toBytes } from './helpers';
import { decodeCsv, decodeInstances, encodeCsv, encodePredictions } from '../src/codec';
import { checkShape, decodeBinaryData, decodeData, encodeData, fromHalfBits, ModelSignature, OrtType, toHalfBits, WireTensor } from '../src/tensors';
import { answerFormat, parseJsonLines } from '../src/plugins/sagemaker';
import { InferenceError } from '../src/errors';
import type { ModelSpec } from '../tools/onnx-builder';

const identity = (type: string, shape: Array<string | number> = ['batch', 2]): ModelSpec => ({
  name: `id-${type}`,
  inputs: [{ name: 'x', type: type as never, shape }],
  outputs: [{ name: 'y', type: type as never, shape }],
  nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
});

const limits = { maxElements: 1 << 20, maxRank: 8 };
const signature = (type: string, shape: number[]): ModelSignature => ({
  inputs: [{ name: 'x', type: type as never, datatype: 'X', shape }],
  outputs: [{ name: 'y', type: type as never, datatype: 'X', shape }],
  batchable: shape[0] === -1,
  ignoredOutputs: [],
});
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof InferenceError ? e.code : `not an InferenceError: ${(e as Error).message}`;
  }
  return 'no error';
};

describe('value edges', () => {
  it('rounds a double to half precision once, to nearest even, and maps every half value back to itself', () => {
    assert.equal(toHalfBits(1.0004882812509095), 0x3c01, 'just above the tie between 1 and 1.0009765625');
    assert.equal(toHalfBits(2049.0000000009313), 0x6801, 'just above the tie between 2048 and 2050');
    assert.equal(toHalfBits(1.00048828125), 0x3c00, 'an exact tie rounds to even');
    assert.equal(toHalfBits(2 ** -25), 0x0000, 'half the smallest subnormal rounds to even: zero');
    assert.equal(toHalfBits(3 * 2 ** -25), 0x0002, '1.5 subnormal steps rounds to even: 2');
    assert.equal(toHalfBits(65519), 0x7bff, 'below the overflow tie: 65504');
    assert.equal(toHalfBits(65520), 0x7c00, 'the overflow tie rounds to infinity');
    assert.equal(toHalfBits(-0), 0x8000);
    for (let h = 0; h < 0x10000; h++) {
      const v = fromHalfBits(h);
      if (Number.isNaN(v)) continue;
      assert.equal(toHalfBits(v), h, `half 0x${h.toString(16)} (${v})`);
    }
  });

  it('takes a tensor at exactly the rank and element limits, and refuses one past either', () => {
    const meta = { name: 'x', type: 'float32' as const, datatype: 'FP32' };
    const at = { maxElements: 100, maxRank: 16 };
    assert.equal(checkShape(meta, new Array(16).fill(1), at), 1);
    assert.equal(codeOf(() => checkShape(meta, new Array(17).fill(1), at)), 'BAD_TENSOR_RANK');
    assert.equal(checkShape(meta, [10, 10], at), 100);
    assert.equal(codeOf(() => checkShape(meta, [101], at)), 'TENSOR_TOO_LARGE');
  });

  it('takes every integer datatype\'s whole range, and refuses one past either end', () => {
    const ranges: Array<[OrtType, unknown, unknown, unknown, unknown]> = [
      ['int8', -128, 127, -129, 128], ['uint8', 0, 255, -1, 256],
      ['int16', -32768, 32767, -32769, 32768], ['uint16', 0, 65535, -1, 65536],
      ['int32', -(2 ** 31), 2 ** 31 - 1, -(2 ** 31) - 1, 2 ** 31], ['uint32', 0, 2 ** 32 - 1, -1, 2 ** 32],
      ['int64', '-9223372036854775808', '9223372036854775807', '-9223372036854775809', '9223372036854775808'],
      ['uint64', 0, '18446744073709551615', -1, '18446744073709551616'],
    ];
    for (const [type, lo, hi, below, above] of ranges) {
      assert.deepEqual(encodeData(type, decodeData('x', type, [2], 2, [lo, hi])).map(String), [String(lo), String(hi)], type);
      for (const v of [below, above]) assert.equal(codeOf(() => decodeData('x', type, [1], 1, [v])), 'BAD_TENSOR_VALUE', `${type} ${String(v)}`);
    }
  });

  it('reads a 64-bit integer given as a string only as plain digits, with at most a leading minus', () => {
    for (const type of ['int64', 'uint64'] as const) {
      assert.deepEqual(encodeData(type, decodeData('x', type, [1], 1, ['12'])), [12], type);
      for (const v of ['+5', ' 5', '5 ', '0x10', '5.0', '1e3', '']) {
        assert.equal(codeOf(() => decodeData('x', type, [1], 1, [v])), 'BAD_TENSOR_VALUE', `${type} ${JSON.stringify(v)}`);
      }
    }
  });

  it('numbers JSON Lines rows by the line they are on, blank lines included', () => {
    assert.deepEqual(parseJsonLines('[1]\n\n  \r\n[2]\r\n[3]\n\n', JSON.parse), { values: [[1], [2], [3]], lineNumbers: [1, 4, 5] });
    assert.throws(() => parseJsonLines('[1]\n\n[2', JSON.parse), { code: 'BAD_JSON', message: /^line 3 of the JSON Lines body is not valid JSON: / });
  });

  it('reads BYTES binary tensor data exactly: no bytes left after the elements, no NUL inside one', () => {
    assert.deepEqual(decodeBinaryData('x', 'string', 2, toBytes('string', ['a', 'bc'])), ['a', 'bc']);
    assert.throws(() => decodeBinaryData('x', 'string', 1, Buffer.concat([toBytes('string', ['a']), Buffer.from([0])])),
      { code: 'DATA_LENGTH_MISMATCH', message: "input 'x': 1 bytes of binary data are left after its 1 elements" });
    assert.throws(() => decodeBinaryData('x', 'string', 1, toBytes('string', ['a\u0000b'])),
      { code: 'BAD_TENSOR_VALUE', message: "input 'x': element 0 holds a NUL character, which onnxruntime would cut the string at" });
  });

  it('answers in the format Accept weighs highest, JSON unless another type outweighs it or is named where JSON is not', () => {
    const format = (accept?: string) => answerFormat({ headers: accept === undefined ? {} : { accept } }).format;
    const csv = (accept?: string) => format(accept) === 'csv';
    assert.equal(csv(), false);
    assert.equal(csv('text/csv'), true);
    assert.equal(csv('TEXT/CSV'), true, 'media types are case-insensitive');
    assert.equal(csv('Text/Csv; charset=utf-8'), true);
    assert.equal(csv('application/json;q=0.1, text/csv'), true);
    assert.equal(csv('text/csv, application/json;q=0'), true);
    assert.equal(csv('text/csv, */*'), true, 'a named type outranks the wildcard');
    assert.equal(csv('text/csv, application/json'), false, 'a tie between the two named types answers JSON');
    assert.equal(csv('text/csv;q=0.5, application/json'), false);
    assert.equal(csv('*/*'), false);
    assert.equal(csv('text/*'), true);
    assert.equal(csv('text/csv;q=0'), false);
    assert.equal(csv('text/plain'), false);
    assert.equal(csv('text/csv, text/csv;q=0'), true, 'a type named twice counts at its higher weight');
    assert.equal(csv('text/csv;q=0, text/csv;q=0.5'), true);
    assert.equal(format('application/jsonlines'), 'jsonlines');
    assert.equal(format('application/x-jsonlines'), 'jsonlines');
    assert.equal(format('application/jsonl, */*;q=0.5'), 'jsonlines');
    assert.equal(format('application/*'), 'json', 'a wildcard tie answers JSON');
    assert.equal(format('application/json, application/jsonlines'), 'json');
    assert.equal(format('application/json;q=0.5, application/jsonlines'), 'jsonlines');
    assert.equal(format('application/jsonlines;q=0.9, text/csv'), 'csv');
    assert.equal(format('text/csv, application/jsonlines'), 'jsonlines', 'two named types at one weight: JSON Lines before CSV');
    const media = (accept: string) => answerFormat({ headers: { accept } }).mediaType;
    assert.equal(media('application/x-jsonlines'), 'application/x-jsonlines', 'the JSON Lines name the client used');
    assert.equal(media('application/jsonl;q=0.5, application/x-jsonlines'), 'application/x-jsonlines');
  });

  it('answers a request that asks for no format (no Accept, a blank one, or only */*) in the default format, and any other as without one', () => {
    const answer = (accept: string | undefined, defaultType: string) => answerFormat({ headers: accept === undefined ? {} : { accept } }, defaultType);
    const json = { format: 'json', mediaType: 'application/json' };
    const csv = { format: 'csv', mediaType: 'text/csv' };
    for (const accept of [undefined, '', ' ', '*/*', '*/*;q=0.5', '*/*, text/plain;q=0']) {
      const label = JSON.stringify(accept);
      assert.deepEqual(answer(accept, 'text/csv'), csv, label);
      assert.deepEqual(answer(accept, 'application/x-jsonlines'), { format: 'jsonlines', mediaType: 'application/x-jsonlines' }, label);
      assert.deepEqual(answer(accept, 'application/json'), json, label);
    }
    // A header that names a format, or matches one by its family, is answered as it was without a default.
    assert.deepEqual(answer('text/csv', 'application/jsonlines'), csv);
    assert.deepEqual(answer('text/*', 'application/jsonlines'), csv);
    assert.deepEqual(answer('application/*', 'text/csv'), json, 'a wildcard tie answers JSON, as before');
    assert.deepEqual(answer('application/json, */*', 'text/csv'), json);
    assert.deepEqual(answer('application/jsonl, */*;q=0.1', 'text/csv'), { format: 'jsonlines', mediaType: 'application/jsonl' });
    // A header that accepts none of the formats gets JSON, which SageMaker's SDK deserializers fall back to.
    assert.deepEqual(answer('application/x-recordio-protobuf', 'text/csv'), json);
    assert.deepEqual(answer('application/x-recordio-protobuf', 'application/jsonlines'), json);
    // NumPy's .npy is a format of its own, asked for by name or set as the default.
    const npy = { format: 'npy', mediaType: 'application/x-npy' };
    assert.deepEqual(answer('application/x-npy', 'text/csv'), npy);
    assert.deepEqual(answer('application/x-npy;q=0.9, application/json;q=0.5', 'application/json'), npy);
    assert.deepEqual(answer('*/*', 'application/x-npy'), npy);
    assert.deepEqual(answer('application/*', 'text/csv'), json, 'JSON comes before .npy on a tie');
    assert.deepEqual(answer('*/*;q=0', 'text/csv'), json);
    // A default the header refuses is not used.
    assert.deepEqual(answer('text/csv;q=0, */*', 'text/csv'), json);
    assert.deepEqual(answer('text/*;q=0, */*', 'text/csv'), json);
  });

  it('reads CSV cells as plain decimal numbers, and 64-bit integers digit for digit', () => {
    const f32 = signature('float32', [-1, 2]);
    const codeFor = (body: string) => codeOf(() => decodeCsv(f32, body, limits));
    for (const bad of ['0x10,1', '0b11,1', '0o17,1', 'Infinity,1', '1e999,1', '-Infinity,1', 'NaN,1', '1,', '1_000,1']) {
      assert.equal(codeFor(bad), 'CSV_BAD_VALUE', bad);
    }
    const [t] = decodeCsv(f32, '+1.5,-2e-3\r\n.5,7.\n\n', limits);
    assert.deepEqual([...(t.data as Float32Array)], [1.5, Math.fround(-2e-3), 0.5, 7]);
    const [big] = decodeCsv(signature('int64', [-1, 2]), '9007199254740993,-9223372036854775808\n+9223372036854775807,0', limits);
    assert.deepEqual([...(big.data as BigInt64Array)], [9007199254740993n, -9223372036854775808n, 9223372036854775807n, 0n]);
    assert.equal(codeOf(() => decodeCsv(signature('uint64', [-1, 1]), '-1', limits)), 'BAD_TENSOR_VALUE');
    assert.equal(codeOf(() => decodeCsv(signature('int64', [-1, 1]), '1.5', limits)), 'BAD_TENSOR_VALUE');
    // A number the datatype cannot hold is named by its row and column, as a cell that is no number is.
    assert.throws(() => decodeCsv(signature('int32', [-1, 3]), '1,2,3\n4,5.5,6\n', limits), { message: "input 'x': CSV row 2, column 2 is 5.5, expected an integer in [-2147483648, 2147483647] for INT32" });
    assert.throws(() => decodeCsv(signature('uint64', [-1, 2]), 'a,b\n1,2\n3,-4\n', limits, { header: true }), /input 'x': CSV row 2, column 2 is "-4", expected an integer in \[0, 18446744073709551615\]/);
    assert.throws(() => decodeCsv(f32, '1,2\n3,4\n5,1e39\n', limits), { message: "input 'x': CSV row 3, column 2 is 1e+39, expected a number within FP32's range (±3.4028235e38)" });
    // An integer datatype takes a cell whose digits after the point, once the exponent moves it, are all 0,
    // and refuses one whose fraction only the rounding to a double took away.
    const i32 = signature('int32', [-1, 5]);
    assert.deepEqual([...(decodeCsv(i32, '1.0,1e3,150e-1,-0.0,0.07e2', limits)[0].data as Int32Array)], [1, 1000, 15, 0, 7]);
    for (const cell of ['1.00000000000000001', '2147483646.9999999999', '1000000000000000001e-18']) {
      assert.throws(() => decodeCsv(signature('int32', [-1, 1]), cell, limits), { code: 'BAD_TENSOR_VALUE', message: `input 'x': CSV row 1, column 1 is "${cell}", expected an integer in [-2147483648, 2147483647] for INT32` });
    }
  });

  it('finds a wrong CSV row before it allocates room for every row of a wide input', () => {
    // 16,384 one-value lines for a 1,024-column input ask for 16 Mi values, within the default limit.
    const wide = signature('float32', [-1, 1024]);
    const body = '1\n'.repeat(16_384);
    const before = process.memoryUsage().heapUsed;
    assert.equal(codeOf(() => decodeCsv(wide, body, { maxElements: 16 * 1024 * 1024, maxRank: 8 })), 'CSV_COLUMN_COUNT');
    const grew = process.memoryUsage().heapUsed - before;
    assert.ok(grew < 32 * 1024 * 1024, `refusing a 32 kB body grew the heap by ${(grew / 1024 / 1024).toFixed(0)} MB`);
    // The first wrong row is still the one named, whatever is wrong with the rows after it.
    const three = signature('float32', [-1, 3]);
    assert.throws(() => decodeCsv(three, '1,2,3\n1,x,3\n1\n', limits), /CSV row 2, column 2 is "x"/);
    assert.throws(() => decodeCsv(three, '1,2,3\n1,2\n1,x,3\n', limits), /CSV row 2 has 2 columns/);
    assert.throws(() => decodeCsv(three, '1,,3\n', limits), /CSV row 1, column 2 is ""/);
    // A blank line among the rows is named as blank, for a one-column input too (not as a row of one empty value);
    // blank lines at the end are skipped.
    assert.throws(() => decodeCsv(three, '1,2,3\n\n4,5,6\n', limits), { code: 'CSV_COLUMN_COUNT', message: "CSV row 2 is blank; every row needs 3 values for input 'x' ([-1, 3]), and blank lines are skipped only at the end of the body" });
    assert.throws(() => decodeCsv(signature('float32', [-1, 1]), '\r\n1\n', limits), { code: 'CSV_COLUMN_COUNT', message: /^CSV row 1 is blank; every row needs 1 value for/ });
    assert.equal(decodeCsv(three, '1,2,3\n\n \r\n', limits)[0].dims[0], 1);
  });

  it('reads a quoted CSV cell (RFC 4180, as csv.QUOTE_ALL writes it) as the number inside the quotes', () => {
    const three = signature('float32', [-1, 3]);
    assert.deepEqual([...(decodeCsv(three, '"1","2.5"," 3 "\r\n4,"5e1",6\n', limits)[0].data as Float32Array)], [1, 2.5, 3, 4, 50, 6]);
    assert.deepEqual([...(decodeCsv(signature('int64', [-1, 1]), '"9007199254740993"\n', limits)[0].data as BigInt64Array)], [9007199254740993n]);
    // What is inside the quotes is held to the same rules; a quoted comma splits the row as before.
    assert.throws(() => decodeCsv(three, '"1","x",3\n', limits), /CSV row 1, column 2 is "\\"x\\"", not a finite decimal number/);
    assert.throws(() => decodeCsv(three, '"","2",3\n', limits), /CSV row 1, column 1 is "\\"\\"", not a finite decimal number/);
    assert.equal(codeOf(() => decodeCsv(three, '"1,5",2,3\n', limits)), 'CSV_COLUMN_COUNT');
  });

  it('refuses rows of the wrong length even when their values add up to the tensor\'s, naming the first wrong row', () => {
    const two = signature('float32', [-1, 2]);
    assert.deepEqual([...(decodeInstances(two, [[1, 2], [3, 4]], limits)[0].data as Float32Array)], [1, 2, 3, 4]);
    // Four values for two rows of two: flattened, they would make [[1, 2], [3, 4]] from rows the client did not send.
    assert.throws(() => decodeInstances(two, [[1, 2, 3], [4]], limits), (e) => e instanceof InferenceError && e.code === 'BAD_INSTANCES' && /^instance 0: rows for input 'x' must each have shape \[2\]/.test(e.message));
    assert.throws(() => decodeInstances(two, [[1, 2], [3], [4, 5, 6]], limits), /instance 1: rows for input 'x' must each have shape \[2\]/);
  });

  it('writes CSV answers with RFC 4180 quoting, 64-bit integers as bare digits, and a scalar output as one row', () => {
    const strings: WireTensor = { name: 's', type: 'string', dims: [1, 6], data: ['say "hi", ok', 'C:\\dir', 'two\nlines', 'carriage\rreturn', 'crlf\r\n', 'plain'] };
    const ints: WireTensor = { name: 'i', type: 'int64', dims: [1, 1], data: new BigInt64Array([9223372036854775807n]) };
    assert.equal(encodeCsv([strings, ints]), '"say ""hi"", ok",C:\\dir,"two\nlines","carriage\rreturn","crlf\r\n",plain,9223372036854775807\n');
    assert.equal(encodeCsv([{ name: 'x', type: 'float32', dims: [], data: new Float32Array([6]) }]), '6\n');
    const rowsAndScalar: WireTensor[] = [{ name: 'y', type: 'float32', dims: [3, 1], data: new Float32Array([1, 2, 3]) }, { name: 'total', type: 'float32', dims: [], data: new Float32Array([6]) }];
    assert.equal(encodeCsv(rowsAndScalar), '1,6\n2,6\n3,6\n', 'a scalar output is repeated on every row');
    assert.equal(encodeCsv([...rowsAndScalar].reverse()), '6,1\n6,2\n6,3\n');
    assert.deepEqual(encodePredictions(rowsAndScalar), [{ y: [1], total: 6 }, { y: [2], total: 6 }, { y: [3], total: 6 }]);
  });
});

describe('values the server refuses instead of changing', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const infer = async (spec: ModelSpec, datatype: string, data: unknown[]) => {
    const started = await listening({ modelDir: modelDir(spec.name, spec) });
    app = started.app;
    return request(started.port, 'POST', `/v2/models/${spec.name}/infer`, { inputs: [{ name: 'x', shape: [1, data.length], datatype, data }] });
  };

  it('INT64 beyond ±2^53 as a JSON number (already rounded by JSON parsing)', async () => {
    const spec = identity('int64', ['batch', 'n']);
    const started = await listening({ modelDir: modelDir(spec.name, spec) });
    app = started.app;
    // 2^53 + 1 as a JSON number: JSON parsing turns it into 2^53.
    const res = await request(started.port, 'POST', '/v2/models/id-int64/infer', '{"inputs":[{"name":"x","shape":[1,2],"datatype":"INT64","data":[9007199254740993,"9007199254740993"]}]}', { 'content-type': 'application/json' });
    assert.equal(res.status, 400);
    assert.equal(res.json().code, 'BAD_TENSOR_VALUE');
    assert.match(res.json().error, /element 0 is 9007199254740992, expected an integer in \[-9223372036854775808, 9223372036854775807\] for INT64 \(a JSON number from -\(2\^53 - 1\) to 2\^53 - 1, or a string of digits: JSON parsing rounds a larger number, so its value here may differ from what was sent\)/);
    const ok = await request((app!.server.address() as { port: number }).port, 'POST', '/v2/models/id-int64/infer', { inputs: [{ name: 'x', shape: [1, 2], datatype: 'INT64', data: [9007199254740991, '9007199254740993'] }] });
    assert.deepEqual(ok.json().outputs[0].data, [9007199254740991, '9007199254740993']);
  });

  it('BYTES with a NUL character or an unpaired surrogate', async () => {
    const res = await infer(identity('string', ['batch', 'n']), 'BYTES', ['abc\u0000def', 'ok']);
    assert.equal(res.status, 400);
    assert.match(res.json().error, /element 0 .* expected a string for BYTES, without NUL characters or unpaired surrogates/);
    const port = (app!.server.address() as { port: number }).port;
    const lone = await request(port, 'POST', '/v2/models/id-string/infer', `{"inputs":[{"name":"x","shape":[1,1],"datatype":"BYTES","data":["\\ud800x"]}]}`, { 'content-type': 'application/json' });
    assert.equal(lone.status, 400, lone.body);
    const fine = await request(port, 'POST', '/v2/models/id-string/infer', { inputs: [{ name: 'x', shape: [1, 3], datatype: 'BYTES', data: ['', 'é😀', 'a,b'] }] });
    assert.deepEqual(fine.json().outputs[0].data, ['', 'é😀', 'a,b']);
  });

  it('floats beyond the datatype range', async () => {
    const res = await infer(identity('float32'), 'FP32', [1e39, 0]);
    assert.equal(res.status, 400);
    assert.match(res.json().error, /element 0 is 1e\+39, expected a number within FP32's range/);
    const port = (app!.server.address() as { port: number }).port;
    const fp64 = await request(port, 'POST', '/v2/models/id-float32/infer', '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1e999,0]}]}', { 'content-type': 'application/json' });
    assert.equal(fp64.status, 400);
    await app!.close();
    const half = await infer(identity('float16'), 'FP16', [65520, 1]);
    assert.equal(half.status, 400);
    assert.match(half.json().error, /expected a number within FP16's range \(±65504\)/);
  });

  it('a CSV cell with a fraction that a double would round away, for an integer datatype', async () => {
    const spec = identity('int64', ['batch', 2]);
    const started = await listening({ modelDir: modelDir(spec.name, spec) });
    app = started.app;
    // 2^52 + 0.5: as a double it is 2^52, an integer.
    const res = await request(started.port, 'POST', '/invocations', '1,4503599627370496.5\n', { 'content-type': 'text/csv', accept: 'text/csv' });
    assert.equal(res.status, 400, res.body);
    assert.equal(res.json().code, 'BAD_TENSOR_VALUE');
    assert.match(res.json().error, /^input 'x': CSV row 1, column 2 is "4503599627370496.5", expected an integer in \[-9223372036854775808, 9223372036854775807\] for INT64/);
    // A fraction or exponent that leaves an integer is one.
    const ok = await request(started.port, 'POST', '/invocations', '4503599627370496.000,1.5e1\n', { 'content-type': 'text/csv', accept: 'text/csv' });
    assert.equal(ok.body, '4503599627370496,15\n');
  });

  it('a JSON number beyond the double range, which JSON parsing makes infinite, is named as such, not as null', async () => {
    const spec = identity('float64', ['batch', 'n']);
    const started = await listening({ modelDir: modelDir(spec.name, spec) });
    app = started.app;
    const oip = await request(started.port, 'POST', '/v2/models/id-float64/infer', '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[1,-1e400]}]}', { 'content-type': 'application/json' });
    assert.equal(oip.status, 400, oip.body);
    assert.deepEqual(oip.json(), { code: 'BAD_TENSOR_VALUE', error: "input 'x': element 1 is -Infinity (JSON parsing reads a number beyond ±1.7976931348623157e308 as infinite), expected a finite number for FP64" });
    const rows = await request(started.port, 'POST', '/invocations', '{"instances":[[1e999,0]]}', { 'content-type': 'application/json' });
    assert.equal(rows.json().error, "instance 0: input 'x': element 0 is Infinity (JSON parsing reads a number beyond ±1.7976931348623157e308 as infinite), expected a finite number for FP64");
    // A null the client did send is still named null.
    const sentNull = await request(started.port, 'POST', '/invocations', { instances: [[null, 0]] });
    assert.match(sentNull.json().error, /element 0 is null, expected a finite number for FP64$/);
  });

  it('inputs that disagree on a dimension the model names alike (a client error, not an onnxruntime failure)', async () => {
    const spec: ModelSpec = {
      name: 'add-k',
      inputs: [{ name: 'a', type: 'float32', shape: ['n', 'k'] }, { name: 'b', type: 'float32', shape: ['n', 'k'] }],
      outputs: [{ name: 'c', type: 'float32', shape: ['n', 'k'] }],
      nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['c'] }],
    };
    const started = await listening({ modelDir: modelDir(spec.name, spec) });
    app = started.app;
    const oip = await request(started.port, 'POST', '/v2/models/add-k/infer', { inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 2], data: [1, 2] }, { name: 'b', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
    assert.equal(oip.status, 400, oip.body);
    assert.deepEqual(oip.json(), { code: 'BAD_TENSOR_SHAPE', error: "inputs disagree on dimension 'k': 'a' has 2 on axis 1, 'b' has 3 on axis 1" });
    const rows = await request(started.port, 'POST', '/invocations', { instances: [{ a: [1, 2], b: [1, 2, 3] }] });
    assert.equal(rows.status, 400, rows.body);
    assert.equal(rows.json().code, 'BAD_TENSOR_SHAPE');
    const ok = await request(started.port, 'POST', '/invocations', { instances: [{ a: [1, 2], b: [10, 20] }] });
    assert.deepEqual(ok.json().predictions, [[11, 22]]);
  });

  it('an input named like an object built-in (toString) is missing unless the instance has it', async () => {
    const spec: ModelSpec = {
      name: 'builtin-name',
      inputs: [{ name: 'toString', type: 'float32', shape: ['n', 2] }, { name: 'b', type: 'float32', shape: ['n', 2] }],
      outputs: [{ name: 'c', type: 'float32', shape: ['n', 2] }],
      nodes: [{ op: 'Add', inputs: ['toString', 'b'], outputs: ['c'] }],
    };
    const started = await listening({ modelDir: modelDir(spec.name, spec) });
    app = started.app;
    const missing = await request(started.port, 'POST', '/invocations', { instances: [{ b: [1, 2] }] });
    assert.deepEqual(missing.json(), { code: 'MISSING_INPUT', error: "instance 0 has no value for input 'toString'; the model needs 'toString', 'b'; it has the keys [\"b\"]" });
    const ok = await request(started.port, 'POST', '/invocations', { instances: [{ toString: [1, 2], b: [10, 20] }] });
    assert.deepEqual(ok.json().predictions, [[11, 22]]);
  });
});

describe('values the server cannot keep (the README says which)', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a BYTES output that is not UTF-8 comes back with U+FFFD, as onnxruntime-node decodes it, in JSON and binary answers alike', async () => {
    const spec: ModelSpec = {
      name: 'const-bytes',
      inputs: [{ name: 'x', type: 'float32', shape: [1] }],
      outputs: [{ name: 'z', type: 'float32', shape: [1] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['z'] }],
    };
    const dir = modelDir(spec.name, spec);
    const model = onnx.ModelProto.decode(fs.readFileSync(path.join(dir, 'model.onnx')));
    // A constant BYTES output holding 0xff 'a', which is not UTF-8.
    const value = { dims: [2], dataType: onnx.TensorProto.DataType.STRING, stringData: [Buffer.from([0xff, 0x61]), Buffer.from('ok')] };
    model.graph!.node!.push({ opType: 'Constant', output: ['y'], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: value }] });
    model.graph!.output!.push({ name: 'y', type: { tensorType: { elemType: onnx.TensorProto.DataType.STRING, shape: { dim: [{ dimValue: 2 }] } } } });
    fs.writeFileSync(path.join(dir, 'model.onnx'), onnx.ModelProto.encode(model).finish());
    const started = await listening({ modelDir: dir });
    app = started.app;
    const inputs = [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }];
    const json = await request(started.port, 'POST', '/v2/models/const-bytes/infer', { inputs, outputs: [{ name: 'y' }] });
    assert.deepEqual(json.json().outputs[0].data, ['\ufffda', 'ok']);
    const head = Buffer.from(JSON.stringify({ inputs, outputs: [{ name: 'y', parameters: { binary_data: true } }] }));
    const binary = await request(started.port, 'POST', '/v2/models/const-bytes/infer', head, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length) });
    const bytes = binary.raw.subarray(Number(binary.headers['inference-header-content-length']));
    assert.deepEqual(bytes, toBytes('string', ['\ufffda', 'ok']), 'EF BF BD 61, not FF 61');
  });

  it('FP16 NaN and infinities come back as null in every JSON answer and by name in CSV, as FP32 and FP64 do, and -0 as 0', async () => {
    const spec: ModelSpec = {
      name: 'div-fp16',
      inputs: [{ name: 'a', type: 'float16', shape: ['batch', 4] }, { name: 'b', type: 'float16', shape: ['batch', 4] }],
      outputs: [{ name: 'y', type: 'float16', shape: ['batch', 4] }],
      nodes: [{ op: 'Div', inputs: ['a', 'b'], outputs: ['y'] }],
    };
    const started = await listening({ modelDir: modelDir(spec.name, spec) });
    app = started.app;
    const a = [0, 1, -1, 0];
    const b = [0, 0, 0, -1];
    const oip = await request(started.port, 'POST', '/v2/models/div-fp16/infer', { inputs: [{ name: 'a', shape: [1, 4], datatype: 'FP16', data: a }, { name: 'b', shape: [1, 4], datatype: 'FP16', data: b }] });
    assert.deepEqual(oip.json().outputs[0].data, [null, null, null, 0]);
    const instances = { instances: [{ a, b }] };
    assert.deepEqual((await request(started.port, 'POST', '/invocations', instances)).json().predictions, [[null, null, null, 0]]);
    assert.equal((await request(started.port, 'POST', '/invocations', instances, { accept: 'application/jsonlines' })).body, '[null,null,null,0]\n');
    assert.equal((await request(started.port, 'POST', '/invocations', instances, { accept: 'text/csv' })).body, 'NaN,Infinity,-Infinity,0\n');
  });
});
