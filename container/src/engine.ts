/**
 * The inference engine: a pool of worker threads (one onnxruntime session each) behind a bounded,
 * deadline-aware queue with Triton-style dynamic batching.
 *
 * Batching: when a worker is free, the engine takes the oldest queued request and every later request
 * with the same non-batch dimensions, up to `maxBatchSize` rows, stacks them along axis 0, runs once, and
 * hands each caller exactly its own rows of every output. With `maxQueueDelayMs` > 0 a free worker waits
 * up to that long for a fuller batch. Models without a dynamic first axis run one request per run.
 */
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { InferenceError } from './errors';
import type { ServingConfig, WarmUpConfig } from './config';
import { wantsGpu } from './gpus';
import { buildSignature, describeShape, elementCount, fromHalfBits, ModelSignature, OrtValueMetadata, TensorData, toHalfBits, WireTensor } from './tensors';
import type { FromWorker, ToWorker, WorkerInit } from './worker';
import { transferables } from './worker';
import { disableOrtTelemetry } from './telemetry';

/** One caller's request as the engine sees it: every model input, in model order. */
export interface InferJob {
  readonly inputs: WireTensor[];
  /** Requested outputs (names). */
  readonly outputNames: string[];
  /**
   * Epoch ms (Date.now()) after which the answer is useless. The engine turns it into a time on the
   * monotonic clock when it takes the request, so a step of the wall clock (NTP, a resumed VM) neither
   * expires its requests early nor lets them wait on, nor makes a busy worker look stuck.
   */
  readonly deadline: number;
  /** True once nobody waits for the answer (the client hung up): a request in parts stops there. */
  readonly cancelled?: () => boolean;
}

/** The engine's clock: milliseconds on the monotonic clock (performance.now()), not the wall clock. */
const clock = (): number => performance.now();

/** The answer while every worker is lost and none could be replaced yet. */
function workersLost(): InferenceError {
  return new InferenceError('MODEL_NOT_READY', 'every inference worker stopped and none could be replaced yet; retry shortly', { retryAfterSeconds: 5 });
}

/** The answer to the callers of a run whose worker died in it. */
function workerCrashed(err: Error | undefined): InferenceError {
  return new InferenceError('WORKER_CRASHED', `the inference worker stopped during the run: ${err?.message ?? 'unknown reason'}`);
}

/** The error a request in parts ends with when its client has gone. */
export function clientClosed(): InferenceError {
  return new InferenceError('CLIENT_CLOSED', 'the client closed the connection; what was left of its request was not run');
}

/** Observations the metrics plugin records. */
export interface EngineHooks {
  onRun?(info: { rows: number; requests: number; computeMs: number }): void;
  /** A run onnxruntime failed (the worker answered with an error; a crash is a worker event). */
  onRunFailed?(info: { rows: number; requests: number }): void;
  /** How long a request waited in the queue: until its run started, or until it was answered there. */
  onQueueWait?(ms: number): void;
  /** Requests answered successfully by one run. */
  onAnswered?(requests: number): void;
  onQueue?(depth: number, runsInFlight: number): void;
  /**
   * Requests received but not yet queued (body still arriving or being parsed). The batcher waits for a
   * fuller batch only while there are some.
   */
  requestsArriving?(): number;
  onWorkerEvent?(event: string, detail: Record<string, unknown>): void;
}

interface Pending extends InferJob {
  readonly rows: number;
  readonly bytes: number;
  readonly key: string;
  readonly enqueuedAt: number;
  /** Runs alone, never merged: set after a merged run it was part of failed (see dispatch). */
  solo?: boolean;
  /** Answered already, while its run went on past the request's deadline: the run's result is dropped. */
  late: boolean;
  /** Its queue wait was recorded (a request queued again after its run was given up is not counted twice). */
  waitRecorded: boolean;
  resolve(outputs: WireTensor[]): void;
  reject(err: Error): void;
}

interface Run {
  resolve(outputs: WireTensor[]): void;
  reject(err: Error): void;
  /** The callers' requests in the run (none for warm-up and probe runs). */
  readonly jobs?: readonly Pending[];
  /**
   * Forgets the run, which its worker may never finish: answers its callers with `err`, or queues them
   * again first in line when `requeue` (the run had not started), and updates the run counters.
   */
  abandon?(err: InferenceError, requeue: boolean): void;
}

interface Slot {
  worker: Worker;
  /** The GPU its session runs on, when the providers ask for one. */
  readonly deviceId: number;
  /** Runs posted to this worker and not yet answered, by id (at most PIPELINE_DEPTH). */
  readonly runs: Map<number, Run>;
  /**
   * Run messages the worker has not reported on yet, including runs whose callers were already answered
   * (at shutdown). A worker must not be terminated while onnxruntime is inside a run: onnxruntime-node
   * then aborts the whole process.
   */
  outstanding: number;
  /** Called when `outstanding` drops to 0. */
  onQuiet?: () => void;
  /** Since when the worker has been in its current run (set when a run starts; see watch). */
  busySince: number;
  /** When the run it was set aside in started (see retire). */
  stuckSince?: number;
  /** When it was set aside (see retire). */
  setAsideAt?: number;
}

/**
 * How often the engine checks its runs: a caller whose run is still going at its deadline is answered
 * (within this long after it), and a worker in one run for longer than limits.requestTimeoutMs is set
 * aside (see InferenceEngine.watch).
 */
export const WATCH_INTERVAL_MS = 100;

/**
 * Runs a worker may hold at once when runs are short (the average run under PIPELINE_MAX_RUN_MS): the
 * next batch is already waiting in the worker's message queue when the current run ends, so neither
 * thread waits for the other to wake up (about 70 us per hop on a small VM, several times the run itself
 * for a small model). Long runs are not pipelined: their requests are better off queued on the HTTP
 * thread, where later arrivals can still join their batch.
 */
export const PIPELINE_DEPTH = 2;
export const PIPELINE_MAX_RUN_MS = 0.25;

/** Rows a run needs before its cost per row is taken for the cost of a row (see rowCostMinRows). */
export const ROW_COST_MIN_ROWS = 16;

/** onnxruntime's message when a node of the model failed during a run. */
const NODE_FAILED = /Non-zero status code returned while running \S+ node/;

function bytesOf(tensors: readonly WireTensor[]): number {
  let n = 0;
  for (const t of tensors) {
    if (Array.isArray(t.data)) {
      for (const s of t.data) n += s.length * 2 + 16;
    } else {
      n += t.data.byteLength;
    }
  }
  return n;
}

/** How many of `workers` workers run on device `deviceId` when they take `devices` devices in turn (spawnAll). */
export function workersOnDevice(workers: number, devices: number, deviceId: number): number {
  return Math.floor(workers / devices) + (deviceId < workers % devices ? 1 : 0);
}

/** Whether a tensor's values were moved to a worker (its buffer is detached: empty where values were). */
function moved(t: WireTensor): boolean {
  return !Array.isArray(t.data) && t.data.buffer.byteLength === 0 && t.data.length === 0 && elementCount(t.dims) > 0;
}

/** Requests can share a run when every input has the same non-batch dimensions: this key says which. */
function batchKey(tensors: readonly WireTensor[]): string {
  let key = '';
  for (let i = 0; i < tensors.length; i++) {
    const dims = tensors[i].dims;
    if (i > 0) key += '|';
    for (let d = 1; d < dims.length; d++) key += d > 1 ? `x${dims[d]}` : `${dims[d]}`;
  }
  return key;
}

/** Stacks the same input of several jobs along axis 0. */
export function stack(parts: readonly WireTensor[]): WireTensor {
  const first = parts[0];
  if (parts.length === 1) return first;
  const rows = parts.reduce((a, p) => a + p.dims[0], 0);
  const dims = [rows, ...first.dims.slice(1)];
  if (Array.isArray(first.data)) {
    const data: string[] = [];
    for (const p of parts) for (const s of p.data as string[]) data.push(s);
    return { name: first.name, type: first.type, dims, data };
  }
  const total = parts.reduce((a, p) => a + (p.data as Float32Array).length, 0);
  const Ctor = (first.data as Float32Array).constructor as new (n: number) => Float32Array;
  const data = new Ctor(total);
  let offset = 0;
  for (const p of parts) {
    data.set(p.data as Float32Array, offset);
    offset += (p.data as Float32Array).length;
  }
  return { name: first.name, type: first.type, dims, data: data as unknown as TensorData };
}

