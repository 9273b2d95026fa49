/**
 * NumPy's `.npy` format (`application/x-npy`), which the SageMaker Python SDK's NumpySerializer sends and
 * its NumpyDeserializer reads (the defaults of its PyTorch and scikit-learn predictors): the
 * magic `\x93NUMPY`, a version, a header (a Python dict literal: `descr`, `fortran_order`, `shape`), then
 * the array's elements. Format versions 1.0, 2.0 and 3.0 are read; 1.0 is written.
 */
import { rowPlan } from './codec';
import { NPY_TYPE } from './config';
import { InferenceError } from './errors';
import { parsePythonLiteral, PyLiteralError, type PyValue } from './pyliteral';
import { checkShape, convertElements, decodeBinaryData, describeShape, encodeBinaryData, elementCount, fromHalfBits, toHalfBits, type ModelSignature, type OrtType, type TensorData, type TensorLimits, type WireTensor } from './tensors';

export { NPY_TYPE };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The header of an `.npy` body and where its elements start. */
export interface NpyArray {
  /** `'<'` little-endian, `'>'` big-endian, `'|'` not applicable (one byte). */
  readonly byteOrder: '<' | '>' | '|';
  /** NumPy's kind: `f` float, `i` signed integer, `u` unsigned integer, `b` boolean, `U` UTF-32 text, `S` bytes. */
  readonly kind: 'f' | 'i' | 'u' | 'b' | 'U' | 'S';
  /** Bytes per element. */
  readonly size: number;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  /** The elements' bytes. */
  readonly data: Uint8Array;
  /** The dtype as the header wrote it (for messages). */
  readonly descr: string;
}

function bad(message: string): InferenceError {
  return new InferenceError('BAD_NPY', message);
}

