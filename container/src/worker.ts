/**
 * An inference worker thread: owns one onnxruntime session and runs whatever the engine sends it.
 * The HTTP thread never calls onnxruntime, so a long run cannot stall /ping.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { keepFloat16AsUint16, type WireTensor } from './tensors';

export interface WorkerInit {
  readonly modelPath: string;
  readonly intraOpNumThreads: number;
  /** Spin between the parallel steps of a run, never between runs (ServingConfig.intraOpSpinning). */
  readonly intraOpSpinning: boolean;
  readonly executionProviders: readonly string[];
  /** The GPU a CUDA or TensorRT session runs on (one worker per visible GPU). @default 0 */
  readonly deviceId?: number;
}

export type ToWorker = { type: 'run'; id: number; feeds: WireTensor[]; outputNames: string[] };

export type FromWorker =
  | { type: 'ready'; inputs: unknown[]; outputs: unknown[]; provider: string; fallbackReason?: string }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; outputs: WireTensor[]; computeMs: number }
  | { type: 'run-failed'; id: number; message: string };

/** The buffers of typed arrays that own their whole buffer can be moved instead of copied. */
export function transferables(tensors: readonly WireTensor[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const t of tensors) {
    const d = t.data;
    if (!Array.isArray(d) && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer && !out.includes(d.buffer)) {
      out.push(d.buffer);
    }
  }
  return out;
}

/** The session options every worker uses (the execution providers are added per attempt). */
export function sessionOptions(init: Pick<WorkerInit, 'intraOpNumThreads' | 'intraOpSpinning'>): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: init.intraOpNumThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Fatal only: onnxruntime writes its errors to stderr as coloured text lines, not the server's JSON
    // lines, and a failed run's line quotes the caller's values ("idx=123456789"). Every error it
    // reports is also thrown, and the server answers and logs it in its own words.
    logSeverityLevel: 4,
    // By default intra-op threads sleep when they have nothing to do: a spinning thread steals the CPU
    // the HTTP thread and other workers need. When spinning is asked for, it stops as soon as a run
    // returns (force_spinning_stop), so an idle server burns no CPU.
    extra: {
      session: {
        intra_op: { allow_spinning: init.intraOpSpinning ? '1' : '0' },
        inter_op: { allow_spinning: '0' },
        force_spinning_stop: '1',
      },
    },
  };
}

/** A provider as onnxruntime takes it: the GPU ones with the device to run on. */
export function provider(name: string, deviceId: number): ort.InferenceSession.ExecutionProviderConfig {
  return name === 'cuda' || name === 'tensorrt' ? { name, deviceId } : name;
}

/**
 * ONNX element types onnxruntime-node has no JavaScript type for, by their ONNX number: a model with an
 * input or output of one fails to load with only "Unsupported data type: 16".
 */
const UNEXCHANGEABLE_TYPES: Readonly<Record<string, string>> = {
  14: 'complex64', 15: 'complex128', 16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz', 23: 'float4e2m1',
};

/**
 * onnxruntime-node's "Unsupported data type: N" (an input or output of a type it cannot exchange with
 * JavaScript) as a message saying which type that is and what to do; undefined for any other error.
 * onnxruntime-node does not say which input or output it is.
 */
export function unexchangeableType(message: string): string | undefined {
  const m = /^Unsupported data type: (\d+)$/.exec(message);
  if (!m) return undefined;
  const type = UNEXCHANGEABLE_TYPES[m[1]];
  return `an input or output of the model has the element type ${type ? `${type} (ONNX type ${m[1]})` : `ONNX type ${m[1]}`}, which onnxruntime-node cannot exchange with JavaScript; ` +
    'the server serves inputs and outputs of the types BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64 and BYTES: convert the model\'s inputs and outputs of that type (a Cast to float16 or float32 at the graph\'s edges)';
}

