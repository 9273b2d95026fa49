/**
 * Tensor datatypes, model signatures, and the checks that turn untrusted JSON into typed arrays.
 * Everything here is synchronous, allocation-bounded and never throws anything but InferenceError.
 */
import { InferenceError } from './errors';

/** Element types as onnxruntime-node names them. */
export type OrtType =
  | 'float32' | 'float64' | 'float16'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'bool' | 'string';

export type TensorData =
  | Float32Array | Float64Array | Uint16Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint32Array | BigUint64Array | string[];

/** A tensor as it travels between the HTTP thread and a worker. */
export interface WireTensor {
  readonly name: string;
  readonly type: OrtType;
  readonly dims: number[];
  readonly data: TensorData;
}

/** Open Inference Protocol datatype names and their onnxruntime types. */
export const OIP_TO_ORT: Readonly<Record<string, OrtType>> = {
  BOOL: 'bool', UINT8: 'uint8', UINT16: 'uint16', UINT32: 'uint32', UINT64: 'uint64',
  INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64',
  FP16: 'float16', FP32: 'float32', FP64: 'float64', BYTES: 'string',
};

export const ORT_TO_OIP: Readonly<Record<OrtType, string>> = Object.fromEntries(
  Object.entries(OIP_TO_ORT).map(([k, v]) => [v, k]),
) as Record<OrtType, string>;

export const OIP_DATATYPES = Object.keys(OIP_TO_ORT);

/** One model input or output: a number is a fixed dimension, -1 a dynamic one. */
export interface TensorMeta {
  readonly name: string;
  readonly type: OrtType;
  readonly datatype: string;
  /** `undefined` when the model does not declare the rank. */
  readonly shape?: readonly number[];
  /** Symbolic names of dynamic dimensions, where the model gives them. */
  readonly dimNames?: readonly (string | undefined)[];
}

export interface ModelSignature {
  readonly inputs: readonly TensorMeta[];
  readonly outputs: readonly TensorMeta[];
  /** True when every input and output has a dynamic first axis that can be the batch, so requests can be stacked. */
  readonly batchable: boolean;
  /** Why requests cannot be stacked, when `batchable` is false. */
  readonly notBatchableReason?: string;
  /** Outputs the server cannot return (not tensors, or of a type onnxruntime-node cannot hand over), with why. */
  readonly ignoredOutputs: readonly { readonly name: string; readonly reason: string }[];
}

/** What onnxruntime reports in `session.inputMetadata` / `outputMetadata`. */
export interface OrtValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

/** Why the server cannot pass this value to or from onnxruntime, if it cannot. */
function unsupported(m: OrtValueMetadata): string | undefined {
  if (!m.isTensor) return 'it is not a tensor (a sequence or a map)';
  if (!m.type || !(m.type in ORT_TO_OIP)) return `its element type ${m.type ?? '(none)'} is not one onnxruntime-node exchanges with JavaScript`;
  return undefined;
}

export function toTensorMeta(m: OrtValueMetadata): TensorMeta {
  const why = unsupported(m);
  if (why) throw new Error(`model value '${m.name}' cannot be served: ${why}`);
  const type = m.type as OrtType;
  const declared = m.shape && m.shape.length > 0 ? m.shape : undefined;
  return {
    name: m.name,
    type,
    datatype: ORT_TO_OIP[type],
    shape: declared?.map((d) => (typeof d === 'number' && d > 0 ? d : -1)),
    dimNames: declared?.map((d) => (typeof d === 'string' && d !== '' ? d : undefined)),
  };
}

/**
 * The model's signature. Inputs the server cannot feed stop the model from loading; outputs it cannot
 * return (a scikit-learn classifier's ZipMap probabilities, a sequence of maps) are left out and
 * named in `ignoredOutputs`, so the model's tensor outputs are still served.
 */
export function buildSignature(inputs: readonly OrtValueMetadata[], outputs: readonly OrtValueMetadata[]): ModelSignature {
  if (inputs.length === 0) throw new Error('the model has no inputs; the server serves models that take at least one input tensor');
  const ins = inputs.map(toTensorMeta);
  const ignoredOutputs: { name: string; reason: string }[] = [];
  const outs: TensorMeta[] = [];
  for (const o of outputs) {
    const why = o.name === '__proto__'
      // onnxruntime-node builds its results as a plain object keyed by output name, where assigning
      // '__proto__' sets the prototype: that output never arrives (the worker's runs had failed on it).
      ? "onnxruntime-node cannot return an output named '__proto__' (its results are a plain JavaScript object keyed by output name); rename the output in the model"
      : unsupported(o);
    if (why) ignoredOutputs.push({ name: o.name, reason: why });
    else outs.push(toTensorMeta(o));
  }
  if (outs.length === 0) {
    throw new Error(`the model has no output the server can return: ${ignoredOutputs.map((o) => `'${o.name}' (${o.reason})`).join(', ')}`);
  }
  const notBatchableReason = whyNotBatchable(ins, outs);
  return { inputs: ins, outputs: outs, batchable: notBatchableReason === undefined, ...(notBatchableReason ? { notBatchableReason } : {}), ignoredOutputs };
}