/** Reads the header of an `.npy` body; the elements are checked against the shape. */
export function parseNpy(body: Uint8Array): NpyArray {
  if (body.length < 10 || MAGIC.some((b, i) => body[i] !== b)) {
    throw bad(`the body is not a NumPy .npy array: it must start with the magic string \\x93NUMPY (${body.length} bytes received)`);
  }
  const major = body[6];
  if (major < 1 || major > 3) throw bad(`the .npy format version is ${major}.${body[7]}; versions 1.0, 2.0 and 3.0 are read`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const start = major === 1 ? 10 : 12;
  if (body.length < start) throw bad(`the .npy body ends inside its header length (${body.length} bytes)`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (start + headerLength > body.length) {
    throw bad(`the .npy header is ${headerLength} bytes long, but the body ends ${start + headerLength - body.length} bytes before it does`);
  }
  const { descr, fortranOrder, shape } = readHeader(body.subarray(start, start + headerLength), major);
  const m = /^([<>|=]?)([fiubUS])(\d{1,6})$/.exec(descr);
  if (!m) {
    throw bad(`the .npy dtype is ${quote(descr)}; the server reads floats (f2, f4, f8), integers (i1 to i8, u1 to u8), booleans (b1) and text (U, S), not ` +
      (descr.includes('O') ? 'Python objects, which would need pickle' : descr.includes('c') ? 'complex numbers' : 'that type'));
  }
  const kind = m[2] as NpyArray['kind'];
  const count = Number(m[3]);
  const size = kind === 'U' ? 4 * count : count;
  const numericSizes: Record<string, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };
  if (kind in numericSizes ? !numericSizes[kind].includes(size) : size === 0) {
    throw bad(`the .npy dtype '${descr}' has ${size} bytes per element, which that kind does not take here`);
  }
  const byteOrder: NpyArray['byteOrder'] = m[1] === '>' ? '>' : size === 1 || kind === 'S' ? '|' : '<';
  const data = body.subarray(start + headerLength);
  const elements = elementCount(shape);
  if (data.length !== elements * size) {
    throw bad(`the .npy array of shape [${shape.join(', ')}] and dtype '${descr}' needs ${elements * size} bytes of data; the body holds ${data.length}`);
  }
  return { byteOrder, kind, size, fortranOrder, shape, data, descr };
}

/**
 * NumPy's `max_header_size`: `np.load` refuses a longer header (in characters) unless the file is trusted
 * with `allow_pickle=True`, as `ast.literal_eval` "is not actually safe for large inputs".
 */
const MAX_HEADER_CHARS = 10_000;
const KEYS = ['descr', 'fortran_order', 'shape'];

/**
 * The header's fields, read as NumPy's `_read_array_header` reads them: the text (latin1 in format 1.0 and
 * 2.0, UTF-8 in 3.0) is a Python literal, read as `ast.literal_eval` reads it; it must be a dict with exactly
 * the keys 'descr', 'fortran_order' and 'shape' (a key written twice keeps its last value, as in Python),
 * 'shape' a tuple of whole numbers and 'fortran_order' True or False.
 */
function readHeader(bytes: Uint8Array, major: number): { descr: string; fortranOrder: boolean; shape: number[] } {
  // A UTF-8 character takes at most 4 bytes: a header longer than that is refused before it is decoded.
  if (bytes.length > MAX_HEADER_CHARS * (major === 3 ? 4 : 1)) throw bad(`the .npy header is ${bytes.length} bytes long; NumPy reads headers of up to ${MAX_HEADER_CHARS} characters`);
  let header: string;
  if (major === 3) {
    try {
      header = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw bad('the .npy header of format 3.0 is not valid UTF-8');
    }
  } else header = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'); // ISO-8859-1, as Python's latin1
  if (header.length > MAX_HEADER_CHARS) {
    let chars = 0;
    for (const _ of header) chars++; // Python counts code points, not UTF-16 units
    if (chars > MAX_HEADER_CHARS) throw bad(`the .npy header is ${chars} characters long; NumPy reads headers of up to ${MAX_HEADER_CHARS}`);
  }
  let d: PyValue;
  try {
    d = parsePythonLiteral(header, { longSuffix: major < 3 });
  } catch (e) {
    if (!(e instanceof PyLiteralError)) throw e;
    throw bad(`the .npy header is not a Python literal (${e.message}); it must be a dict as NumPy writes it, {'descr': '<f4', 'fortran_order': False, 'shape': (3, 8)}: ${shortHeader(header)}`);
  }
  if (d.type !== 'dict') throw bad(`the .npy header is ${describe(d)}, not a dict with the keys 'descr', 'fortran_order' and 'shape': ${shortHeader(header)}`);
  const keys = [...d.entries.keys()];
  if (d.otherKeys.length > 0 || keys.length !== KEYS.length || !KEYS.every((k) => d.entries.has(k))) {
    const named = [...keys.map(quote), ...d.otherKeys.map(describe)];
    throw bad(`the .npy header has the keys ${shorten(named.join(', ') || 'none', 120)}; it must have exactly 'descr', 'fortran_order' and 'shape': ${shortHeader(header)}`);
  }
  const shapeValue = d.entries.get('shape')!;
  if (shapeValue.type !== 'tuple') throw bad(`the .npy header's 'shape' is ${describe(shapeValue)}; it must be a tuple of whole numbers, as (3, 8), (3,) or (): ${shortHeader(header)}`);
  if (shapeValue.items.length > 32) throw bad(`the .npy header's 'shape' has ${shapeValue.items.length} dimensions; up to 32 are read: ${shortHeader(header)}`);
  const shape = shapeValue.items.map((x, n) => {
    if (x.type !== 'int' || x.value < 0n || x.value >= 10n ** 15n) {
      throw bad(`the .npy header's 'shape' holds ${describe(x)} at position ${n}; each dimension must be a whole number from 0 to 999999999999999: ${shortHeader(header)}`);
    }
    return Number(x.value);
  });
  const order = d.entries.get('fortran_order')!;
  if (order.type !== 'bool') throw bad(`the .npy header's 'fortran_order' is ${describe(order)}; it must be True or False: ${shortHeader(header)}`);
  const descr = d.entries.get('descr')!;
  if (descr.type === 'list') throw bad('the .npy array has a structured dtype (named fields); send a plain array');
  if (descr.type === 'tuple') throw bad('the .npy array has a subarray dtype (a (dtype, shape) tuple as its descr); send a plain array of the whole shape');
  if (descr.type !== 'str') throw bad(`the .npy header's 'descr' is ${describe(descr)}; it must be a dtype string, as '<f4': ${shortHeader(header)}`);
  return { descr: descr.value, fortranOrder: order.value, shape };
}

/** A value read from a header, in a few words for a message. */
function describe(v: PyValue): string {
  switch (v.type) {
    case 'str': return `the text ${quote(v.value)}`;
    case 'int': return `the number ${shorten(v.value.toString(), 24)}`;
    case 'bool': return v.value ? 'True' : 'False';
    case 'None': return 'None';
    case 'float': return 'a float';
    case 'complex': return 'a complex number';
    case 'bytes': return 'a bytes string';
    default: return `a ${v.type}`;
  }
}

/** Text in single quotes, shortened, with characters outside printable ASCII written as escapes. */
function quote(text: string): string {
  return `'${shorten(text, 40).replace(/[^ -~]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function shortHeader(header: string): string {
  return shorten(header.trim(), 120);
}

/** The model type an `.npy` dtype is, when its elements can be copied as they are. */
function sameType(a: NpyArray): OrtType | undefined {
  if (a.byteOrder === '>' || a.fortranOrder) return undefined;
  const types: Record<string, OrtType> = { f2: 'float16', f4: 'float32', f8: 'float64', i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64', u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64', b1: 'bool' };
  return types[`${a.kind}${a.size}`];
}

/** Maps the index of an element in row-major order to its index in a column-major (Fortran) array. */
function fortranIndex(shape: readonly number[]): (i: number) => number {
  const strides: number[] = [];
  let s = 1;
  for (const d of shape) {
    strides.push(s);
    s *= d;
  }
  return (i) => {
    let at = 0;
    for (let k = shape.length - 1; k >= 0; k--) {
      const d = shape[k];
      at += (i % d) * strides[k];
      i = Math.floor(i / d);
    }
    return at;
  };
}

/**
 * The elements of an `.npy` array as a tensor of `type`. The same type in little-endian row-major order is
 * copied as it is; any other is converted element by element, as JSON numbers are (a float64 array for a
 * float32 input, say: NumPy's default float), and a value the type cannot hold is refused.
 */
export function npyTensorData(name: string, type: OrtType, a: NpyArray): TensorData {
  const count = elementCount(a.shape);
  if (sameType(a) === type) return decodeBinaryData(name, type, count, a.data.slice());
  const view = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const le = a.byteOrder !== '>';
  const read = elementReader(name, a, view, le);
  const at = a.fortranOrder ? fortranIndex(a.shape) : (i: number) => i;
  if (a.kind !== 'f' || !type.startsWith('float')) return convertElements(name, type, count, (i) => read(at(i)));
  // NaN and the infinities are values of every float type (NumPy's mark of a missing value, which tree
  // models read as such): they pass from one float width to another, as a same-type array copied as it
  // is passes them. A finite value past the input type's range is still refused.
  const special: Array<[number, number]> = [];
  const out = convertElements(name, type, count, (i) => {
    const v = read(at(i)) as number;
    if (Number.isFinite(v)) return v;
    special.push([i, v]);
    return 0;
  }) as Float32Array | Float64Array | Uint16Array;
  for (const [i, v] of special) out[i] = type === 'float16' ? toHalfBits(v) : v;
  return out;
}

/**
 * The rows of an `application/x-npy` body: the array is the model's one input, rows along its first axis;
 * an array with one dimension fewer than the input is one row. A text array (`U`, `S`) becomes JavaScript
 * strings, up to some 30 bytes of heap for each byte of `|S1` text, so its body is held to
 * `textBodyLimitBytes`, as JSON, JSON Lines and CSV bodies are; numeric arrays may use the whole body limit.
 */
export function decodeNpyRows(sig: ModelSignature, body: Uint8Array, limits: TensorLimits, textBodyLimitBytes = Infinity): WireTensor[] {
  rowPlan(sig); // every input must have a batch axis to take rows
  const a = parseNpy(body);
  if ((a.kind === 'U' || a.kind === 'S') && body.length > textBodyLimitBytes) {
    throw new InferenceError('PAYLOAD_TOO_LARGE', `the .npy body is a text array (dtype '${a.descr}') of ${body.length} bytes; text is held to the text body limit, ` +
      `limits.textBodyLimitBytes (TEXT_BODY_LIMIT_BYTES), ${textBodyLimitBytes} bytes, as JSON and CSV bodies are: send fewer rows per request`);
  }
  if (sig.inputs.length !== 1) {
    throw bad(`an .npy body holds one array, and the model has inputs ${sig.inputs.map((m) => `'${m.name}'`).join(', ')}: ` +
      'send JSON rows keyed by input name, or an Open Inference Protocol body');
  }
  const meta = sig.inputs[0];
  const rank = meta.shape!.length;
  if (a.shape.length !== rank && a.shape.length !== rank - 1) {
    throw new InferenceError('BAD_TENSOR_RANK', `input '${meta.name}': the .npy array has shape [${a.shape.join(', ')}] (${a.shape.length} dimensions); ` +
      `the model takes ${describeShape(meta)}: rows along the first axis (${rank} dimensions), or one row (${rank - 1})`);
  }
  const shape = a.shape.length === rank ? a.shape : [1, ...a.shape];
  checkShape(meta, shape, limits);
  const array = { ...a, shape };
  return [{ name: meta.name, type: meta.type, dims: shape, data: npyTensorData(meta.name, meta.type, array) }];
}

function elementReader(name: string, a: NpyArray, view: DataView, le: boolean): (i: number) => unknown {
  const { size } = a;
  switch (a.kind) {
    case 'f':
      if (size === 2) return (i) => fromHalfBits(view.getUint16(i * 2, le));
      return size === 4 ? (i) => view.getFloat32(i * 4, le) : (i) => view.getFloat64(i * 8, le);
    case 'b':
      return (i) => {
        const b = view.getUint8(i);
        if (b > 1) throw new InferenceError('BAD_TENSOR_VALUE', `input '${name}': element ${i} is the byte ${b}; a NumPy bool is 0 or 1`);
        return b === 1;
      };
    case 'i':
    case 'u': {
      const signed = a.kind === 'i';
      if (size === 8) {
        return (i) => {
          const v = signed ? view.getBigInt64(i * 8, le) : view.getBigUint64(i * 8, le);
          return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
        };
      }
      if (size === 1) return signed ? (i) => view.getInt8(i) : (i) => view.getUint8(i);
      if (size === 2) return signed ? (i) => view.getInt16(i * 2, le) : (i) => view.getUint16(i * 2, le);
      return signed ? (i) => view.getInt32(i * 4, le) : (i) => view.getUint32(i * 4, le);
    }
    case 'U': {
      const chars = size / 4;
      return (i) => {
        let s = '';
        for (let c = 0; c < chars; c++) {
          const cp = view.getUint32(i * size + c * 4, le);
          if (cp === 0) break; // NumPy pads shorter strings with NULs
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            throw new InferenceError('BAD_TENSOR_VALUE', `input '${name}': element ${i} holds ${cp}, which is not a Unicode scalar value`);
          }
          s += String.fromCodePoint(cp);
        }
        return s;
      };
    }
    case 'S': {
      const utf8 = new TextDecoder('utf-8', { fatal: true });
      return (i) => {
        let bytes = a.data.subarray(i * size, (i + 1) * size);
        const end = bytes.indexOf(0);
        if (end >= 0) bytes = bytes.subarray(0, end); // NumPy pads shorter strings with NULs
        try {
          return utf8.decode(bytes);
        } catch {
          throw new InferenceError('BAD_TENSOR_VALUE', `input '${name}': element ${i} is not valid UTF-8`);
        }
      };
    }
  }
}

const DESCR: Readonly<Record<Exclude<OrtType, 'string'>, string>> = {
  float16: '<f2', float32: '<f4', float64: '<f8', int8: '|i1', int16: '<i2', int32: '<i4', int64: '<i8',
  uint8: '|u1', uint16: '<u2', uint32: '<u4', uint64: '<u8', bool: '|b1',
};

/**
 * The answer to rows as an `.npy` file: the model's one output, whose first axis holds a row per instance;
 * a scalar output is repeated on every row, as in `predictions`. A text output is written as NumPy's
 * fixed-width `<U` strings, where every element takes the longest one's width: when elements x width passes
 * `maxAnswerElements` (limits.maxAnswerElements, which caps the values of an answer), it is refused with
 * ANSWER_TOO_LARGE, as one long text among many short ones would otherwise make an answer of gigabytes
 * (a 100 KB request answered 400 MB) or fail past Buffer's size limit.
 */
export function encodeNpyRows(output: WireTensor, rows: number, maxAnswerElements: number): Buffer {
  const one = output.dims.length === 0;
  let width: number | undefined;
  if (output.type === 'string') {
    const strings = output.data as string[];
    width = textWidth(strings);
    const count = one ? rows : strings.length;
    if (count * width > maxAnswerElements) {
      throw new InferenceError('ANSWER_TOO_LARGE', `the .npy answer would hold ${count} texts of up to ${width} characters: an .npy text array ('<U${width}') ` +
        `stores every element at the longest one's width, ${count * width} characters in all, more than limits.maxAnswerElements (${maxAnswerElements}): ` +
        'ask for JSON (Accept: application/json), which keeps each text at its own length, or send fewer rows per request');
    }
  }
  if (!one) return encodeNpy(output, width);
  const data = output.type === 'string' ? new Array<string>(rows).fill((output.data as string[])[0])
    : (() => {
      const single = output.data as Exclude<TensorData, string[]>;
      const many = new (single.constructor as new (n: number) => typeof single)(rows);
      many.fill(single[0] as never);
      return many;
    })();
  return encodeNpy({ type: output.type, dims: [rows], data }, width);
}

