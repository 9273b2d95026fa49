/**
 * Small models built from source for the tests and the benchmark.
 */
import { ElemType, ModelSpec, prng } from './onnx-builder';

/** Every element type onnxruntime-node accepts from JavaScript. */
export const ALL_TYPES: readonly ElemType[] = [
  'float32', 'float64', 'float16', 'int8', 'int16', 'int32', 'int64',
  'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'string',
];

/** The odd input name used for type `t` (slashes, colons, spaces, dots are all legal in ONNX). */
export const oddInputName = (t: ElemType) => `in/${t}:0 (row)`;
export const oddOutputName = (t: ElemType) => `out.${t}`;

/**
 * One input and one output per type, each an Identity with a dynamic batch axis and 2 columns: the
 * answer must echo each caller's own rows exactly, in every datatype.
 */
export function kitchenSinkSpec(): ModelSpec {
  return {
    name: 'kitchen-sink',
    inputs: ALL_TYPES.map((t) => ({ name: oddInputName(t), type: t, shape: ['batch', 2] })),
    outputs: ALL_TYPES.map((t) => ({ name: oddOutputName(t), type: t, shape: ['batch', 2] })),
    nodes: ALL_TYPES.map((t) => ({ op: 'Identity', inputs: [oddInputName(t)], outputs: [oddOutputName(t)] })),
  };
}

/** A model whose batch axis is fixed at 1: y = 2x + 1 on a [1, 4] tensor. */
export function fixedBatchSpec(): ModelSpec {
  return {
    name: 'fixed-batch',
    inputs: [{ name: 'x', type: 'float32', shape: [1, 4] }],
    outputs: [{ name: 'y', type: 'float32', shape: [1, 4] }],
    initializers: [
      { name: 'two', type: 'float32', dims: [], data: [2] },
      { name: 'one', type: 'float32', dims: [], data: [1] },
    ],
    nodes: [
      { op: 'Mul', inputs: ['x', 'two'], outputs: ['x2'] },
      { op: 'Add', inputs: ['x2', 'one'], outputs: ['y'] },
    ],
  };
}

/** Two inputs (one with a dynamic inner axis), two outputs: sum = a + rowsum(b), count = columns of b. */
export function multiInputSpec(): ModelSpec {
  return {
    name: 'multi-input',
    inputs: [
      { name: 'a', type: 'float32', shape: ['n', 1] },
      { name: 'b', type: 'float32', shape: ['n', 'k'] },
    ],
    outputs: [
      { name: 'sum', type: 'float32', shape: ['n', 1] },
      { name: 'b_copy', type: 'float32', shape: ['n', 'k'] },
    ],
    initializers: [{ name: 'axes', type: 'int64', dims: [1], data: [1] }],
    nodes: [
      { op: 'ReduceSum', inputs: ['b', 'axes'], outputs: ['bsum'], attributes: { keepdims: 1 } },
      { op: 'Add', inputs: ['a', 'bsum'], outputs: ['sum'] },
      { op: 'Identity', inputs: ['b'], outputs: ['b_copy'] },
    ],
  };
}

/** y = table[idx]: an index beyond the table makes onnxruntime fail the whole run, quoting the index. */
export function lookupSpec(): ModelSpec {
  return {
    name: 'lookup',
    inputs: [{ name: 'idx', type: 'int64', shape: ['n', 1] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['n', 1] }],
    initializers: [{ name: 'table', type: 'float32', dims: [10], data: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90] }],
    nodes: [{ op: 'Gather', inputs: ['table', 'idx'], outputs: ['y'], attributes: { axis: 0 } }],
  };
}

/**
 * A compute-heavy MLP: `input` [batch, inputWidth] through a dense ReLU layer to `width`, `layers - 1`
 * more of width x width, then a single `score` column. Cost grows with rows, so tests and the benchmark
 * control run time; a narrow input keeps slow requests small on the wire.
 */
export function heavySpec(width: number, layers: number, inputWidth = width, seed = 11): ModelSpec {
  const rand = prng(seed);
  const scale = Math.sqrt(2 / width);
  const initializers: { name: string; type: 'float32'; dims: number[]; data: Float32Array }[] = [];
  const nodes: { op: string; inputs: string[]; outputs: string[] }[] = [];
  let prev = 'input';
  for (let l = 0; l < layers; l++) {
    const fanIn = l === 0 ? inputWidth : width;
    initializers.push({ name: `w${l}`, type: 'float32', dims: [fanIn, width], data: Float32Array.from({ length: fanIn * width }, () => (rand() * 2 - 1) * Math.sqrt(2 / fanIn)) });
    nodes.push({ op: 'MatMul', inputs: [prev, `w${l}`], outputs: [`m${l}`] });
    nodes.push({ op: 'Relu', inputs: [`m${l}`], outputs: [`h${l}`] });
    prev = `h${l}`;
  }
  initializers.push({ name: 'w_out', type: 'float32', dims: [width, 1], data: Float32Array.from({ length: width }, () => (rand() * 2 - 1) * scale) });
  nodes.push({ op: 'MatMul', inputs: [prev, 'w_out'], outputs: ['score'] });
  return {
    name: 'heavy-mlp',
    inputs: [{ name: 'input', type: 'float32', shape: ['batch', inputWidth] }],
    outputs: [{ name: 'score', type: 'float32', shape: ['batch', 1] }],
    initializers,
    nodes,
  };
}