/**
 * Requests can be stacked along the first axis only if every input and output has a dynamic first
 * axis, and that axis is not also another one: where an input names its first axis, no other axis of
 * any input or output may have that name. (Inputs `a: [batch, seq]` and `b: [seq]` both have a dynamic
 * first axis, but stacking `b` would grow `seq`.) Different names for the inputs' first axes are
 * fine: exporters generate one per input (`a_dynamic_axes_1`, tf2onnx's `unk__12`). The probe run
 * then checks what the outputs do.
 */
function whyNotBatchable(ins: readonly TensorMeta[], outs: readonly TensorMeta[]): string | undefined {
  const fixed = [...ins, ...outs].find((t) => t.shape === undefined || t.shape.length === 0 || t.shape[0] !== -1);
  if (fixed) return `'${fixed.name}' has ${fixed.shape === undefined || fixed.shape.length === 0 ? 'no declared first axis' : `a fixed first axis of ${fixed.shape[0]}`}`;
  const firstOf = new Map<string, string>(); // axis name -> the input whose first axis it is
  for (const t of ins) if (t.dimNames?.[0] !== undefined && !firstOf.has(t.dimNames[0])) firstOf.set(t.dimNames[0], t.name);
  for (const t of [...ins, ...outs]) {
    const reused = t.dimNames?.slice(1).find((n) => n !== undefined && firstOf.has(n));
    if (reused !== undefined) return `'${t.name}' has '${reused}', the first axis of input '${firstOf.get(reused)}', as another axis`;
  }
  return undefined;
}

/** Limits that keep one request from exhausting memory. */
export interface TensorLimits {
  /** Most elements in one tensor. */
  readonly maxElements: number;
  /** Most dimensions in one tensor. */
  readonly maxRank: number;
}

export const DEFAULT_TENSOR_LIMITS: TensorLimits = { maxElements: 16 * 1024 * 1024, maxRank: 16 };

/** Checks a requested shape against the limits and the model's declared shape; returns the element count. */
export function checkShape(meta: TensorMeta, shape: readonly unknown[], limits: TensorLimits): number {
  if (shape.length > limits.maxRank) {
    throw new InferenceError('BAD_TENSOR_RANK', `input '${meta.name}': shape has ${shape.length} dimensions, the server allows at most ${limits.maxRank}`);
  }
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    // An integer past 2^53 - 1 (JSON parsing has rounded it already) is a dimension too large, not a malformed one.
    if (typeof d === 'number' && Number.isInteger(d) && d > Number.MAX_SAFE_INTEGER) {
      throw new InferenceError('TENSOR_TOO_LARGE', `input '${meta.name}': shape[${i}] is ${d}, more than the ${limits.maxElements} elements the server allows in a tensor`);
    }
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1) {
      throw new InferenceError('BAD_TENSOR_SHAPE', `input '${meta.name}': shape[${i}] is ${JSON.stringify(d)}, every dimension must be an integer >= 1`);
    }
    count *= d;
    if (count > limits.maxElements) {
      throw new InferenceError('TENSOR_TOO_LARGE', `input '${meta.name}': shape ${JSON.stringify(shape)} has more than ${limits.maxElements} elements, the server's limit`);
    }
  }
  if (meta.shape) {
    if (shape.length !== meta.shape.length) {
      throw new InferenceError('BAD_TENSOR_RANK', `input '${meta.name}': shape ${JSON.stringify(shape)} has ${shape.length} dimensions, the model expects ${meta.shape.length} (${describeShape(meta)})`);
    }
    for (let i = 0; i < shape.length; i++) {
      if (meta.shape[i] !== -1 && meta.shape[i] !== shape[i]) {
        throw new InferenceError('BAD_TENSOR_SHAPE', `input '${meta.name}': shape[${i}] is ${shape[i]}, the model expects ${meta.shape[i]} (${describeShape(meta)})`);
      }
    }
  }
  return count;
}

export function describeShape(meta: TensorMeta): string {
  if (!meta.shape) return 'any shape';
  return `[${meta.shape.map((d, i) => (d === -1 ? (meta.dimNames?.[i] ?? '-1') : String(d))).join(', ')}]`;
}

