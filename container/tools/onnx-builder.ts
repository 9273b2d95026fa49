/**
 * A small ONNX model writer on top of onnx-proto, used by the example-model script, the tests and the
 * benchmark. Everything it writes can be rebuilt from source, so the repository holds no model binary.
 */
import { onnx } from 'onnx-proto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Element types this builder writes, named as onnxruntime-node names them. */
export type ElemType =
  | 'float32' | 'float64' | 'float16'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'bool' | 'string';

const ONNX_TYPE: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
  uint16: onnx.TensorProto.DataType.UINT16,
  int16: onnx.TensorProto.DataType.INT16,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  string: onnx.TensorProto.DataType.STRING,
  bool: onnx.TensorProto.DataType.BOOL,
  float16: onnx.TensorProto.DataType.FLOAT16,
  float64: onnx.TensorProto.DataType.DOUBLE,
  uint32: onnx.TensorProto.DataType.UINT32,
  uint64: onnx.TensorProto.DataType.UINT64,
};

/** A graph input or output: a number is a fixed dimension, a string a symbolic (dynamic) one. */
export interface ValueSpec {
  readonly name: string;
  readonly type: ElemType;
  readonly shape: ReadonlyArray<number | string>;
  /**
   * Not a tensor but a sequence of maps from `type` keys to float values, as scikit-learn classifiers'
   * ZipMap probabilities are (`shape` is ignored).
   */
  readonly sequenceOfMaps?: boolean;
  /** Declares no shape at all (any rank), as some exporters write; `shape` is then ignored. */
  readonly unshaped?: boolean;
}

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Record<string, number | number[] | string>;
  /** The operator's domain, e.g. 'ai.onnx.ml' (imported at opset 1 when used). @default the ONNX domain */
  readonly domain?: string;
}

/** A constant weight tensor (float32 or int64 only: that is all the models here need). */
export interface InitializerSpec {
  readonly name: string;
  readonly type: 'float32' | 'int64';
  readonly dims: readonly number[];
  readonly data: ArrayLike<number>;
}

export interface ModelSpec {
  readonly name: string;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly InitializerSpec[];
  /** @default 17 */
  readonly opset?: number;
  readonly docString?: string;
}

function valueInfo(v: ValueSpec): onnx.IValueInfoProto {
  if (v.sequenceOfMaps) {
    const value = { tensorType: { elemType: ONNX_TYPE.float32 } };
    return { name: v.name, type: { sequenceType: { elemType: { mapType: { keyType: ONNX_TYPE[v.type], valueType: value } } } } };
  }
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_TYPE[v.type],
        ...(v.unshaped ? {} : { shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } }),
      },
    },
  };
}

function attribute(name: string, value: number | number[] | string): onnx.IAttributeProto {
  if (typeof value === 'string') {
    return { name, type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from(value) };
  }
  if (Array.isArray(value)) {
    return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: value };
  }
  if (Number.isInteger(value)) {
    return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
  }
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
}

function initializer(t: InitializerSpec): onnx.ITensorProto {
  if (t.type === 'float32') {
    return { name: t.name, dims: [...t.dims], dataType: ONNX_TYPE.float32, rawData: Buffer.from(Float32Array.from(t.data).buffer) };
  }
  return { name: t.name, dims: [...t.dims], dataType: ONNX_TYPE.int64, int64Data: Array.from(t.data) };
}

/** Encodes a model to ONNX protobuf bytes. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'ai-platform-constructs',
    producerVersion: '0.1.0',
    docString: spec.docString,
    opsetImport: [
      { domain: '', version: spec.opset ?? 17 },
      ...[...new Set(spec.nodes.map((n) => n.domain).filter((d): d is string => !!d))].map((domain) => ({ domain, version: 1 })),
    ],
    graph: {
      name: spec.name,
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map(initializer),
      node: spec.nodes.map((n, i) => ({
        name: `${n.op}_${i}`,
        opType: n.op,
        ...(n.domain ? { domain: n.domain } : {}),
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

/** Writes `model.onnx` (and optionally a serving config) into `dir`, creating it; returns the model path. */
export function writeModelDir(dir: string, spec: ModelSpec, config?: object): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, encodeModel(spec));
  if (config) {
    fs.writeFileSync(path.join(dir, 'serving.json'), JSON.stringify(config, null, 2));
  }
  return file;
}

/** Deterministic pseudo-random numbers (mulberry32), so rebuilt models are byte-identical. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