async function createSession(init: WorkerInit): Promise<{ session: ort.InferenceSession; provider: string; fallbackReason?: string }> {
  const base = sessionOptions(init);
  // Providers in the configured order: try the whole list, then without its first entry, and so on,
  // so `tensorrt,cuda,cpu` still gets CUDA when TensorRT is missing and `cpu,cuda` means the CPU. The
  // CPU is a fallback only when listed: `cuda` alone means a GPU or nothing, so a GPU pod whose CUDA
  // cannot load fails to start instead of holding a GPU while it computes on the CPU.
  const cpuAt = init.executionProviders.indexOf('cpu');
  const order = cpuAt >= 0 ? init.executionProviders.slice(0, cpuAt + 1) : init.executionProviders;
  const failures: string[] = [];
  for (let i = 0; i < order.length; i++) {
    if (order[i] === 'cpu') break;
    try {
      const session = await ort.InferenceSession.create(init.modelPath, { ...base, executionProviders: order.slice(i).map((name) => provider(name, init.deviceId ?? 0)) });
      return { session, provider: order[i], ...(failures.length ? { fallbackReason: failures.join('; ') } : {}) };
    } catch (e) {
      // The model's own fault, not the provider's: every provider would fail the same way.
      const why = unexchangeableType((e as Error).message);
      if (why) throw new Error(why, { cause: e });
      failures.push(`${order[i]} unavailable: ${(e as Error).message}`);
    }
  }
  if (cpuAt < 0) {
    throw new Error(`no execution provider listed could be used (${failures.join('; ')}); add cpu to the list (ORT_EXECUTION_PROVIDERS=${[...init.executionProviders, 'cpu'].join(',')}) to fall back to the CPU`);
  }
  const session = await ort.InferenceSession.create(init.modelPath, { ...base, executionProviders: ['cpu'] });
  return { session, provider: 'cpu', ...(failures.length ? { fallbackReason: failures.join('; ') } : {}) };
}

async function main(): Promise<void> {
  // Before the thread's first tensor (see keepFloat16AsUint16).
  keepFloat16AsUint16();
  const port = parentPort!;
  const init = workerData as WorkerInit;
  // Fatal only for onnxruntime's process-wide logger too (see sessionOptions): it is the one that writes
  // "Failed to load library ...providers_cuda.so" when a provider cannot load, which createSession
  // reports in the server's own words. Read once, when the first session of the process is created.
  ort.env.logLevel = 'fatal';
  let session: ort.InferenceSession;
  try {
    const created = await createSession(init);
    session = created.session;
    port.postMessage({
      type: 'ready',
      inputs: session.inputMetadata.map((m) => ({ ...m })),
      outputs: session.outputMetadata.map((m) => ({ ...m })),
      provider: created.provider,
      fallbackReason: created.fallbackReason,
    } satisfies FromWorker);
  } catch (e) {
    const message = (e as Error).message;
    port.postMessage({ type: 'load-failed', message: unexchangeableType(message) ?? message } satisfies FromWorker);
    return;
  }

  // onnxruntime-node keeps the outputs asked for as keys of a plain object: with an output named
  // '__proto__' among the model's, every named list fails ('__proto__' is found there through the
  // prototype). Naming '__proto__' too sets that object's prototype to null instead of a key, so only
  // the outputs the engine asked for run. Asking for none would run every output, and fail on any that
  // is not a tensor (a ZipMap beside it).
  const protoOutput = session.outputNames.includes('__proto__');

  // Runs one message at a time, in order: the engine may post the next batch before this one is done
  // (pipelining), and each run's computeMs must cover that run alone.
  let previous: Promise<void> = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    previous = previous.then(() => handle(msg));
  });

  async function handle(msg: ToWorker): Promise<void> {
    if (msg.type !== 'run') return;
    try {
      // No prototype: on a plain object, an input named '__proto__' would set the object's prototype
      // instead of a key, and onnxruntime-node refuses such feeds.
      const feeds: Record<string, ort.Tensor> = Object.create(null);
      for (const t of msg.feeds) {
        feeds[t.name] = new ort.Tensor(t.type as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.dims);
      }
      const started = performance.now();
      const results = await session.run(feeds, protoOutput ? [...msg.outputNames, '__proto__'] : msg.outputNames);
      const computeMs = performance.now() - started;
      const outputs: WireTensor[] = msg.outputNames.map((name) => {
        const r = results[name];
        return { name, type: r.type as WireTensor['type'], dims: [...r.dims], data: r.data as WireTensor['data'] };
      });
      port.postMessage({ type: 'result', id: msg.id, outputs, computeMs } satisfies FromWorker, transferables(outputs));
    } catch (e) {
      port.postMessage({ type: 'run-failed', id: msg.id, message: (e as Error).message } satisfies FromWorker);
    }
  }
}

if (parentPort) {
  void main();
}
