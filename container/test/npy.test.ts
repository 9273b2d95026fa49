import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNpyRows, encodeNpy, encodeNpyRows, npyTensorData, parseNpy } from '../src/npy';
import { InferenceError } from '../src/errors';
import { parsePythonLiteral, PyLiteralError } from '../src/pyliteral';
import { DEFAULT_TENSOR_LIMITS, fromHalfBits, type ModelSignature, type TensorMeta } from '../src/tensors';
import { npy, npyWithHeader } from './helpers';

const bytes = (typed: ArrayBufferView) => new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);

function signature(...inputs: Array<Pick<TensorMeta, 'name' | 'type' | 'shape'>>): ModelSignature {
  const meta = (m: Pick<TensorMeta, 'name' | 'type' | 'shape'>) => ({ ...m, datatype: 'FP32' }) as TensorMeta;
  return { inputs: inputs.map(meta), outputs: [meta({ name: 'y', type: 'float32', shape: [-1] })] } as unknown as ModelSignature;
}

const code = (c: string, message?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof InferenceError, String(e));
  assert.equal(e.code, c, e.message);
  if (message) assert.match(e.message, message);
  return true;
};

describe('NumPy .npy bodies', () => {
  it('reads format versions 1.0 and 2.0, and the header fields NumPy writes', () => {
    const data = bytes(new Float32Array([1, 2, 3, 4, 5, 6]));
    for (const version of [1, 2]) {
      const a = parseNpy(npy('<f4', [2, 3], data, { version }));
      assert.deepEqual([a.kind, a.size, a.byteOrder, a.fortranOrder, a.shape], ['f', 4, '<', false, [2, 3]]);
      assert.deepEqual([...a.data], [...data]);
    }
    assert.deepEqual(parseNpy(npy('<f8', [], bytes(new Float64Array([7])))).shape, []);
    assert.deepEqual(parseNpy(npy('|b1', [3], new Uint8Array([1, 0, 1]))).byteOrder, '|');
  });

  it('converts other dtypes, byte orders and Fortran order to the input\'s type, checking each value', () => {
    const want = [1.5, -2, 3, 4.25, 5, 6];
    // NumPy's default float is float64; a client seldom converts to float32 first.
    assert.deepEqual([...npyTensorData('x', 'float32', parseNpy(npy('<f8', [2, 3], bytes(new Float64Array(want)))))], want);
    // Big-endian: the same values.
    const big = Buffer.alloc(48);
    want.forEach((v, i) => big.writeDoubleBE(v, i * 8));
    assert.deepEqual([...npyTensorData('x', 'float32', parseNpy(npy('>f8', [2, 3], big)))], want);
    // Fortran order holds the columns one after another: [[1.5, -2, 3], [4.25, 5, 6]] as 1.5, 4.25, -2, 5, 3, 6.
    const columns = new Float32Array([1.5, 4.25, -2, 5, 3, 6]);
    assert.deepEqual([...npyTensorData('x', 'float32', parseNpy(npy('<f4', [2, 3], bytes(columns), { fortran: true })))], want);
    const cube = Array.from({ length: 24 }, (_, i) => i); // shape [2, 3, 4], element [a][b][c] = 12a + 4b + c
    const fortranCube = new Float64Array(24);
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 4; c++) fortranCube[a + 2 * b + 6 * c] = 12 * a + 4 * b + c;
    assert.deepEqual([...npyTensorData('x', 'float64', parseNpy(npy('<f8', [2, 3, 4], bytes(fortranCube), { fortran: true })))], cube);
    // Integers: to float, to int64 (beyond 2^53 exactly), and refused where the type cannot hold them.
    assert.deepEqual([...npyTensorData('x', 'float32', parseNpy(npy('<i8', [2], bytes(new BigInt64Array([3n, -4n])))))], [3, -4]);
    const large = 2n ** 60n + 1n;
    assert.deepEqual([...npyTensorData('x', 'int64', parseNpy(npy('<u8', [1], bytes(new BigUint64Array([large])))))], [large]);
    assert.deepEqual([...npyTensorData('x', 'int64', parseNpy(npy('<i8', [1], bytes(new BigInt64Array([large])))))], [large], 'the same type is copied');
    assert.throws(() => npyTensorData('x', 'uint8', parseNpy(npy('<i4', [2], bytes(new Int32Array([1, 300]))))), code('BAD_TENSOR_VALUE', /^input 'x': element 1 is 300, expected an integer in \[0, 255\]/));
    assert.throws(() => npyTensorData('x', 'int32', parseNpy(npy('<f8', [1], bytes(new Float64Array([1.5]))))), code('BAD_TENSOR_VALUE', /element 0 is 1.5/));
    assert.throws(() => npyTensorData('x', 'float32', parseNpy(npy('<f8', [1], bytes(new Float64Array([1e300]))))), code('BAD_TENSOR_VALUE', /FP32's range/));
    // Booleans: bytes 0 and 1 only.
    assert.deepEqual([...npyTensorData('x', 'bool', parseNpy(npy('|b1', [2], new Uint8Array([1, 0]))))], [1, 0]);
    assert.throws(() => npyTensorData('x', 'bool', parseNpy(npy('|b1', [2], new Uint8Array([1, 2])))), code('BAD_TENSOR_VALUE', /element 1 is the byte 2/));
    assert.throws(() => npyTensorData('x', 'float32', parseNpy(npy('|b1', [1], new Uint8Array([1])))), code('BAD_TENSOR_VALUE', /element 0 is true/));
    // Converted element by element (Fortran order), a byte other than 0 or 1 is still refused, not read as true.
    assert.deepEqual([...npyTensorData('x', 'bool', parseNpy(npy('|b1', [2, 1], new Uint8Array([1, 0]), { fortran: true })))], [1, 0]);
    assert.throws(() => npyTensorData('x', 'bool', parseNpy(npy('|b1', [2, 1], new Uint8Array([1, 2]), { fortran: true }))), code('BAD_TENSOR_VALUE', /element 1 is the byte 2/));
    // Sent to a number input, such a byte is refused too, not read as the number 2.
    assert.throws(() => npyTensorData('x', 'float32', parseNpy(npy('|b1', [2], new Uint8Array([2, 3])))), code('BAD_TENSOR_VALUE', /element 0 is the byte 2; a NumPy bool is 0 or 1/));
    // NaN and the infinities (NumPy's mark of a missing value) pass between float widths, as a same-type array
    // passes them: NumPy's default float64 to a float32 input was refused while float32 was taken.
    const specials = [NaN, Infinity, -Infinity, 1.5];
    for (const type of ['float16', 'float32', 'float64'] as const) {
      for (const [descr, data] of [['<f8', bytes(new Float64Array(specials))], ['<f4', bytes(new Float32Array(specials))], ['<f2', bytes(new Uint16Array([0x7e00, 0x7c00, 0xfc00, 0x3e00]))]] as const) {
        const got = [...npyTensorData('x', type, parseNpy(npy(descr, [4], data)))].map((v) => (type === 'float16' ? fromHalfBits(v as number) : v));
        assert.deepEqual(got, specials, `${descr} to ${type}`);
      }
    }
    assert.throws(() => npyTensorData('x', 'int32', parseNpy(npy('<f8', [1], bytes(new Float64Array([NaN]))))), code('BAD_TENSOR_VALUE', /element 0 is NaN/));
    // Half precision read as numbers.
    assert.deepEqual([...npyTensorData('x', 'float32', parseNpy(npy('<f2', [2], bytes(new Uint16Array([0x3c00, 0xc000])))))], [1, -2]);
  });

  it('reads text arrays (UTF-32 U and byte S, padded with NULs) for a BYTES input', () => {
    const u = Buffer.alloc(2 * 3 * 4);
    [...'hé'].forEach((ch, i) => u.writeUInt32LE(ch.codePointAt(0)!, i * 4));
    [...'🙂ab'].forEach((ch, i) => u.writeUInt32LE(ch.codePointAt(0)!, 12 + i * 4));
    assert.deepEqual(npyTensorData('x', 'string', parseNpy(npy('<U3', [2], u))), ['hé', '🙂ab']);
    const s = Buffer.from('ab\0\0cdef', 'latin1');
    assert.deepEqual(npyTensorData('x', 'string', parseNpy(npy('|S4', [2], s))), ['ab', 'cdef']);
    assert.throws(() => npyTensorData('x', 'string', parseNpy(npy('|S2', [1], Buffer.from([0xff, 0xfe])))), code('BAD_TENSOR_VALUE', /element 0 is not valid UTF-8/));
    const surrogate = Buffer.alloc(4);
    surrogate.writeUInt32LE(0xd800, 0);
    assert.throws(() => npyTensorData('x', 'string', parseNpy(npy('<U1', [1], surrogate))), code('BAD_TENSOR_VALUE', /not a Unicode scalar value/));
  });

  it('refuses what is not an .npy array it reads, saying what is wrong', () => {
    const f4 = bytes(new Float32Array([1, 2]));
    assert.throws(() => parseNpy(Buffer.from('{"instances": [[1, 2]]}')), code('BAD_NPY', /^the body is not a NumPy \.npy array: it must start with the magic string/));
    assert.throws(() => parseNpy(npy('<f4', [2], f4).subarray(0, 20)), code('BAD_NPY', /^the \.npy header is \d+ bytes long, but the body ends/));
    assert.throws(() => parseNpy(npy('<f4', [3], f4)), code('BAD_NPY', /^the \.npy array of shape \[3\] and dtype '<f4' needs 12 bytes of data; the body holds 8$/));
    assert.throws(() => parseNpy(npy('|O', [2], new Uint8Array(16))), code('BAD_NPY', /not Python objects, which would need pickle$/));
    assert.throws(() => parseNpy(npy('<c8', [1], new Uint8Array(8))), code('BAD_NPY', /not complex numbers$/));
    assert.throws(() => parseNpy(npy('<f3', [1], new Uint8Array(3))), code('BAD_NPY', /'<f3' has 3 bytes per element/));
    const structured = Buffer.from(npy('<f4', [1], f4.subarray(0, 4)).toString('latin1').replace("'descr': '<f4'", "'descr': [('a', '<f4')]"), 'latin1');
    assert.throws(() => parseNpy(structured), code('BAD_NPY', /structured dtype/));
    const v9 = npy('<f4', [2], f4);
    v9[6] = 9;
    assert.throws(() => parseNpy(v9), code('BAD_NPY', /^the \.npy format version is 9\.0/));
  });

  it('reads every header NumPy reads: the Python literal as ast.literal_eval reads it, a key written twice keeping its last value', () => {
    const two = bytes(new Float32Array([1, 2]));
    const read = (header: string, data: Uint8Array = two, version = 1) => {
      const a = parseNpy(npyWithHeader(header, data, { version }));
      return [a.descr, a.fortranOrder, a.shape];
    };
    // What NumPy writes, and what its reader takes from other writers.
    assert.deepEqual(read('{"descr": "<f4", "fortran_order": False, "shape": (2,)}'), ['<f4', false, [2]], 'double quotes, no trailing comma');
    assert.deepEqual(read("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", two.subarray(0, 4)), ['<f4', false, []], 'a scalar');
    assert.deepEqual(read("\t{ 'shape' :(\n2 , ) ,'fortran_order':True,\r\n'descr':'<f4' }\n\n  \n"), ['<f4', true, [2]], 'whitespace and line breaks, keys in any order');
    assert.deepEqual(read("{'descr': '<f4', 'fortran_order': False, 'shape': (0x2,), }"), ['<f4', false, [2]], 'any Python int literal');
    assert.deepEqual(read("{'descr': '<f4', 'fortran_order': False, 'shape': (1_0,), }", bytes(new Float32Array(10))), ['<f4', false, [10]]);
    assert.deepEqual(read("{'descr': '<f4', 'fortran_order': False, 'shape': ((2,)), }"), ['<f4', false, [2]], 'a parenthesised tuple');
    assert.deepEqual(read("{'descr': '<' 'f4', 'fortran_order': False, 'shape': (2,)}"), ['<f4', false, [2]], 'adjacent strings are joined');
    assert.deepEqual(read("{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (2,)}"), ['<f4', false, [2]], 'escapes');
    assert.deepEqual(read("{'descr': '''<f4''', 'fortran_order': False, 'shape': (2,)}"), ['<f4', false, [2]], 'triple quotes');
    assert.deepEqual(read("{'descr': '<f4', 'fortran_order': False, # 'shape': (9,)\n 'shape': (2,)}"), ['<f4', false, [2]], 'a comment is not read');
    assert.deepEqual(read("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), 'descr': '<f4', 'fortran_order': False}"), ['<f4', false, [2]], 'the last value of a key wins');
    assert.deepEqual(read("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,)}", two, 2), ['<f4', false, [2]], 'a Python 2 long in format 2.0');
    assert.deepEqual(read("{'descr': '<U1', 'fortran_order': False, 'shape': (1,), }", bytes(new Uint32Array([0xe9])), 3), ['<U1', false, [1]], 'format 3.0');
  });

  it('reads Python literals as literal_eval does at its edges: unknown escapes keep their backslash, brackets nest 200 deep, no NUL anywhere', () => {
    assert.deepEqual(parsePythonLiteral(String.raw`'<f\8'`), { type: 'str', value: '<f\\8' }, "Python keeps the backslash of an escape it does not know ('\\8' is no octal digit)");
    const two = bytes(new Float32Array([1, 2]));
    assert.throws(() => parseNpy(npyWithHeader(String.raw`{'descr': '<f\8', 'fortran_order': False, 'shape': (1,)}`, two)), code('BAD_NPY', /dtype is '<f\\8'/), 'not <f8');
    const nested = (n: number) => `${'('.repeat(n)}${')'.repeat(n)}`;
    assert.equal(parsePythonLiteral(nested(200)).type, 'tuple');
    assert.throws(() => parsePythonLiteral(nested(201)), (e: unknown) => e instanceof PyLiteralError && /^brackets nested more than 200 deep/.test(e.message));
    // Python source holds no NUL character, not even in a comment after the literal.
    assert.throws(() => parsePythonLiteral('1 # \0'), (e: unknown) => e instanceof PyLiteralError && /^a NUL character/.test(e.message));
    assert.throws(() => parseNpy(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} # \0", two)), code('BAD_NPY', /not a Python literal \(a NUL character/));
  });

  it('refuses a header NumPy refuses, naming what is wrong and quoting the header', () => {
    const two = bytes(new Float32Array([1, 2]));
    const refused = (header: string | Buffer, message: RegExp, version = 1) => assert.throws(() => parseNpy(npyWithHeader(header, two, { version })), code('BAD_NPY', message));
    refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", /^the \.npy header has the keys 'descr', 'fortran_order', 'shape', 'extra'; it must have exactly 'descr', 'fortran_order' and 'shape': \{'descr'/);
    refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 'descr'}", /the keys 'descr', 'fortran_order', 'shape', 'x';/);
    refused("{'descr': '<f4', 'fortran_order': False, 'note': \"'shape': (2,)\"}", /the keys 'descr', 'fortran_order', 'note';/);
    refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 1: 2}", /the keys 'descr', 'fortran_order', 'shape', the number 1;/);
    refused("@{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", /^the \.npy header is not a Python literal \('@', which no literal starts with at character 1\); it must be a dict as NumPy writes it/);
    refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} ; x", /^the \.npy header is not a Python literal \(';' after the literal's end at character 57\)/);
    refused("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", /not a Python literal \(':' where ',' or '\}' was expected at character 32\)/);
    refused("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,)}", /not a Python literal \(the name 'Falsey'/);
    refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,,)}", /not a Python literal \(',', which no literal starts with/);
    refused("{'descr': '<f4', 'fortran_order': False, 'shape': (02,)}", /not a Python literal \(an invalid number '02'/);
    refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,)}", /not a Python literal \(an invalid number '2L'/, 3);
    refused("\n  {'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", /not a Python literal \(an indented line/);
    refused("({'descr': '<f4', 'fortran_order': False, 'shape': (2,)},)", /^the \.npy header is a tuple, not a dict with the keys 'descr', 'fortran_order' and 'shape': \(\{'descr'/);
    refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", /^the \.npy header's 'shape' is the number 2; it must be a tuple of whole numbers, as \(3, 8\), \(3,\) or \(\): \{/);
    refused("{'descr': '<f4', 'fortran_order': False, 'shape': (True, 2)}", /^the \.npy header's 'shape' holds True at position 0; each dimension must be a whole number/);
    refused("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", /'shape' holds the number -2 at position 0/);
    refused("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", /^the \.npy header's 'fortran_order' is the number 0; it must be True or False: \{/);
    refused("{'descr': b'<f4', 'fortran_order': False, 'shape': (2,)}", /^the \.npy header's 'descr' is a bytes string; it must be a dtype string, as '<f4': \{/);
    refused("{'descr': ('<f4', (2,)), 'fortran_order': False, 'shape': (1,)}", /^the \.npy array has a subarray dtype/);
    // NumPy's max_header_size: 10000 characters are read, 10001 are not.
    const longest = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}".padEnd(10_000, ' ');
    assert.deepEqual(parseNpy(npyWithHeader(longest, two, { version: 2, pad: false })).shape, [2]);
    assert.throws(() => parseNpy(npyWithHeader(`${longest} `, two, { version: 2, pad: false })), code('BAD_NPY', /^the \.npy header is 10001 bytes long; NumPy reads headers of up to 10000 characters$/));
    refused(Buffer.concat([Buffer.from("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} #"), Buffer.from([0xff])]), /^the \.npy header of format 3\.0 is not valid UTF-8$/, 3);
    // 'shape': up to 32 dimensions are read, 33 are not.
    const dims = (n: number) => `{'descr': '<f4', 'fortran_order': False, 'shape': (${[...new Array(n - 1).fill(1), 2].join(', ')})}`;
    assert.deepEqual(parseNpy(npyWithHeader(dims(32), two)).shape, [...new Array(31).fill(1), 2]);
    refused(dims(33), /^the \.npy header's 'shape' has 33 dimensions; up to 32 are read: /);
    // Each dimension is read up to 999999999999999 (below 10^15, exact as a JavaScript number); 10^15 is not.
    const empty = new Uint8Array(0);
    assert.deepEqual(parseNpy(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (999999999999999, 0)}", empty)).shape, [999_999_999_999_999, 0]);
    assert.throws(() => parseNpy(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000000, 0)}", empty)),
      code('BAD_NPY', /^the \.npy header's 'shape' holds the number 1000000000000000 at position 0; each dimension must be a whole number from 0 to 999999999999999: \{/));
    // A structured dtype keeps its message; one written over by a plain dtype is not read (the last value wins).
    refused("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (1,)}", /^the \.npy array has a structured dtype \(named fields\); send a plain array$/);
    assert.equal(parseNpy(npyWithHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), 'descr': '<f4'}", two)).descr, '<f4');
    // The header is quoted shortened, whatever its length.
    assert.throws(() => parseNpy(npyWithHeader(`{'descr': '<f4', 'fortran_order': False, 'shape': (2,), '${'k'.repeat(5000)}': 1}`, two)), (e: unknown) => {
      assert.ok(e instanceof InferenceError && e.code === 'BAD_NPY' && e.message.length < 400, String(e));
      return true;
    });
  });

  it('feeds the array as rows of the model\'s one input: rows along the first axis, or one row', () => {
    const sig = signature({ name: 'features', type: 'float32', shape: [-1, 3] });
    const two = decodeNpyRows(sig, npy('<f8', [2, 3], bytes(new Float64Array([1, 2, 3, 4, 5, 6]))), DEFAULT_TENSOR_LIMITS);
    assert.deepEqual(two.map((t) => [t.name, t.type, t.dims, [...t.data]]), [['features', 'float32', [2, 3], [1, 2, 3, 4, 5, 6]]]);
    const one = decodeNpyRows(sig, npy('<f4', [3], bytes(new Float32Array([1, 2, 3]))), DEFAULT_TENSOR_LIMITS);
    assert.deepEqual(one[0].dims, [1, 3]);
    assert.throws(() => decodeNpyRows(sig, npy('<f4', [1, 1, 3], bytes(new Float32Array([1, 2, 3]))), DEFAULT_TENSOR_LIMITS),
      code('BAD_TENSOR_RANK', /^input 'features': the \.npy array has shape \[1, 1, 3\] \(3 dimensions\); the model takes \[batch, 3\]|^input 'features': the \.npy array has shape \[1, 1, 3\] \(3 dimensions\)/));
    assert.throws(() => decodeNpyRows(sig, npy('<f4', [1, 2], bytes(new Float32Array([1, 2]))), DEFAULT_TENSOR_LIMITS), code('BAD_TENSOR_SHAPE', /shape\[1\] is 2, the model expects 3/));
    assert.throws(() => decodeNpyRows(sig, npy('<f4', [0, 3], new Uint8Array(0)), DEFAULT_TENSOR_LIMITS), code('BAD_TENSOR_SHAPE', /shape\[0\] is 0/));
    // The element limit is checked before anything is allocated or converted.
    assert.throws(() => decodeNpyRows(sig, npy('|u1', [4, 3], new Uint8Array(12)), { ...DEFAULT_TENSOR_LIMITS, maxElements: 10 }), code('TENSOR_TOO_LARGE'));
    // Text becomes JavaScript strings: its body is held to the text body limit; numbers may use the whole body limit.
    const words = signature({ name: 'w', type: 'string', shape: [-1] });
    const text = npy('|S4', [3], Buffer.from('abcdefghijkl', 'latin1'));
    assert.deepEqual(decodeNpyRows(words, text, DEFAULT_TENSOR_LIMITS, text.length)[0].data, ['abcd', 'efgh', 'ijkl']);
    assert.throws(() => decodeNpyRows(words, text, DEFAULT_TENSOR_LIMITS, text.length - 1),
      code('PAYLOAD_TOO_LARGE', new RegExp(`^the \\.npy body is a text array \\(dtype '\\|S4'\\) of ${text.length} bytes; .* ${text.length - 1} bytes`)));
    const numbers = npy('<f4', [1, 3], bytes(new Float32Array([1, 2, 3])));
    assert.deepEqual(decodeNpyRows(sig, numbers, DEFAULT_TENSOR_LIMITS, 16)[0].dims, [1, 3]);
    const multi = signature({ name: 'a', type: 'float32', shape: [-1, 1] }, { name: 'b', type: 'float32', shape: [-1, 2] });
    assert.throws(() => decodeNpyRows(multi, npy('<f4', [1, 1], bytes(new Float32Array([1]))), DEFAULT_TENSOR_LIMITS), code('BAD_NPY', /^an \.npy body holds one array, and the model has inputs 'a', 'b'/));
  });

  it('writes an output as NumPy writes an array: format 1.0, little-endian, header padded to 64 bytes', () => {
    const out = encodeNpy({ type: 'float32', dims: [2, 1], data: new Float32Array([0.25, 0.75]) });
    assert.equal(out.subarray(0, 8).toString('latin1'), '\x93NUMPY\x01\x00');
    const headerLength = out.readUInt16LE(8);
    assert.equal((10 + headerLength) % 64, 0);
    assert.match(out.subarray(10, 10 + headerLength).toString('latin1'), /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 1\), \} *\n$/);
    const back = parseNpy(out);
    assert.deepEqual([...npyTensorData('y', 'float32', back)], [0.25, 0.75]);
    // Every type reads back as itself.
    const cases: Array<[Parameters<typeof encodeNpy>[0], unknown[]]> = [
      [{ type: 'int64', dims: [2], data: new BigInt64Array([2n ** 62n, -1n]) }, [2n ** 62n, -1n]],
      [{ type: 'bool', dims: [3], data: new Uint8Array([1, 0, 1]) }, [1, 0, 1]],
      [{ type: 'uint8', dims: [], data: new Uint8Array([200]) }, [200]],
      [{ type: 'string', dims: [2], data: ['fraud', '🙂'] }, ['fraud', '🙂']],
    ];
    for (const [t, values] of cases) {
      const a = parseNpy(encodeNpy(t));
      assert.deepEqual(a.shape, t.dims);
      assert.deepEqual([...npyTensorData('y', t.type, a)], values, t.type);
    }
    assert.match(encodeNpy({ type: 'uint8', dims: [], data: new Uint8Array([1]) }).toString('latin1'), /'shape': \(\), /);
    assert.match(encodeNpy({ type: 'uint8', dims: [1], data: new Uint8Array([1]) }).toString('latin1'), /'shape': \(1,\), /);
  });

  it('writes a text answer at its longest text\'s width, and refuses one whose texts x width passes limits.maxAnswerElements', () => {
    // Two hundred thousand texts: the width is found without spreading them into one call's arguments,
    // which overflowed the stack (a 500 for a text model asked for .npy).
    const many = Array.from({ length: 200_000 }, (_, i) => (i % 2 === 0 ? '🙂' : 'ab'));
    const a = parseNpy(encodeNpyRows({ name: 'y', type: 'string', dims: [many.length], data: many }, many.length, 1_000_000));
    assert.deepEqual([a.descr, a.shape], ['<U2', [200_000]]);
    assert.deepEqual((npyTensorData('y', 'string', a) as string[]).slice(0, 3), ['🙂', 'ab', '🙂']);
    // One long text among short ones: '<U' stores every element at the longest one's width, so 1001
    // texts of up to 1000 characters take 1001000 characters (4 MB), whatever their own lengths.
    const wide = ['x'.repeat(1000), ...new Array<string>(1000).fill('')];
    const tensor = { name: 'y', type: 'string' as const, dims: [wide.length], data: wide };
    assert.equal(parseNpy(encodeNpyRows(tensor, wide.length, 1_001_000)).descr, '<U1000');
    assert.throws(() => encodeNpyRows(tensor, wide.length, 1_000_999), code('ANSWER_TOO_LARGE',
      /^the \.npy answer would hold 1001 texts of up to 1000 characters: an \.npy text array \('<U1000'\) stores every element at the longest one's width, 1001000 characters in all, more than limits\.maxAnswerElements \(1000999\): ask for JSON \(Accept: application\/json\)/));
    // A scalar text output is repeated on every row: each copy counts.
    const scalar = { name: 'y', type: 'string' as const, dims: [], data: ['x'.repeat(100)] };
    assert.deepEqual(parseNpy(encodeNpyRows(scalar, 10, 1000)).shape, [10]);
    assert.throws(() => encodeNpyRows(scalar, 11, 1000), code('ANSWER_TOO_LARGE', /1100 characters in all/));
  });
});