/** Takes rows [start, start + rows) of a tensor whose first axis is the batch. */
export function sliceRows(t: WireTensor, start: number, rows: number, totalRows: number): WireTensor {
  if (t.dims.length === 0 || t.dims[0] !== totalRows) {
    throw new InferenceError('INFERENCE_FAILED', `output '${t.name}' has shape ${JSON.stringify(t.dims)}; its first axis should be the batch of ${totalRows} rows, so it cannot be split back per request`);
  }
  if (start === 0 && rows === totalRows) return t;
  const per = elementCount(t.dims.slice(1));
  const data = Array.isArray(t.data)
    ? t.data.slice(start * per, (start + rows) * per)
    : (t.data as Float32Array).subarray(start * per, (start + rows) * per);
  return { name: t.name, type: t.type, dims: [rows, ...t.dims.slice(1)], data: data as unknown as TensorData };
}

/**
 * How much larger the floats of the rows beside row 1 are in the probe's last run (PROBE_APART_SEEDS).
 * Within float16's range (65504), and large enough that a row that takes even a 1e-6 share of another
 * row's values moves by more than the float tolerance.
 */
const PROBE_APART_SCALE = 1e4;

/** The probe's last run: row 1 between rows 2 and 3, whose floats are PROBE_APART_SCALE times larger. */
const PROBE_APART_SEEDS = [2, 1, 3];

/**
 * The batching probe's runs: row 1 alone (twice), row 2 alone, both together, and row 1 between two
 * rows of much larger floats.
 */
interface Probe {
  readonly first: WireTensor[];
  readonly again: WireTensor[];
  readonly second: WireTensor[];
  readonly both: WireTensor[];
  /**
   * Row 1 between rows 2 and 3 scaled by PROBE_APART_SCALE; undefined when no float input varies, or
   * when the model refused such values (a float cast to an index, say), which says nothing of mixing.
   */
  readonly apart?: WireTensor[];
  /** Whether the rows' values differed (else only shapes can be compared). */
  readonly valuesVary: boolean;
}

/** Why the probe's runs show that the model's first axis is not an independent batch, if they do. */
function whyRowsMix({ first, again, second, both, apart, valuesVary }: Probe): string | undefined {
  const runs: Array<[WireTensor[], number]> = [[first, 1], [both, 2], ...(apart ? [[apart, 3] as [WireTensor[], number]] : [])];
  for (const [run, rows] of runs) {
    const wrong = run.find((t) => t.dims[0] !== rows);
    if (wrong) return `output '${wrong.name}' has shape ${JSON.stringify(wrong.dims)} for ${rows} input row${rows > 1 ? 's' : ''}: its first axis is not the batch`;
    const grown = run.find((t, i) => t.dims.slice(1).join() !== first[i].dims.slice(1).join());
    if (grown) {
      return `output '${grown.name}' has shape ${JSON.stringify(first[run.indexOf(grown)].dims)} for 1 input row and ${JSON.stringify(grown.dims)} for ${rows}: more than its first axis follows the rows`;
    }
  }
  if (!valuesVary) return undefined;
  // Rows must not change each other: each row of the 2-row run must be what it is alone (one input's
  // rows summed into another's would pass every shape check). An output that differs between two
  // runs of the same row (random sampling) cannot be compared.
  for (const [i, t] of both.entries()) {
    if (firstDifference(again[i], 0, first[i])) continue;
    const differs = firstDifference(t, 0, first[i]) ?? firstDifference(t, 1, second[i]);
    if (differs) return `output '${t.name}' of a row run together with another (${differs}) differs from the same row run alone: the model mixes rows, so requests cannot be merged`;
  }
  // Two alike rows hide a slight mix (a 1e-4 share of the batch's mean moves a row by 1e-4 of itself,
  // within the tolerance) and a mix through shared statistics (dynamic quantization takes one scale
  // for the whole tensor, the same for two rows of alike range). Beside rows 1e4 times larger, either
  // moves the row far past the tolerance; a row-independent model gives the row exactly what it gives
  // alone (measured on onnxruntime's CPU provider: bit for bit, see container/README.md).
  for (const [i, t] of (apart ?? []).entries()) {
    if (firstDifference(again[i], 0, first[i])) continue;
    const differs = firstDifference(t, 1, first[i]);
    if (differs) {
      return `output '${t.name}' of a row run between two rows ${PROBE_APART_SCALE} times larger (${differs}) differs from the same row run alone: the model mixes rows, so requests cannot be merged`;
    }
  }
  return undefined;
}

/**
 * Inputs for the batching probe: one row per seed, dynamic inner dimensions set to 1. Rows differ with
 * their seed (floats spread over [0.25, 1.25), integers 1 or 0, booleans, strings 'a' or ''), small
 * values any model should take; `vary` says which inputs vary (the others are zeros). An input named
 * in `shapes` (warmUp.shapes, for the warm-up: one seed, no values varied) takes the shape given there.
 */
function probeFeeds(sig: ModelSignature, seeds: readonly number[], vary: 'all' | 'non-integer' | 'none', scales?: readonly number[], shapes?: WarmUpConfig['shapes']): WireTensor[] {
  const rows = seeds.length;
  return sig.inputs.map((m) => {
    const given = shapes && Object.hasOwn(shapes, m.name) ? shapes[m.name] : undefined;
    const dims = given ? [...given] : (m.shape ?? [1]).map((d, axis) => (d === -1 ? (axis === 0 ? rows : 1) : d));
    const n = elementCount(dims);
    const per = Math.max(1, n / rows);
    const rowAt = (k: number) => Math.min(rows - 1, Math.floor(k / per));
    const seedAt = (k: number) => seeds[rowAt(k)];
    const real = (k: number) => (vary === 'none' ? 0 : (scales?.[rowAt(k)] ?? 1) * (0.25 + ((seedAt(k) * 7919 + (k % per) * 104_729) % 1000) / 1000));
    const integer = !['string', 'float32', 'float64', 'float16', 'bool'].includes(m.type);
    const bit = (k: number) => (vary === 'all' || (vary === 'non-integer' && !integer) ? seedAt(k) % 2 : 0);
    let data: TensorData;
    switch (m.type) {
      case 'string': data = Array.from({ length: n }, (_, k) => (bit(k) ? 'a' : '')); break;
      case 'float32': data = Float32Array.from({ length: n }, (_, k) => real(k)); break;
      case 'float64': data = Float64Array.from({ length: n }, (_, k) => real(k)); break;
      case 'float16': data = Uint16Array.from({ length: n }, (_, k) => toHalfBits(real(k))); break;
      case 'int64': data = BigInt64Array.from({ length: n }, (_, k) => BigInt(bit(k))); break;
      case 'uint64': data = BigUint64Array.from({ length: n }, (_, k) => BigInt(bit(k))); break;
      case 'int8': data = Int8Array.from({ length: n }, (_, k) => bit(k)); break;
      case 'int16': data = Int16Array.from({ length: n }, (_, k) => bit(k)); break;
      case 'int32': data = Int32Array.from({ length: n }, (_, k) => bit(k)); break;
      case 'uint16': data = Uint16Array.from({ length: n }, (_, k) => bit(k)); break;
      case 'uint32': data = Uint32Array.from({ length: n }, (_, k) => bit(k)); break;
      default: data = Uint8Array.from({ length: n }, (_, k) => bit(k)); break; // uint8, bool
    }
    return { name: m.name, type: m.type, dims, data };
  });
}

/**
 * Where row `row` of `batched` differs from row 0 of `alone`, described; undefined when they agree
 * (floats within rounding: a merged run may use other kernels; NaN agrees with NaN).
 */
function firstDifference(batched: WireTensor, row: number, alone: WireTensor): string | undefined {
  const per = alone.data.length;
  const float = batched.type === 'float32' || batched.type === 'float64' || batched.type === 'float16';
  const value = (t: WireTensor, k: number) => (t.type === 'float16' ? fromHalfBits((t.data as Uint16Array)[k]) : t.data[k]);
  for (let k = 0; k < per; k++) {
    const a = value(batched, row * per + k);
    const b = value(alone, k);
    if (a === b) continue;
    if (float && typeof a === 'number' && typeof b === 'number') {
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      const tolerance = batched.type === 'float16' ? 1e-2 : 1e-3;
      if (Math.abs(a - b) <= tolerance * (1e-1 + Math.max(Math.abs(a), Math.abs(b)))) continue;
    }
    return `row ${row}, element ${k}: ${String(a)} against ${String(b)}`;
  }
  return undefined;
}

/** The values in some tensors (a string counts one). */
export function valueCount(tensors: readonly WireTensor[]): number {
  let n = 0;
  for (const t of tensors) n += t.data.length;
  return n;
}

/**
 * 400 ANSWER_TOO_LARGE for a request of `rows` rows whose answer holds `perRow` values a row (over the
 * outputs it gets back), when that is more than `limit` (limits.maxAnswerElements); else undefined.
 */