const INT_RANGES: Partial<Record<OrtType, [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
};
const BIG_RANGES: Partial<Record<OrtType, [bigint, bigint]>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 1n],
};

/** `n` values of `type`; strings only with `filled` (the data is known to hold `n`), else grown as they are stored. */
function allocate(type: OrtType, n: number, filled = false): TensorData {
  switch (type) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'float16': return new Uint16Array(n);
    case 'int8': return new Int8Array(n);
    case 'int16': return new Int16Array(n);
    case 'int32': return new Int32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint8': return new Uint8Array(n);
    case 'uint16': return new Uint16Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'uint64': return new BigUint64Array(n);
    case 'bool': return new Uint8Array(n);
    // Unless the data is known to hold n strings, grown as it is filled (every caller fills it in order):
    // an array of n holes costs about as much as n strings, and nested data is checked against its shape
    // only as it is walked, so a 100-byte request declaring 16 million strings held the HTTP thread for
    // 80 to 150 ms before its data was found short. Allocated at once, it fills in about half the time.
    case 'string': return filled ? new Array<string>(n) : [];
  }
}

/** `x` rounded to the nearest integer, ties to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * IEEE 754 half-precision bits of a number, rounded once, to nearest even, straight from the double
 * (going through float32 first would round twice: 1.0004882812509095 must give 1.0009765625, not 1).
 * Magnitudes from 65520 up become infinity; the scalings by powers of two below are exact.
 */
export function toHalfBits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal; 1024 carries into the smallest normal
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return sign | (((e + 15) << 10) + roundHalfEven((a / 2 ** e - 1) * 1024)); // a mantissa of 1024 carries into the exponent
}

/** The number a half-precision bit pattern stands for. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A value as an error message shows it: its first 40 characters, then "..." when longer. */
export function shortened(shown: string): string {
  return shown.length > 40 ? shown.slice(0, 40) + '...' : shown;
}

function badValue(name: string, where: string, value: unknown, expected: string): InferenceError {
  return new InferenceError('BAD_TENSOR_VALUE', `input '${name}': ${where} is ${shownValue(value)}, expected ${expected}`);
}

/**
 * A value as an error shows it, in work bounded by what is shown: an object or array by its kind (as the
 * schema's errors show one), not its JSON. JSON.stringify would walk all of it, up to the body limit, and
 * a value nested thousands deep overflows its stack on Node.js 20 and 22 but not on 26.
 */
function shownValue(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  if (value !== null && typeof value === 'object') return 'an object';
  // JSON.stringify writes an infinity as null, which a client that sent 1e400 would not recognise.
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : `${value} (JSON parsing reads a number beyond ±1.7976931348623157e308 as infinite)`;
  }
  return shortened(JSON.stringify(typeof value === 'string' ? value.slice(0, 41) : value) ?? String(value));
}

/** A UTF-16 surrogate without its pair (a string that is not valid Unicode). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A function that stores element `v` at `i`, or throws BAD_TENSOR_VALUE. */
type Store = (out: TensorData, i: number, v: unknown) => void;

/** How an error names element `i` of the data: its index, unless the caller knows better (a CSV row and column). */
export type ElementName = (i: number) => string;

const elementIndex: ElementName = (i) => `element ${i}`;

function storeFor(name: string, type: OrtType, at: ElementName): Store {
  const datatype = ORT_TO_OIP[type];
  switch (type) {
    case 'float32':
      return (out, i, v) => {
        if (typeof v !== 'number' || !Number.isFinite(Math.fround(v))) throw badValue(name, at(i), v, 'a number within FP32\'s range (±3.4028235e38)');
        (out as Float32Array)[i] = v;
      };
    case 'float64':
      return (out, i, v) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw badValue(name, at(i), v, 'a finite number for FP64');
        (out as Float64Array)[i] = v;
      };
    case 'float16':
      return (out, i, v) => {
        if (typeof v !== 'number' || !(Math.abs(v) < 65520)) throw badValue(name, at(i), v, 'a number within FP16\'s range (±65504)');
        (out as Uint16Array)[i] = toHalfBits(v);
      };
    case 'bool':
      return (out, i, v) => {
        if (typeof v !== 'boolean') throw badValue(name, at(i), v, 'true or false for BOOL');
        (out as Uint8Array)[i] = v ? 1 : 0;
      };
    case 'string':
      // onnxruntime keeps strings as C strings: a NUL would cut the value short, and a lone surrogate
      // would come back as U+FFFD. Both are refused rather than changed.
      return (out, i, v) => {
        if (typeof v !== 'string' || v.includes('\u0000') || LONE_SURROGATE.test(v)) {
          throw badValue(name, at(i), v, 'a string for BYTES, without NUL characters or unpaired surrogates');
        }
        (out as string[])[i] = v;
      };
    case 'int64':
    case 'uint64': {
      const [lo, hi] = BIG_RANGES[type]!;
      // JSON numbers beyond ±2^53 were already rounded when the body was parsed: refuse them rather
      // than run a different value.
      const expected = `an integer in [${lo}, ${hi}] for ${datatype} (a JSON number from -(2^53 - 1) to 2^53 - 1, or a string of digits: JSON parsing rounds a larger number, so its value here may differ from what was sent)`;
      return (out, i, v) => {
        let b: bigint;
        if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
        else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) b = BigInt(v);
        else throw badValue(name, at(i), v, expected);
        if (b < lo || b > hi) throw badValue(name, at(i), v, expected);
        (out as BigInt64Array)[i] = b;
      };
    }
    default: {
      const [lo, hi] = INT_RANGES[type]!;
      return (out, i, v) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
          throw badValue(name, at(i), v, `an integer in [${lo}, ${hi}] for ${datatype}`);
        }
        (out as Int32Array)[i] = v;
      };
    }
  }
}