/** The characters (Unicode code points) in the longest of `strings`, at least 1 (NumPy's '<U' width). */
function textWidth(strings: readonly string[]): number {
  // A loop, not Math.max(...lengths): spreading an answer of some hundred thousand texts overflows the stack.
  let width = 1;
  for (const s of strings) {
    if (s.length <= width) continue; // UTF-16 units: never fewer than the code points
    let n = 0;
    for (const _ of s) n++;
    if (n > width) width = n;
  }
  return width;
}

/**
 * An output tensor as an `.npy` file (format 1.0, little-endian, row-major; text as UTF-32 `<U`, `textWidthGiven`
 * code points each, found from the texts when not given).
 */
export function encodeNpy(t: Pick<WireTensor, 'type' | 'dims' | 'data'>, textWidthGiven?: number): Buffer {
  let descr: string;
  let data: Uint8Array;
  if (t.type === 'string') {
    const strings = t.data as string[];
    const width = textWidthGiven ?? textWidth(strings);
    descr = `<U${width}`;
    const out = Buffer.alloc(strings.length * width * 4);
    strings.forEach((s, i) => {
      let c = 0;
      for (const ch of s) out.writeUInt32LE(ch.codePointAt(0)!, (i * width + c++) * 4);
    });
    data = out;
  } else {
    descr = DESCR[t.type];
    data = encodeBinaryData(t.type, t.data); // little-endian, as binary tensor data is
  }
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // NumPy pads the header with spaces and ends it with a newline, so that the data starts at a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const prefix = Buffer.alloc(10);
  MAGIC.forEach((b, i) => { prefix[i] = b; });
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}