export function answerTooLarge(perRow: number, rows: number, limit: number): InferenceError | undefined {
  const values = Math.ceil(perRow * rows);
  if (values <= limit) return undefined;
  const most = Math.floor(limit / Math.max(perRow, 1e-9));
  return new InferenceError('ANSWER_TOO_LARGE', `the answer would hold ${values} values (${Math.ceil(perRow)} a row, ${rows} rows), more than limits.maxAnswerElements (${limit}): ` +
    (most >= 1 ? `send at most ${most} rows per request` : 'even one row is more; raise limits.maxAnswerElements (MAX_ANSWER_ELEMENTS) or ask for fewer outputs'));
}

/**
 * Why limits.maxTensorRank or limits.maxTensorElements would refuse every request to a model, if they
 * would: an input with more declared dimensions than the rank limit, or whose fixed dimensions alone
 * (dynamic ones at least 1) hold more elements than the element limit. Such a server would be ready
 * and answer nothing but 400s.
 */
export function limitsRefuseEveryRequest(sig: ModelSignature, limits: Pick<ServingConfig['limits'], 'maxTensorRank' | 'maxTensorElements'>): string | undefined {
  for (const m of sig.inputs) {
    if (!m.shape) continue;
    if (m.shape.length > limits.maxTensorRank) {
      return `limits.maxTensorRank is ${limits.maxTensorRank}, but input '${m.name}' has ${m.shape.length} dimensions (${describeShape(m)}): every request would be refused; raise limits.maxTensorRank to at least ${m.shape.length}`;
    }
    const least = m.shape.reduce((n, d) => n * Math.max(1, d), 1);
    if (least > limits.maxTensorElements) {
      return `limits.maxTensorElements is ${limits.maxTensorElements}, but input '${m.name}' has at least ${least} elements (${describeShape(m)}): every request would be refused; raise limits.maxTensorElements to at least ${least}`;
    }
  }
  return undefined;
}

/**
 * Why warmUp.shapes does not fit the model, if it does not: a name that is no input of the model, a
 * shape of another rank than the input declares, or a fixed dimension of another size. A dynamic
 * dimension takes any size; an input without a declared shape takes any shape.
 */
export function warmUpShapesMisfit(sig: ModelSignature, shapes: WarmUpConfig['shapes']): string | undefined {
  for (const [name, dims] of Object.entries(shapes)) {
    const field = `'warmUp.shapes.${name}' is ${JSON.stringify(dims)}`;
    const m = sig.inputs.find((i) => i.name === name);
    if (!m) return `${field}, but the model has no input '${name}'; its inputs are ${sig.inputs.map((i) => `'${i.name}' (${describeShape(i)})`).join(', ')}`;
    if (!m.shape) continue;
    if (dims.length !== m.shape.length) {
      return `${field}, with ${dims.length} dimension${dims.length === 1 ? '' : 's'}, but input '${name}' has ${m.shape.length}: ${describeShape(m)}`;
    }
    const axis = m.shape.findIndex((d, k) => d !== -1 && d !== dims[k]);
    if (axis !== -1) return `${field}, but dimension ${axis} of input '${name}' is fixed at ${m.shape[axis]}: ${describeShape(m)}`;
  }
  return undefined;
}

export class InferenceEngine {
  /**
   * Starts the workers, loads the model in each, and runs one warm-up inference per worker.
   *
   * `signal` stops the start at the next step (shutdown began): a model load or a run already going
   * cannot be interrupted and ends first, then no further probe run, second pool or warm-up starts, the
   * workers are stopped (idle by then), and start() rejects with `signal.reason`. On a GPU those runs
   * are a session's first (a TensorRT engine build can take minutes), and the orchestrator kills the
   * process 30 s after SIGTERM.
   */
  public static async start(modelPath: string, config: ServingConfig, hooks: EngineHooks = {}, signal?: AbortSignal): Promise<InferenceEngine> {
    signal?.throwIfAborted();
    disableOrtTelemetry(); // before the first worker creates onnxruntime's environment
    const engine = new InferenceEngine(modelPath, config, hooks);
    try {
      await engine.spawnAll();
      signal?.throwIfAborted();
      const refused = limitsRefuseEveryRequest(engine.signature, config.limits);
      if (refused) throw new Error(`cannot serve model ${modelPath}: ${refused}`);
      const misfit = config.warmUp && warmUpShapesMisfit(engine.signature, config.warmUp.shapes);
      if (misfit) throw new Error(`cannot serve model ${modelPath}: ${misfit}`);
      if (engine.batching && engine.signature.notBatchableReason) engine.batchingOffReason = `the model's first axis cannot be the batch: ${engine.signature.notBatchableReason}`;
      if (engine.batchingActive) await engine.probeBatching(signal);
      signal?.throwIfAborted();
      if (config.unbatchedPool && !engine.batchingActive) {
        // The model cannot merge requests: run them side by side on several smaller workers instead.
        // The first workers are idle (no warm-up yet), so stopping them is safe.
        const first = engine.slots.splice(0);
        await Promise.all(first.map((s) => s.worker.terminate()));
        engine.pool = config.unbatchedPool;
        await engine.spawnAll();
        signal?.throwIfAborted();
      }
      await engine.warmUp(signal);
    } catch (e) {
      await engine.terminate();
      throw e;
    }
    return engine;
  }

  public signature!: ModelSignature;
  /** The execution provider the workers use ('cpu', 'cuda', ...). */
  public provider = 'cpu';
  public fallbackReason?: string;
  /** The device of the worker whose provider the pool runs on (the first one ready). */
  private providerDevice?: number;

  private readonly slots: Slot[] = [];
  private queue: Pending[] = [];
  private queuedRows = 0;
  private queuedBytes = 0;
  private runningBatches = 0;
  private nextId = 1;
  private ewmaRunMs = 1;
  /**
   * The lowest compute time per row seen in a run of at least rowCostMinRows rows (big runs are cheapest
   * per row): wait estimates use it. Until the first such run, queued rows count for nothing.
   */
  private minMsPerRow = Infinity;
  /** Why batching was turned off after probing the model, if it was. */
  public batchingOffReason?: string;
  private batchProbeFailed = false;
  private respawnTimer?: NodeJS.Timeout;
  /** Replacement workers still loading: close() waits for them (stopping one mid-load aborts the process). */
  private readonly loading = new Set<Promise<Slot>>();
  /** Set when replacing a lost worker failed and no worker is left; cleared when one is back. */
  private workersDown = false;
  /**
   * Workers set aside in a run that outlasted limits.requestTimeoutMs (see watch): they finish it in the
   * background, nobody waiting for it, and are stopped when it ends.
   */
  private readonly retired = new Set<Slot>();
  /** Replacements of set-aside workers not started yet (too many set aside at once), by GPU. */
  private readonly owed: number[] = [];
  private watchTimer?: NodeJS.Timeout;
  private delayTimer?: NodeJS.Timeout;
  private deadlineTimer?: NodeJS.Timeout;
  private deadlineAt = 0;
  private terminated = false;
  private started = false;
  private closing = false;
  private idleWaiters: Array<() => void> = [];
  private readonly batching: boolean;
  /** Workers and intra-op threads per worker in use. */
  private pool: { readonly workers: number; readonly intraOpNumThreads: number };

  private constructor(private readonly modelPath: string, private readonly config: ServingConfig, private readonly hooks: EngineHooks) {
    this.batching = config.batching.enabled && config.batching.maxBatchSize > 1;
    this.pool = config;
  }

  /** Requests waiting for a worker. */
  public get queueDepth(): number { return this.queue.length; }
  /** Merged runs executing now. */
  public get runsInFlight(): number { return this.runningBatches; }
  /** Whether requests are merged (the model allows it and the config asks for it). */
  public get batchingActive(): boolean { return this.batching && this.signature.batchable && !this.batchProbeFailed; }
  public get workerCount(): number { return this.slots.length; }
  /** False while every worker has been lost and none has been replaced yet. */
  public get healthy(): boolean { return !this.started || this.slots.length > 0; }
  /** The GPU each worker's session was given (0 for every worker on the CPU). */
  public get deviceIds(): number[] { return this.slots.map((s) => s.deviceId); }
  /** How long the engine has had no worker (every one lost, none replaced yet); 0 when it has one. */
  public get workerlessForMs(): number { return this.workerlessSince === undefined ? 0 : clock() - this.workerlessSince; }
  private workerlessSince?: number;
  /** Workers set aside in an overlong run (see watch), still in it. */
  public get setAsideWorkers(): number { return this.retired.size; }
  /**
   * How long ago the first worker still set aside in an overlong run (see watch) was set aside; 0 when none is.
   * Counted from the set-aside, not from the start of its run, which was already past limits.requestTimeoutMs.
   */
  public get setAsideForMs(): number {
    let oldest = 0;
    const now = clock();
    for (const s of this.retired) oldest = Math.max(oldest, now - (s.setAsideAt ?? now));
    return oldest;
  }
  /** onnxruntime intra-op threads per worker. */
  public get intraOpNumThreads(): number { return this.pool.intraOpNumThreads; }