/**
 * Converts JSON `data` (flat row-major, or nested exactly as `shape`) into a typed array of `count`
 * elements. The shape has already passed `checkShape`, so `count` is bounded.
 */
export function decodeData(name: string, type: OrtType, shape: readonly number[], count: number, data: unknown, at: ElementName = elementIndex): TensorData {
  if (!Array.isArray(data)) {
    throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${name}': data must be an array, got ${data === null ? 'null' : typeof data}`);
  }
  const store = storeFor(name, type, at);
  const nested = data.length > 0 && Array.isArray(data[0]);
  // The lengths are checked before the typed array is allocated: a tiny body may declare a huge shape.
  if (!nested) {
    if (data.length !== count) {
      throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${name}': data has ${data.length} values, shape ${JSON.stringify(shape)} needs ${count}`);
    }
    const out = allocate(type, count, true);
    for (let i = 0; i < count; i++) store(out, i, data[i]);
    return out;
  }
  if (shape.length > 0 && data.length !== shape[0]) {
    throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${name}': nested data has ${data.length} entries at depth 0, shape ${JSON.stringify(shape)} needs ${shape[0]}`);
  }
  const out = allocate(type, count);
  // Nested: every level must have exactly the length of its dimension. Depth is bounded by the rank.
  let pos = 0;
  const walk = (node: unknown[], depth: number): void => {
    if (node.length !== shape[depth]) {
      throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${name}': nested data has ${node.length} entries at depth ${depth}, shape ${JSON.stringify(shape)} needs ${shape[depth]}`);
    }
    const leaf = depth === shape.length - 1;
    for (const item of node) {
      if (leaf) {
        if (Array.isArray(item)) {
          throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${name}': nested data is deeper than shape ${JSON.stringify(shape)}`);
        }
        store(out, pos, item);
        pos++;
      } else {
        if (!Array.isArray(item)) {
          throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${name}': nested data is shallower than shape ${JSON.stringify(shape)} at depth ${depth + 1}`);
        }
        walk(item, depth + 1);
      }
    }
  };
  if (shape.length === 0) {
    throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${name}': nested data given for a scalar shape []`);
  }
  walk(data, 0);
  return out;
}

/**
 * `count` values, read one by one (from an `.npy` array of another type, say), as a typed array of `type`,
 * each checked as a JSON value is: a value the type cannot hold is refused with BAD_TENSOR_VALUE.
 */
export function convertElements(name: string, type: OrtType, count: number, read: (i: number) => unknown): TensorData {
  const store = storeFor(name, type, elementIndex);
  const out = allocate(type, count, true);
  for (let i = 0; i < count; i++) store(out, i, read(i));
  return out;
}

