/**
 * The example model: a small fraud-scoring MLP (8 features -> 16 ReLU -> 1 sigmoid), fit in plain
 * JavaScript on generated transactions, then written as ONNX. Deterministic: same seed, same bytes.
 */
import { ModelSpec, prng } from './onnx-builder';

/** Input column order of the example model (already standardised values, roughly N(0, 1)). */
export const FRAUD_FEATURES = [
  'amount_z', 'hour_sin', 'merchant_risk', 'distance_from_home_z',
  'tx_count_1h_z', 'card_age_z', 'is_foreign', 'new_device',
] as const;

const N_IN = FRAUD_FEATURES.length;
const N_HIDDEN = 16;

/** The "true" generating process: fraud likes large amounts, foreign use, new devices and bursts. */
function trueLogit(x: readonly number[]): number {
  return -3 + 1.4 * x[0] + 0.3 * x[1] + 1.1 * x[2] + 0.8 * x[3] + 1.2 * Math.max(0, x[4])
    - 0.7 * x[5] + 1.5 * x[6] + 1.3 * x[7] + 0.8 * x[0] * x[7];
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Generates `n` labelled transactions. */
export function generateTransactions(n: number, seed = 7): { x: number[][]; y: number[] } {
  const rand = prng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [
      gaussian(rand), Math.sin(2 * Math.PI * rand()), gaussian(rand), gaussian(rand),
      gaussian(rand), gaussian(rand), rand() < 0.1 ? 1 : 0, rand() < 0.15 ? 1 : 0,
    ];
    x.push(row);
    y.push(rand() < 1 / (1 + Math.exp(-trueLogit(row))) ? 1 : 0);
  }
  return { x, y };
}

export interface FraudWeights {
  w1: Float32Array; // [N_IN, N_HIDDEN] row-major
  b1: Float32Array;
  w2: Float32Array; // [N_HIDDEN, 1]
  b2: Float32Array;
}

/** Forward pass in plain JS, the reference the tests compare the served model against. */
export function predictFraud(w: FraudWeights, row: readonly number[]): number {
  let z = w.b2[0];
  for (let h = 0; h < N_HIDDEN; h++) {
    let a = w.b1[h];
    for (let i = 0; i < N_IN; i++) a += row[i] * w.w1[i * N_HIDDEN + h];
    if (a > 0) z += a * w.w2[h];
  }
  return 1 / (1 + Math.exp(-z));
}

/** Fits the MLP with mini-batch SGD and momentum on binary cross-entropy. */
export function trainFraudModel(seed = 7, epochs = 30): { weights: FraudWeights; accuracy: number } {
  const { x, y } = generateTransactions(4000, seed);
  const rand = prng(seed + 1);
  const init = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
  const w: FraudWeights = { w1: init(N_IN * N_HIDDEN, 0.5), b1: new Float32Array(N_HIDDEN), w2: init(N_HIDDEN, 0.5), b2: new Float32Array(1) };
  const v = { w1: new Float32Array(w.w1.length), b1: new Float32Array(N_HIDDEN), w2: new Float32Array(N_HIDDEN), b2: new Float32Array(1) };
  const lr = 0.05;
  const mom = 0.9;
  const batch = 32;
  const hidden = new Float64Array(N_HIDDEN);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let start = 0; start < x.length; start += batch) {
      const g = { w1: new Float64Array(w.w1.length), b1: new Float64Array(N_HIDDEN), w2: new Float64Array(N_HIDDEN), b2: 0 };
      const end = Math.min(start + batch, x.length);
      for (let n = start; n < end; n++) {
        const row = x[n];
        let z = w.b2[0];
        for (let h = 0; h < N_HIDDEN; h++) {
          let a = w.b1[h];
          for (let i = 0; i < N_IN; i++) a += row[i] * w.w1[i * N_HIDDEN + h];
          hidden[h] = a > 0 ? a : 0;
          z += hidden[h] * w.w2[h];
        }
        const dz = 1 / (1 + Math.exp(-z)) - y[n];
        g.b2 += dz;
        for (let h = 0; h < N_HIDDEN; h++) {
          g.w2[h] += dz * hidden[h];
          if (hidden[h] > 0) {
            const da = dz * w.w2[h];
            g.b1[h] += da;
            for (let i = 0; i < N_IN; i++) g.w1[i * N_HIDDEN + h] += da * row[i];
          }
        }
      }
      const k = lr / (end - start);
      const step = (p: Float32Array, vel: Float32Array, grad: ArrayLike<number>) => {
        for (let j = 0; j < p.length; j++) {
          vel[j] = mom * vel[j] - k * grad[j];
          p[j] += vel[j];
        }
      };
      step(w.w1, v.w1, g.w1);
      step(w.b1, v.b1, g.b1);
      step(w.w2, v.w2, g.w2);
      step(w.b2, v.b2, [g.b2]);
    }
  }
  const test = generateTransactions(2000, seed + 100);
  let correct = 0;
  test.x.forEach((row, i) => { if ((predictFraud(w, row) > 0.5 ? 1 : 0) === test.y[i]) correct++; });
  return { weights: w, accuracy: correct / test.x.length };
}

/** The ONNX graph: features -> MatMul/Add/Relu -> MatMul/Add/Sigmoid -> probability, and a bool label. */
export function fraudModelSpec(w: FraudWeights): ModelSpec {
  return {
    name: 'fraud-mlp',
    docString: `Fraud scoring MLP. Input columns: ${FRAUD_FEATURES.join(', ')}.`,
    inputs: [{ name: 'features', type: 'float32', shape: ['batch', N_IN] }],
    outputs: [
      { name: 'fraud_probability', type: 'float32', shape: ['batch', 1] },
      { name: 'is_fraud', type: 'bool', shape: ['batch', 1] },
    ],
    initializers: [
      { name: 'w1', type: 'float32', dims: [N_IN, N_HIDDEN], data: w.w1 },
      { name: 'b1', type: 'float32', dims: [N_HIDDEN], data: w.b1 },
      { name: 'w2', type: 'float32', dims: [N_HIDDEN, 1], data: w.w2 },
      { name: 'b2', type: 'float32', dims: [1], data: w.b2 },
      { name: 'threshold', type: 'float32', dims: [], data: [0.5] },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['features', 'w1'], outputs: ['h_lin'] },
      { op: 'Add', inputs: ['h_lin', 'b1'], outputs: ['h_bias'] },
      { op: 'Relu', inputs: ['h_bias'], outputs: ['h'] },
      { op: 'MatMul', inputs: ['h', 'w2'], outputs: ['z_lin'] },
      { op: 'Add', inputs: ['z_lin', 'b2'], outputs: ['z'] },
      { op: 'Sigmoid', inputs: ['z'], outputs: ['fraud_probability'] },
      { op: 'Greater', inputs: ['fraud_probability', 'threshold'], outputs: ['is_fraud'] },
    ],
  };
}