  /** Queues a request and resolves with its outputs (in `outputNames` order). */
  public infer(job: InferJob): Promise<WireTensor[]> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    const rows = job.inputs[0]?.dims[0] ?? 1;
    const bytes = bytesOf(job.inputs);
    const { maxSize, maxBytes } = this.config.queue;
    // A request alone in the queue is always taken, whatever its size (bodyLimitBytes bounds it).
    if (this.queue.length >= maxSize || (this.queue.length > 0 && this.queuedBytes + bytes > maxBytes)) {
      const why = this.queue.length >= maxSize ? `${this.queue.length} requests are queued (queue.maxSize ${maxSize})` : `queued tensors would exceed queue.maxBytes ${maxBytes}`;
      return Promise.reject(new InferenceError('QUEUE_FULL', `the inference queue is full: ${why}`, { retryAfterSeconds: this.retryAfterSeconds() }));
    }
    const now = clock();
    const deadline = now + (job.deadline - Date.now());
    const waitMs = this.estimateWaitMs(rows);
    if (now + waitMs > deadline) {
      // Its deadline already past: the body took that long to arrive (limits.requestTimeoutMs from its start).
      const why = deadline <= now ? `this request's deadline passed ${Math.round(now - deadline)} ms before it was read in full (limits.requestTimeoutMs counts from its start)`
        : `the queue ahead would take about ${Math.round(waitMs)} ms, beyond this request's deadline in ${Math.round(deadline - now)} ms`;
      return Promise.reject(new InferenceError('DEADLINE_UNMEETABLE', why, { retryAfterSeconds: this.retryAfterSeconds() }));
    }
    // A request larger than a batch runs in parts of at most maxBatchSize rows: one run of all its rows
    // could need far more memory than the body it came in (activations grow with the rows), and would
    // hold a worker for as long as it takes. It was admitted above as a whole; its parts are not checked
    // against the queue limits again (its own queued parts would refuse it).
    if (this.batchingActive && rows > this.config.batching.maxBatchSize) return this.inferInParts(job, deadline, rows);
    return this.enqueue(job, deadline, rows, bytes, now);
  }

  /**
   * Why no request can be queued now, if none can: the server is shutting down, or every worker was
   * lost and none could be replaced (then requests are refused at once instead of waiting out their
   * deadline; while a replacement merely loads, they queue for it).
   */
  private refusal(): InferenceError | undefined {
    if (this.terminated) return new InferenceError('SHUTTING_DOWN', 'the server is shutting down and takes no new inference requests', { retryAfterSeconds: 1 });
    if (this.workersDown) return workersLost();
    if (this.allStuck) return this.allStuckError();
    return undefined;
  }

  /** Every worker is set aside in an overlong run, and none can be replaced until one of those runs ends. */
  private get allStuck(): boolean {
    return this.started && this.slots.length === 0 && this.loading.size === 0 && this.retired.size > 0;
  }

  private allStuckError(): InferenceError {
    return new InferenceError('MODEL_NOT_READY', `every inference worker is busy with a run that has gone on for longer than limits.requestTimeoutMs (${this.config.limits.requestTimeoutMs} ms), and no more can be started beside them; a new worker starts when one of those runs ends`, { retryAfterSeconds: 5 });
  }

  /** Answers every queued request with `err` and empties the queue. */
  private rejectQueued(err: InferenceError): void {
    const now = clock();
    for (const p of this.queue) {
      this.recordWait(p, now);
      p.reject(err);
    }
    this.queue = [];
    this.queuedRows = 0;
    this.queuedBytes = 0;
  }

  /** Puts an admitted request in the queue; `deadline` and `now` on the engine's clock. */
  private enqueue(job: InferJob, deadline: number, rows: number, bytes: number, now: number): Promise<WireTensor[]> {
    return new Promise<WireTensor[]>((resolve, reject) => {
      this.queue.push({
        inputs: job.inputs, outputNames: job.outputNames, deadline, cancelled: job.cancelled,
        rows, bytes, key: batchKey(job.inputs), enqueuedAt: now, late: false, waitRecorded: false, resolve, reject,
      });
      this.queuedRows += rows;
      this.queuedBytes += bytes;
      this.armDeadlineTimer(deadline);
      this.pump();
    });
  }

  /**
   * Queues a large request as parts of at most maxBatchSize rows, a few at a time (two per worker keeps
   * every worker busy without filling the queue), and stacks the parts' outputs back in order. The
   * model batches, so its rows are independent and its outputs' first axis is the batch.
   */
  private inferInParts(job: InferJob, deadline: number, rows: number): Promise<WireTensor[]> {
    const size = this.config.batching.maxBatchSize;
    const count = Math.ceil(rows / size);
    const results: WireTensor[][] = new Array(count);
    return new Promise<WireTensor[]>((resolve, reject) => {
      let next = 0;
      let running = 0;
      let answered = 0;
      let failed = false;
      const launch = (): void => {
        const window = 2 * Math.max(1, this.slots.length);
        while (!failed && running < window && next < count) {
          const stop = job.cancelled?.() ? clientClosed() : this.refusal();
          if (stop) {
            failed = true;
            reject(stop);
            return;
          }
          const part = next++;
          const start = part * size;
          const n = Math.min(size, rows - start);
          running++;
          const inputs = job.inputs.map((t) => {
            const slice = sliceRows(t, start, n, rows);
            return { ...slice, data: slice.data.slice() as TensorData }; // owns its buffer: it is moved to a worker
          });
          this.enqueue({ ...job, inputs }, deadline, n, bytesOf(inputs), clock()).then((outputs) => {
            if (failed) return;
            // The first part answered shows what a row's answer holds: a request whose whole answer
            // would pass the limit stops here, before its other parts run.
            const tooLarge = answered === 0 ? answerTooLarge(valueCount(outputs) / n, rows, this.config.limits.maxAnswerElements) : undefined;
            if (tooLarge) {
              failed = true;
              reject(tooLarge);
              return;
            }
            results[part] = outputs;
            running--;
            if (++answered === count) resolve(results[0].map((_, i) => stack(results.map((r) => r[i]))));
            else launch();
          }, (e: Error) => {
            failed = true;
            reject(e);
          });
        }
      };
      launch();
    });
  }

  /** Runs inputs on one worker now, bypassing the queue (warm-up and tests). */
  private runOn(slot: Slot, feeds: WireTensor[], outputNames: string[]): Promise<{ outputs: WireTensor[]; computeMs: number }> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      slot.runs.set(id, { resolve: (outputs) => resolve({ outputs, computeMs: this.lastComputeMs }), reject });
      if (slot.outstanding++ === 0) slot.busySince = clock();
      slot.worker.postMessage({ type: 'run', id, feeds, outputNames } satisfies ToWorker, transferables(feeds));
    });
  }

  private lastComputeMs = 0;

  private retryAfterSeconds(): number {
    const runs = Math.ceil(this.queue.length / Math.max(1, this.slots.length));
    return Math.max(1, Math.ceil((runs * this.ewmaRunMs) / 1000));
  }

  /**
   * The fewest rows of a run that sets the cost of a row. A run of a few rows costs mostly what any run
   * costs (heavy test model: 0.4-0.6 ms for 1 row against 0.07-0.08 ms a row in runs of 16 to 1000):
   * taken per row, it would price a large request many times too high and refuse it as DEADLINE_UNMEETABLE
   * when it could be served in time. A model without a batch axis runs one row per run, so there every run counts;
   * with batching, a large request runs in parts of maxBatchSize rows, whose runs count.
   */
  private get rowCostMinRows(): number {
    if (!this.signature.batchable) return 1;
    return this.batchingActive ? Math.min(ROW_COST_MIN_ROWS, this.config.batching.maxBatchSize) : ROW_COST_MIN_ROWS;
  }

  /**
   * A lower bound on how long a request of `rows` rows would wait and run: the rows queued ahead and its
   * own at the cheapest cost per row seen (minMsPerRow), plus a typical run on each busy worker, spread over the
   * workers. Per row, not per run: one 20,000-row run must not make later estimates count 20,000 rows
   * for every run ahead. It errs low on purpose: a request refused here is refused for good, while one
   * let in that then runs late is still answered 503 at its deadline. Nothing ahead and a free worker
   * means no wait.
   */
  private estimateWaitMs(rows: number): number {
    if (this.queue.length === 0 && this.freeSlot()) return 0;
    let busy = 0;
    for (const s of this.slots) if (s.runs.size > 0) busy++;
    const perRow = Number.isFinite(this.minMsPerRow) ? this.minMsPerRow : 0;
    const work = (this.queuedRows + rows) * perRow + busy * this.ewmaRunMs;
    return work / Math.max(1, this.slots.length) + (this.batchingActive ? this.config.batching.maxQueueDelayMs : 0);
  }

  private pump(): void {
    let slot: Slot | undefined;
    while (this.queue.length > 0 && (slot = this.freeSlot())) {
      this.expire(clock());
      if (this.queue.length === 0) break;
      if (this.batchingActive && this.config.batching.maxQueueDelayMs > 0 && this.queuedRows < this.config.batching.maxBatchSize) {
        const waited = clock() - this.queue[0].enqueuedAt;
        const remaining = this.config.batching.maxQueueDelayMs - waited;
        // Waiting only pays when more requests are already on their way in: a lone request is never delayed.
        const coming = this.hooks.requestsArriving ? this.hooks.requestsArriving() : 1;
        if (remaining > 0 && coming > 0) {
          if (!this.delayTimer) {
            this.delayTimer = setTimeout(() => {
              this.delayTimer = undefined;
              this.pumpNow();
            }, remaining);
            this.delayTimer.unref();
          }
          break;
        }
      }
      this.dispatchBatch(slot);
    }
    this.armDeadlineTimer();
    this.hooks.onQueue?.(this.queue.length, this.runningBatches);
  }

  /** Dispatches whatever is queued, ignoring the batching delay (the delay timer fired). */
  private pumpNow(): void {
    let slot: Slot | undefined;
    while (this.queue.length > 0 && (slot = this.freeSlot())) {
      this.expire(clock());
      if (this.queue.length === 0) break;
      this.dispatchBatch(slot);
    }
    this.pump();
  }

  /** An idle worker, else (when runs are short) one with room in its pipeline, else undefined. */
  private freeSlot(): Slot | undefined {
    if (!this.started || this.terminated) return undefined;
    const depth = this.ewmaRunMs < PIPELINE_MAX_RUN_MS ? PIPELINE_DEPTH : 1;
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.runs.size === 0) return s;
      if (s.runs.size < depth && (!best || s.runs.size < best.runs.size)) best = s;
    }
    return best;
  }

  /** Takes the next batch from the queue and runs it on `slot` (unless every request in it had gone). */
  private dispatchBatch(slot: Slot): void {
    const batch = this.takeBatch();
    if (batch.length > 0) this.dispatch(slot, batch);
    else {
      this.hooks.onQueue?.(this.queue.length, this.runningBatches);
      this.notifyIdle();
    }
  }

  /**
   * Answers a queued request whose client has gone with CLIENT_CLOSED instead of running it, when it
   * would be taken into a batch. Under overload, clients time out and retry; running what they left
   * behind would keep the server behind. (Checked only here, so a request costs one check.)
   */
  private abandoned(p: Pending): boolean {
    if (!p.cancelled?.()) return false;
    this.queuedRows -= p.rows;
    this.queuedBytes -= p.bytes;
    this.recordWait(p, clock());
    p.reject(clientClosed());
    return true;
  }

  /** Records a request's wait once, when it leaves the queue for the first time (a rerun was counted already). */
  private recordWait(p: Pending, now: number): void {
    if (p.waitRecorded) return;
    p.waitRecorded = true;
    this.hooks.onQueueWait?.(now - p.enqueuedAt);
  }

  private takeBatch(): Pending[] {
    while (this.queue.length > 0 && this.abandoned(this.queue[0])) this.queue.shift();
    if (this.queue.length === 0) return [];
    const head = this.queue[0];
    const batch = [head];
    let rows = head.rows;
    const rest: Pending[] = [];
    if (this.batchingActive && !head.solo) {
      const max = this.config.batching.maxBatchSize;
      const now = clock();
      for (let i = 1; i < this.queue.length; i++) {
        const p = this.queue[i];
        // A request already past its deadline stays behind; the deadline timer answers it.
        if (!p.solo && p.key === head.key && rows + p.rows <= max && p.deadline > now) {
          if (this.abandoned(p)) continue;
          batch.push(p);
          rows += p.rows;
        } else {
          rest.push(p);
        }
      }
    } else {
      for (let i = 1; i < this.queue.length; i++) rest.push(this.queue[i]);
    }
    this.queue = rest;
    for (const p of batch) {
      this.queuedRows -= p.rows;
      this.queuedBytes -= p.bytes;
    }
    return batch;
  }

  private dispatch(slot: Slot, jobs: Pending[]): void {
    const now = clock();
    for (const j of jobs) this.recordWait(j, now);
    const totalRows = jobs.reduce((a, j) => a + j.rows, 0);
    const feeds = jobs.length === 1 ? jobs[0].inputs : jobs[0].inputs.map((_, i) => stack(jobs.map((j) => j.inputs[i])));
    const names = jobs.length === 1 ? jobs[0].outputNames : [...new Set(jobs.flatMap((j) => j.outputNames))];
    const id = this.nextId++;
    // A job's own buffers are moved to the worker, except when the run waits behind another in the
    // worker's queue (pipelining): if the worker is then set aside in that other run, the job goes back
    // to the queue and needs its values (a message moving an already moved buffer is silently dropped).
    // Merged jobs are stacked into new buffers, so theirs stay here either way.
    const transfer = jobs.length > 1 || slot.runs.size === 0 ? transferables(feeds) : [];
    this.runningBatches++;
    slot.runs.set(id, {
      jobs,
      abandon: (err, requeue) => {
        this.runningBatches--;
        const again = requeue ? jobs.filter((j) => !j.late && !j.inputs.some(moved)) : [];
        for (const j of jobs) {
          if (j.late || again.includes(j)) continue;
          j.late = true;
          j.reject(err);
        }
        this.queueFirst(again);
      },
      resolve: (outputs) => {
        this.runningBatches--;
        this.ewmaRunMs = 0.8 * this.ewmaRunMs + 0.2 * this.lastComputeMs;
        if (totalRows >= this.rowCostMinRows) this.minMsPerRow = Math.min(this.minMsPerRow, this.lastComputeMs / totalRows);
        this.hooks.onRun?.({ rows: totalRows, requests: jobs.length, computeMs: this.lastComputeMs });
        let start = 0;
        let answered = 0;
        const limit = this.config.limits.maxAnswerElements;
        for (const j of jobs) {
          if (j.late) { // answered at its deadline already
            start += j.rows;
            continue;
          }
          try {
            const mine = j.outputNames.map((n) => {
              const t = outputs[names.indexOf(n)];
              return jobs.length === 1 ? t : sliceRows(t, start, j.rows, totalRows);
            });
            const tooLarge = answerTooLarge(valueCount(mine) / j.rows, j.rows, limit);
            if (tooLarge) throw tooLarge;
            j.resolve(mine);
            answered++;
          } catch (e) {
            j.reject(e as Error);
          }
          start += j.rows;
        }
        if (answered > 0) this.hooks.onAnswered?.(answered);
      },
      reject: (err) => {
        this.runningBatches--;
        // onnxruntime refused a merged run: one caller's values (an index out of range, say) must not
        // fail the others, nor show them its data in the error. Each runs again alone, first in line.
        const waiting = jobs.filter((j) => !j.late); // the others were answered at their deadline
        if (jobs.length > 1 && err instanceof InferenceError && err.code === 'INFERENCE_FAILED' && !this.terminated) {
          if (waiting.length === 0) return;
          for (const j of waiting) j.solo = true;
          this.queueFirst(waiting);
          this.hooks.onWorkerEvent?.('merged-run-failed', { requests: jobs.length }); // not the message: it may quote a caller's values
          return;
        }
        // Run alone, a node that failed on the values (onnxruntime's "Non-zero status code returned while
        // running <op> node") is the caller's input, not the server: a 4xx. Running out of memory stays a 500.
        if (jobs.length === 1 && err instanceof InferenceError && err.code === 'INFERENCE_FAILED' && NODE_FAILED.test(err.message) && !/allocat/i.test(err.message)) {
          if (jobs[0].late) return;
          jobs[0].reject(new InferenceError('INPUT_REJECTED_BY_MODEL', `the model could not run on these values: ${err.message.replace(/^onnxruntime failed the run: /, '')}`));
          return;
        }
        for (const j of waiting) j.reject(err);
      },
    });
    if (slot.outstanding++ === 0) slot.busySince = now;
    try {
      slot.worker.postMessage({ type: 'run', id, feeds, outputNames: names } satisfies ToWorker, transfer);
    } catch (e) {
      // Not seen in practice (untransferable buffers are copied), but the jobs have left the queue and
      // the run is registered: without this their callers would never be answered.
      slot.outstanding--;
      slot.runs.delete(id);
      this.runningBatches--;
      const err = new InferenceError('INTERNAL', `the run could not be handed to its worker: ${(e as Error).message}`);
      for (const j of jobs) j.reject(err);
    }
  }

  /** Puts requests taken from the queue back at its head, in order (their run failed, or never started). */
  private queueFirst(jobs: Pending[]): void {
    if (jobs.length === 0) return;
    for (const j of jobs) {
      this.queuedRows += j.rows;
      this.queuedBytes += j.bytes;
    }
    this.queue = [...jobs, ...this.queue];
    // A timer armed for a later deadline would let these wait past their own.
    let earliest = Infinity;
    for (const j of jobs) if (j.deadline < earliest) earliest = j.deadline;
    this.armDeadlineTimer(earliest);
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type !== 'result' && msg.type !== 'run-failed') return;
    if (--slot.outstanding === 0 && slot.onQuiet) slot.onQuiet();
    if (slot.outstanding > 0) slot.busySince = clock(); // its next run starts now
    else if (this.retired.has(slot)) this.retiredDone(slot);
    const run = slot.runs.get(msg.id);
    if (!run) return;
    slot.runs.delete(msg.id);
    if (msg.type === 'result') {
      this.lastComputeMs = msg.computeMs;
      run.resolve(msg.outputs);
    } else {
      if (run.jobs?.length) this.hooks.onRunFailed?.({ rows: run.jobs.reduce((a, j) => a + j.rows, 0), requests: run.jobs.length }); // not warm-up or probe runs
      run.reject(new InferenceError('INFERENCE_FAILED', `onnxruntime failed the run: ${msg.message}`));
    }
    if (this.started && !this.terminated) this.pump();
    this.hooks.onQueue?.(this.queue.length, this.runningBatches);
    this.notifyIdle();
  }

  /**
   * Answers queued requests whose deadline has passed. `full` scans the whole queue (the deadline
   * timer does); otherwise only the head, which is cheap and almost always the oldest.
   */
  private expire(now: number, full = false): void {
    if (this.queue.length === 0) return;
    if (!full && this.queue[0].deadline > now) return;
    const keep: Pending[] = [];
    for (const p of this.queue) {
      if (p.deadline <= now) {
        this.queuedRows -= p.rows;
        this.queuedBytes -= p.bytes;
        this.recordWait(p, now); // the longest waits of all: left out, the histogram would hide an overload
        p.reject(new InferenceError('DEADLINE_EXCEEDED', `the request waited ${Math.round(now - p.enqueuedAt)} ms in the queue, past its deadline`, { retryAfterSeconds: this.retryAfterSeconds() }));
      } else {
        keep.push(p);
      }
    }
    this.queue = keep;
    this.hooks.onQueue?.(this.queue.length, this.runningBatches);
    this.notifyIdle();
  }

  /**
   * Keeps one timer armed at the earliest deadline in the queue (not the head's: a request that took
   * long to upload can be queued behind one with a later deadline).
   */
  private armDeadlineTimer(candidate?: number): void {
    if (this.queue.length === 0) {
      if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
      return;
    }
    // A newly queued request only needs comparing with the armed deadline; the whole queue is scanned
    // only when no timer is armed (it fired, or the queue was empty). A timer armed for a request that
    // has left the queue fires early and harmlessly, then re-arms.
    if (this.deadlineTimer && (candidate === undefined || this.deadlineAt <= candidate)) return;
    let head = candidate ?? Infinity;
    if (candidate === undefined) for (const p of this.queue) if (p.deadline < head) head = p.deadline;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineAt = head;
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      this.expire(clock(), true);
      this.armDeadlineTimer();
    }, Math.max(0, head - clock()) + 1);
    this.deadlineTimer.unref();
  }

  /**
   * Runs every WATCH_INTERVAL_MS once the engine has started. onnxruntime cannot interrupt a run, and one
   * request can make a run last for minutes or for good (a long sequence through attention, a Loop whose
   * trip count is an input). So:
   * - a caller whose run is still going at its deadline is answered 503 DEADLINE_EXCEEDED then, and the
   *   run's result is dropped for it;
   * - a worker that has been in one run for longer than limits.requestTimeoutMs (by then the deadline of
   *   every request in that run has passed) is set aside: it finishes the run in the background and is
   *   stopped when the run ends, and a new worker takes its place, so one request cannot stop the server.
   *   A set-aside worker still holds its copy of the model, so a replacement starts at once only while
   *   its device holds no more set-aside workers than pool workers; beyond that, it starts when a
   *   set-aside run on that device ends, and meanwhile the workers still in service take the requests,
   *   which are refused only while none is left (see allStuck).
   */
  private watch(): void {
    if (this.terminated) return;
    const now = clock();
    for (const slot of [...this.slots]) {
      let started = true; // the worker's first run is the one in progress; the others wait behind it
      for (const run of slot.runs.values()) {
        const current = started;
        started = false;
        if (!run.jobs) continue;
        for (const j of run.jobs) {
          if (j.late || j.deadline > now) continue;
          j.late = true;
          const why = current ? `the request's inference run was still going at its deadline, ${Math.round(now - slot.busySince)} ms into the run (onnxruntime cannot interrupt a run: it goes on, and its result is dropped)`
            : `the request's deadline passed while its run waited for its worker, still in an earlier run for ${Math.round(now - slot.busySince)} ms`;
          j.reject(new InferenceError('DEADLINE_EXCEEDED', why, { retryAfterSeconds: this.retryAfterSeconds() }));
        }
      }
      if (slot.outstanding > 0 && now - slot.busySince > this.config.limits.requestTimeoutMs) this.retire(slot, Math.round(now - slot.busySince));
    }
  }

  /** Sets aside a worker stuck in a run (see watch) and starts its replacement. */
  private retire(slot: Slot, runMs: number): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    this.retired.add(slot);
    slot.stuckSince = slot.busySince;
    slot.setAsideAt = clock();
    const [current, ...waiting] = [...slot.runs.values()];
    slot.runs.clear();
    // The run it is in may never end: its callers are answered now. Runs posted behind it have not
    // started: their requests go back to the queue, first in line, for the other workers.
    const err = new InferenceError('DEADLINE_EXCEEDED', `the request's inference run has gone on for ${runMs} ms, longer than limits.requestTimeoutMs (${this.config.limits.requestTimeoutMs} ms); its worker was set aside to finish it and a new one started`, { retryAfterSeconds: 5 });
    if (current) (current.abandon ?? ((e: InferenceError) => current.reject(e)))(err, false);
    for (const run of waiting) (run.abandon ?? ((e: InferenceError) => run.reject(e)))(err, true);
    if (this.slots.length === 0) this.workerlessSince ??= clock();
    this.hooks.onWorkerEvent?.('worker-stuck', { runMs, requestTimeoutMs: this.config.limits.requestTimeoutMs, setAside: this.retired.size });
    // Each set-aside worker still holds its copy of the model in its device's memory (a GPU's, or the
    // host's): a replacement starts at once only while that device holds no more set-aside workers than
    // pool workers, so it never holds more than twice its share of copies.
    // Shutting down with nothing queued, no request is left for a replacement: loading one would only
    // keep the process up longer.
    const wanted = !this.closing || this.queue.length > 0;
    if (wanted && this.setAsideOn(slot.deviceId) <= this.poolOn(slot.deviceId)) this.respawn(0, slot.deviceId);
    else if (wanted) this.owed.push(slot.deviceId);
    if (this.allStuck) this.rejectQueued(this.allStuckError());
    this.armDeadlineTimer();
    this.hooks.onQueue?.(this.queue.length, this.runningBatches);
    this.notifyIdle();
    this.pump();
  }

  /** A set-aside worker's run ended (or the worker is gone): stop it, and start a replacement still owed. */
  private retiredDone(slot: Slot, stop = true): void {
    if (!this.retired.delete(slot)) return;
    if (stop) void slot.worker.terminate(); // idle now: safe to stop
    // runMs: from the start of the run it was set aside in to the end of the last run it had been given.
    this.hooks.onWorkerEvent?.('stuck-worker-stopped', { runMs: Math.round(clock() - (slot.stuckSince ?? slot.busySince)), setAside: this.retired.size });
    // The device it held has room again: start a replacement still owed there.
    const owedAt = this.owed.indexOf(slot.deviceId);
    if (owedAt < 0 || this.terminated) return;
    this.owed.splice(owedAt, 1);
    this.respawn(0, slot.deviceId);
  }

  /** Workers set aside on a device (a GPU, or 0 for the CPU). */
  private setAsideOn(deviceId: number): number {
    let n = 0;
    for (const s of this.retired) if (s.deviceId === deviceId) n++;
    return n;
  }

  /** The pool's workers on a device. */
  private poolOn(deviceId: number): number {
    return workersOnDevice(this.pool.workers, this.devices(), deviceId);
  }

  /** The devices the workers take in turn: the visible GPUs with a GPU provider, else one (the CPU). */
  private devices(): number {
    return wantsGpu(this.config.executionProviders) ? Math.max(1, this.config.gpus) : 1;
  }

  private spawn(deviceId: number): Promise<Slot> {
    const init: WorkerInit = {
      modelPath: this.modelPath,
      intraOpNumThreads: this.pool.intraOpNumThreads,
      intraOpSpinning: this.config.intraOpSpinning,
      executionProviders: this.config.executionProviders,
      deviceId,
    };
    const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: init });
    const slot: Slot = { worker, deviceId, runs: new Map(), outstanding: 0, busySince: 0 };
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          ready = true;
          if (!this.signature) {
            try {
              this.signature = buildSignature(msg.inputs as OrtValueMetadata[], msg.outputs as OrtValueMetadata[]);
            } catch (e) {
              void worker.terminate();
              reject(new Error(`cannot serve model ${this.modelPath}: ${(e as Error).message}`));
              return;
            }
            this.provider = msg.provider;
            this.fallbackReason = msg.fallbackReason;
            this.providerDevice = deviceId;
          } else if (msg.provider !== this.provider) {
            // One provider for every worker, the one the log line and the metric name: a worker that fell
            // back to the CPU beside workers on GPUs (its GPU out of memory, or one CUDA cannot use)
            // would serve the slowest runs unseen. A replacement is tried again later (respawn). The
            // message names the worker that fell back (the later provider in the list), whichever of
            // the two was ready first.
            const order = this.config.executionProviders;
            const mine = { device: deviceId, provider: msg.provider, reason: msg.fallbackReason };
            const theirs = { device: this.providerDevice, provider: this.provider, reason: this.fallbackReason };
            const [fell, kept] = order.indexOf(mine.provider) > order.indexOf(theirs.provider) ? [mine, theirs] : [theirs, mine];
            void worker.terminate();
            reject(new Error(`the workers would run on different execution providers: the worker on device ${fell.device} fell back to ${fell.provider}${fell.reason ? ` (${fell.reason})` : ''}, where the pool runs on ${kept.provider}`));
            return;
          }
          resolve(slot);
        } else if (msg.type === 'load-failed') {
          reject(new Error(`cannot load model ${this.modelPath}: ${msg.message}`));
        } else {
          this.onMessage(slot, msg);
        }
      });
      const onGone = (err?: Error) => {
        if (!ready) {
          reject(err ?? new Error('inference worker exited while loading the model'));
          return;
        }
        this.onWorkerLost(slot, err);
      };
      // A message from the worker that Node could not deserialize here (no memory to copy it into, say)
      // is dropped, with this event instead. The worker reports its runs one at a time, in the order they
      // were posted, so the one lost is the report of its oldest run: failed here, or that run's callers
      // would wait out their deadline, the worker would look stuck in it, and close() would wait for it
      // for good. Lost before it was ready, it was the load's outcome.
      worker.on('messageerror', (err) => {
        if (!ready) {
          void worker.terminate(); // the session's creation had ended: it reported on it
          reject(new Error(`cannot load model ${this.modelPath}: the inference worker's answer could not be read: ${err.message}`));
          return;
        }
        const oldest = slot.runs.keys().next();
        this.onMessage(slot, { type: 'run-failed', id: oldest.done ? -1 : oldest.value, message: `its result could not be passed to the server: ${err.message}` });
      });
      // A ready worker's death is handled at 'exit', the last event a Worker emits: by then Node has
      // passed on every result the worker posted before it died. Its uncaught error ('error') arrives
      // on another channel and may come first, before the result of a run it had finished; handled
      // there, that run would be counted as the one it died in (see onWorkerLost).
      let lostWith: Error | undefined;
      worker.on('error', (err) => {
        if (ready) lostWith ??= err;
        else onGone(err);
      });
      worker.on('exit', (code) => {
        const err = lostWith ?? new Error(`inference worker exited with code ${code}`);
        if (!this.terminated) {
          onGone(err);
          return;
        }
        // Shutting down: terminate() answered the pool's runs, but a replacement still loading or warming
        // up is not in the pool. Its start and warm-up run must still end, or close() waits on it for good.
        if (!ready) reject(err);
        const crashed = workerCrashed(err);
        for (const run of slot.runs.values()) run.reject(crashed);
        slot.runs.clear();
      });
    });
  }

  private onWorkerLost(slot: Slot, err?: Error): void {
    if (this.retired.has(slot)) {
      this.retiredDone(slot, false);
      return;
    }
    const [current, ...waiting] = [...slot.runs.values()];
    slot.runs.clear();
    const crashed = workerCrashed(err);
    // The worker runs its messages in order, and its results have all arrived (see spawn): the oldest
    // run left is the one it was in when it died, and its callers are told so (their input may be
    // what killed it). Runs posted behind it had not started: their requests go back to the queue,
    // first in line, for the other workers or the replacement.
    if (current) current.reject(crashed);
    for (const run of waiting) {
      if (run.abandon && !this.terminated) run.abandon(crashed, true);
      else run.reject(crashed);
    }
    // A replacement that died warming up is not in the pool: its warm-up run failed above, and respawn
    // tries again.
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    this.hooks.onWorkerEvent?.('worker-lost', { error: err?.message });
    if (this.slots.length === 0) this.workerlessSince ??= clock();
    void slot.worker.terminate();
    this.pump(); // the requests put back go to the workers left, if any
    this.notifyIdle();
    // Shutting down with nothing queued, no request is left for a replacement (as in retire): loading one
    // would hold the exit for as long as a model load and warm-up take (a TensorRT engine build: minutes).
    // Requests still arriving go to the workers left, or are refused once the drain ends.
    if (this.terminated || (this.closing && this.queue.length === 0)) return;
    this.respawn(0, slot.deviceId);
  }

  /**
   * Replaces a lost worker, trying again with a growing pause (1 s, 2 s, ... 30 s) for as long as it
   * fails. While no worker is left, requests are refused with MODEL_NOT_READY and readiness is false.
   */
  private respawn(attempt: number, deviceId: number): void {
    // Like the first workers, a replacement serves only once a warm-up run succeeded: the first run of
    // a session is the slow one (allocations; on a GPU, kernel tuning or a TensorRT engine build), and
    // must not count against a caller's deadline, nor make the new worker look stuck.
    const pending = this.spawn(deviceId).then(async (slot) => {
      try {
        await this.warmUpSlot(slot);
      } catch (e) {
        void slot.worker.terminate(); // idle: its run failed
        throw e;
      }
      return slot;
    });
    this.loading.add(pending);
    const settled = () => this.loading.delete(pending);
    pending.then(settled, settled);
    pending.then((fresh) => {
      if (this.terminated) {
        void fresh.worker.terminate();
        return;
      }
      this.slots.push(fresh);
      this.workersDown = false;
      this.workerlessSince = undefined;
      this.hooks.onWorkerEvent?.('worker-replaced', { attempts: attempt + 1 });
      this.pump();
    }, (e: Error) => {
      const retryInMs = Math.min(30_000, 1_000 * 2 ** attempt);
      this.hooks.onWorkerEvent?.('worker-respawn-failed', { error: e.message, attempt: attempt + 1, retryInMs });
      if (this.slots.length === 0) {
        // Nothing can run what is queued until a worker is back.
        this.workersDown = true;
        this.rejectQueued(workersLost());
        this.armDeadlineTimer();
        this.hooks.onQueue?.(0, this.runningBatches);
        this.notifyIdle();
      }
      if (this.terminated) return;
      this.respawnTimer = setTimeout(() => {
        this.respawnTimer = undefined;
        if (!this.terminated) this.respawn(attempt + 1, deviceId);
      }, retryInMs);
      this.respawnTimer.unref();
    });
  }

  private async spawnAll(): Promise<void> {
    // Workers take the visible GPUs in turn (GPU providers only; the device is ignored on the CPU).
    const gpus = this.devices();
    const results = await Promise.allSettled(Array.from({ length: this.pool.workers }, (_, i) => this.spawn(i % gpus)));
    for (const r of results) if (r.status === 'fulfilled') this.slots.push(r.value);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  }

  /**
   * A model whose inputs and outputs all have a dynamic first axis can still use that axis for
   * something other than the batch (a Reshape to [-1], an output laid out [k, n]). Merged requests
   * would then fail, or worse, be split wrongly. So, before batching, a 1-row and a 2-row run must give
   * every output a first axis of 1 and 2, and each row what it gets alone; then row 1 between two rows
   * of floats PROBE_APART_SCALE times larger must still get what it gets alone (whyRowsMix). Otherwise
   * requests run one at a time.
   */
  private async probeBatching(signal?: AbortSignal): Promise<void> {
    const outputNames = this.signature.outputs.map((o) => o.name);
    // Values vary from row to row, as much as the model takes: every input, else floats, booleans and
    // strings only (an integer 1 can be an index out of range), else none (zeros: shapes only).
    let probe: Probe | undefined;
    let failure: { rows: number; message: string } | undefined;
    for (const vary of ['all', 'non-integer', 'none'] as const) {
      // Each run first checks that the start has not been stopped (see start).
      const run = async (seeds: number[], scales?: number[]) => {
        signal?.throwIfAborted();
        return (await this.runOn(this.slots[0], probeFeeds(this.signature, seeds, vary, scales), outputNames)).outputs;
      };
      let rows = 1;
      try {
        const first = await run([1]);
        const again = await run([1]);
        const second = await run([2]);
        rows = 2;
        const both = await run([1, 2]);
        const floatsVary = vary !== 'none' && this.signature.inputs.some((m) => m.type === 'float32' || m.type === 'float64' || m.type === 'float16');
        const apart = floatsVary
          ? await run(PROBE_APART_SEEDS, PROBE_APART_SEEDS.map((seed) => (seed === 1 ? 1 : PROBE_APART_SCALE))).catch(() => undefined)
          : undefined;
        probe = { first, again, second, both, apart, valuesVary: vary !== 'none' };
        break;
      } catch (e) {
        signal?.throwIfAborted(); // stopped, not a failed probe
        failure = { rows, message: (e as Error).message }; // the last: with the fewest values varied
      }
    }
    if (!probe) {
      this.batchingOffReason = `a ${failure!.rows}-row run failed, so requests cannot be merged: ${failure!.message}`;
    } else {
      this.batchingOffReason = whyRowsMix(probe);
    }
    this.batchProbeFailed = this.batchingOffReason !== undefined;
  }

  /**
   * Two inferences per worker with zero-filled inputs, in the shapes of warmUp.shapes where given, else
   * with dynamic dimensions set to 1 (see warmUpSlot).
   */
  private async warmUp(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.slots.map(async (slot) => {
      const first = await this.warmUpSlot(slot, true);
      if (first === undefined) return;
      signal?.throwIfAborted(); // the start was stopped (see start)
      // The first run of a session pays one-off costs (memory arenas, kernel choices, CUDA's lazy start)
      // that can make it many times slower than the next; the second is the first guess of a typical run.
      // Neither sets the cost of a row: a 1-row run is mostly the cost of a run, and taken per row it priced
      // a large request tens of times too high (heavy test model: 0.9-3.8 ms against 0.04-0.15 ms a row in
      // a run of 1000), so a new server refused large requests as DEADLINE_UNMEETABLE it could serve in time.
      const second = await this.warmUpSlot(slot);
      this.ewmaRunMs = Math.max(this.ewmaRunMs, second ?? first);
    }));
    this.started = true;
    this.watchTimer = setInterval(() => this.watch(), WATCH_INTERVAL_MS);
    this.watchTimer.unref();
  }

  /**
   * One inference on `slot` with zero-filled inputs, dynamic dimensions set to 1 (inputs named in
   * warmUp.shapes take the shape given there); resolves with its compute time, or undefined when the
   * model refused dimensions of 1 (then `report` logs it once). With warmUp.shapes any failure throws:
   * the configuration said what the model takes.
   */
  private async warmUpSlot(slot: Slot, report = false): Promise<number | undefined> {
    const shapes = this.config.warmUp?.shapes;
    try {
      return (await this.runOn(slot, probeFeeds(this.signature, [1], 'none', undefined, shapes), this.signature.outputs.map((o) => o.name))).computeMs;
    } catch (e) {
      if (shapes) throw new Error(`warm-up inference failed: ${(e as Error).message.trimEnd()} (inputs named in warmUp.shapes had the shapes given there: ${JSON.stringify(shapes)})`, { cause: e });
      // The warm-up sets dynamic dimensions to 1, and gives an input without a declared shape [1],
      // which some valid models refuse (a 3x3 convolution over a dynamic 1x1 image, a reshape to
      // [-1, 4], a MatMul whose input must end in 2). Only a model without such dimensions has
      // really failed. A worker that died during the run has failed whatever the model: counted as
      // warmed up, it would be put in service dead, and the requests given to it fail or wait for good.
      const refused = e instanceof InferenceError && e.code === 'INFERENCE_FAILED';
      if (refused && this.hasDynamicInnerDims()) {
        if (report) this.hooks.onWorkerEvent?.('warm-up-skipped', { reason: `a run with every dynamic dimension set to 1 failed: ${(e as Error).message}` });
        return undefined;
      }
      throw new Error(`warm-up inference failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Whether some input has a dynamic dimension other than the first (made up as 1 by warm-up and probe),
   * or no declared shape at all (made up as [1]: its rank and size are unknown).
   */
  private hasDynamicInnerDims(): boolean {
    return this.signature.inputs.some((m) => m.shape === undefined || m.shape.slice(1).includes(-1));
  }

  private notifyIdle(): void {
    if (this.queue.length === 0 && this.runningBatches === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Lets queued and running requests finish (up to `drainMs`), then stops the workers. Anything still
   * queued after the drain time is answered with SHUTTING_DOWN. Every call returns the first call's
   * promise, which settles only once every worker has stopped: a later caller with a shorter drain
   * time (the server's exit timer uses 0) ends the drain wait early but never stops a worker mid-run.
   */
  public close(drainMs = 10_000): Promise<void> {
    if (this.terminated && !this.closed) return Promise.resolve();
    if (this.closed) {
      if (drainMs <= 0) this.endDrain?.();
      return this.closed;
    }
    this.closing = true;
    this.closed = (async () => {
      if (this.queue.length > 0 || this.runningBatches > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, drainMs);
          t.unref();
          this.endDrain = () => {
            clearTimeout(t);
            resolve();
          };
          this.idleWaiters.push(this.endDrain);
        });
      }
      await this.terminate();
    })();
    return this.closed;
  }

  private closed?: Promise<void>;
  private endDrain?: () => void;

  /** Whether close() has begun. */
  public get isClosing(): boolean { return this.closing; }

  /**
   * The moving average of recent runs' compute time, in ms: what the engine estimates waits from, and
   * under PIPELINE_MAX_RUN_MS it posts a run to a worker still in another (pipelining).
   */
  public get averageRunMs(): number {
    return this.ewmaRunMs;
  }

  /**
   * Workers inside onnxruntime now: running (a run cannot be interrupted; see terminate()) or loading
   * the model as the replacement of a lost worker.
   */
  public get busyWorkers(): number {
    let busy = this.loading.size + this.retired.size;
    for (const s of this.slots) if (s.outstanding > 0) busy++;
    return busy;
  }

  private async terminate(): Promise<void> {
    this.terminated = true;
    if (this.respawnTimer) clearTimeout(this.respawnTimer);
    if (this.watchTimer) clearInterval(this.watchTimer);
    // Set-aside workers are still inside a run: they are stopped with the others once it ends.
    this.slots.push(...this.retired);
    this.retired.clear();
    if (this.delayTimer) clearTimeout(this.delayTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.delayTimer = undefined;
    this.deadlineTimer = undefined;
    this.rejectQueued(new InferenceError('SHUTTING_DOWN', 'the server shut down before this request ran', { retryAfterSeconds: 1 }));
    const running = new InferenceError('SHUTTING_DOWN', 'the server shut down before this request\'s inference finished', { retryAfterSeconds: 1 });
    for (const s of this.slots) {
      for (const run of s.runs.values()) run.reject(running);
      s.runs.clear();
    }
    // A run cannot be interrupted: wait for each busy worker to finish before stopping it. A run that
    // outlasts the drain time keeps the process alive: past the drain time the server answers what is
    // still waiting, waits for the run to return, then exits (server.ts); the orchestrator's own kill
    // is the last resort.
    await Promise.all(this.slots.map(async (s) => {
      if (s.outstanding > 0) {
        await new Promise<void>((resolve) => {
          s.onQuiet = resolve;
          s.worker.once('exit', () => resolve());
        });
      }
      await s.worker.terminate();
    }));
    this.slots.length = 0;
    // A replacement still loading the model is inside onnxruntime too: let it finish (its handler then
    // stops it, idle) before close() settles and the process may exit.
    await Promise.allSettled([...this.loading]);
  }
}