/** Bytes per element in the binary tensor data extension (a BYTES element is a 4-byte length and its bytes). */
const ELEMENT_BYTES: Readonly<Record<Exclude<OrtType, 'string'>, number>> = {
  float32: 4, float64: 8, float16: 2, int8: 1, int16: 2, int32: 4, int64: 8, uint8: 1, uint16: 2, uint32: 4, uint64: 8, bool: 1,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses the bytes of each `size`-byte element in place (binary tensor data is little-endian). */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (LITTLE_ENDIAN || size === 1) return;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/**
 * Decodes an input's binary tensor data (the Open Inference Protocol's binary tensor data extension):
 * little-endian, row-major, a BOOL a byte of 0 or 1, a BYTES element a 4-byte little-endian length
 * then UTF-8 bytes. The bytes must hold exactly `count` elements.
 */
export function decodeBinaryData(name: string, type: OrtType, count: number, bytes: Uint8Array): TensorData {
  if (type === 'string') {
    const out = allocate(type, count, 4 * count <= bytes.length) as string[]; // each string takes at least its 4-byte length
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const length = pos + 4 <= bytes.length ? view.getUint32(pos, true) : -1;
      if (length < 0 || pos + 4 + length > bytes.length) {
        throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${name}': its ${bytes.length} bytes of binary data end inside element ${i} of ${count}`);
      }
      pos += 4;
      let s: string;
      try {
        s = utf8.decode(bytes.subarray(pos, pos + length));
      } catch {
        throw new InferenceError('BAD_TENSOR_VALUE', `input '${name}': element ${i} is not valid UTF-8`);
      }
      if (s.includes('\u0000')) throw new InferenceError('BAD_TENSOR_VALUE', `input '${name}': element ${i} holds a NUL character, which onnxruntime would cut the string at`);
      out[i] = s;
      pos += length;
    }
    if (pos !== bytes.length) {
      throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${name}': ${bytes.length - pos} bytes of binary data are left after its ${count} elements`);
    }
    return out;
  }
  const size = ELEMENT_BYTES[type];
  if (bytes.length !== count * size) {
    throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${name}': binary_data_size is ${bytes.length} bytes; ${count} ${ORT_TO_OIP[type]} elements take ${count * size}`);
  }
  const out = allocate(type, count) as Exclude<TensorData, string[]>;
  const target = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  target.set(bytes);
  swapBytes(target, size);
  if (type === 'bool') {
    const i = target.findIndex((b) => b > 1);
    if (i >= 0) throw new InferenceError('BAD_TENSOR_VALUE', `input '${name}': element ${i} is the byte ${target[i]}; a BOOL is 0 or 1`);
  }
  return out;
}

/** An output tensor as binary tensor data (see decodeBinaryData for the layout). */
export function encodeBinaryData(type: OrtType, data: TensorData): Uint8Array {
  if (type === 'string') {
    const encoded = (data as string[]).map((s) => Buffer.from(s, 'utf8'));
    const out = Buffer.alloc(encoded.reduce((n, b) => n + 4 + b.length, 0));
    let pos = 0;
    for (const b of encoded) {
      out.writeUInt32LE(b.length, pos);
      b.copy(out, pos + 4);
      pos += 4 + b.length;
    }
    return out;
  }
  const typed = data as Exclude<TensorData, string[]>;
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const copy = bytes.slice();
  swapBytes(copy, ELEMENT_BYTES[type]);
  return copy;
}

/** JSON values of an output tensor: numbers, booleans, strings; 64-bit integers beyond 2^53 as strings. */
export function encodeData(type: OrtType, data: TensorData): unknown[] {
  switch (type) {
    case 'bool': {
      const src = data as Uint8Array;
      const out = new Array<boolean>(src.length);
      for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0;
      return out;
    }
    case 'int64':
    case 'uint64': {
      const src = data as BigInt64Array;
      const out = new Array<number | string>(src.length);
      for (let i = 0; i < src.length; i++) {
        const n = Number(src[i]);
        out[i] = Number.isSafeInteger(n) ? n : src[i].toString();
      }
      return out;
    }
    case 'float16': {
      const src = data as Uint16Array;
      const out = new Array<number>(src.length);
      for (let i = 0; i < src.length; i++) out[i] = fromHalfBits(src[i]);
      return out;
    }
    case 'string':
      return data as string[];
    default:
      return Array.from(data as Float32Array);
  }
}

/** Element count of a shape. */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Keeps float16 tensors' data in Uint16Array, the form onnxruntime-node's binding reads. Where the runtime
 * has Float16Array (Node.js 24 and later), onnxruntime-common turns a float16 tensor's Uint16Array into a
 * Float16Array view, which the binding of onnxruntime-node 1.30 reads as 0 bytes: every run with a float16
 * input fails ("not enough space: expected 4, got 0"; microsoft/onnxruntime pull request 32323), and
 * float16 outputs would come back as Float16Array, whose values the codec would take for half-precision
 * bits. Removing Float16Array from an inference worker thread's global scope, where only inference code
 * runs, makes onnxruntime-common keep Uint16Array, as on Node.js 22. onnxruntime-common looks for Float16Array
 * once, when the thread creates its first tensor, so this must run before that.
 */
export function keepFloat16AsUint16(): void {
  delete (globalThis as { Float16Array?: unknown }).Float16Array;
}
