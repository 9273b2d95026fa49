/**
 * Serving configuration: defaults, the optional `serving.json` in the model directory, and overrides
 * (from buildApp options or the environment). Every field is validated; a bad value fails start-up with
 * a message naming the field, the value and what is allowed.
 */
import { visibleGpuCount, wantsGpu } from './gpus';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';

/** The largest body limit: a body is read into one string, and V8 strings stop short of 512 MiB. */
export const MAX_BODY_LIMIT_BYTES = 500 * 1024 * 1024;

/** The config file a model directory may hold. */
export const CONFIG_FILE = 'serving.json';
/** The feature schema a model directory may hold (validated by the feature-store integration). */
export const FEATURES_FILE = 'features.json';

export interface BatchingConfig {
  /** Merge concurrent requests into one run (only for models whose first axis is dynamic). @default true */
  readonly enabled: boolean;
  /** Most rows in one merged run. 1..65536. @default 64 */
  readonly maxBatchSize: number;
  /**
   * How long the oldest queued request may wait for others to join its batch. 0..10000 ms. The batcher
   * waits only while more requests are arriving (bodies being received or parsed), so a lone request is
   * never delayed. @default 2
   */
  readonly maxQueueDelayMs: number;
}

export interface QueueConfig {
  /** Most requests waiting for a worker; beyond it requests get 503 QUEUE_FULL. 1..1000000. @default 256 */
  readonly maxSize: number;
  /** Most tensor bytes waiting for a worker. @default 268435456 (256 MiB) */
  readonly maxBytes: number;
}

export interface LimitsConfig {
  /** Largest accepted body. @default 6291456 (6 MiB, SageMaker's real-time limit) */
  readonly bodyLimitBytes: number;
  /** Most elements in one input tensor. @default 16777216 */
  readonly maxTensorElements: number;
  /** Most dimensions in one input tensor. @default 16 */
  readonly maxTensorRank: number;
  /** A request not answered within this time gets 503 (it is never left waiting). @default 55000 */
  readonly requestTimeoutMs: number;
  /**
   * Most request-body bytes (by Content-Length; a chunked body counts as `bodyLimitBytes`) being
   * received, parsed, queued or run at once. A request beyond it gets 503 OVERLOADED with Retry-After
   * before its body is read, so many large requests at once cannot exhaust memory; a request is always
   * admitted when nothing else is in flight. An answer larger than its body counts in its place until
   * the client has read it (one that would pass the limit gets 503 OVERLOADED). 1 MiB..64 GiB.
   * @default an eighth of the memory limit (cgroup, else the machine's memory), between 64 MiB and 1 GiB
   */
  readonly maxBodyBytesInFlight: number;
  /**
   * Largest JSON, JSON Lines or CSV body, at most `bodyLimitBytes`. Parsing such a body builds
   * JavaScript values that keep up to about 17 times its size (`[[0],[0],...]`) and take twice that
   * while parsing, and a body the heap cannot hold crashes the process (255 MB did, with a 4 GB heap;
   * 128 MB peaked at the heap limit). Binary tensor data is not parsed into JavaScript values and may
   * use the whole `bodyLimitBytes`.
   * @default a 64th of the smaller of the V8 heap limit and the memory limit (at least 1 MiB)
   */
  readonly textBodyLimitBytes: number;
  /**
   * Most values (tensor elements, over every output returned) in one request's answer. A model's outputs
   * can be far larger than its inputs (an embedding model answers hundreds of floats per token id), and
   * an answer takes far more memory than its values: a 480 KB request to a model with 4096 outputs per
   * row of 8 took the process to 4 GB and failed only when its JSON passed V8's string limit, and a
   * JSON answer of 16.8 million FP32 values (287 MB) peaked at 2.8 GB of RSS, about 170 bytes a value.
   * A request whose answer would hold more gets 400 ANSWER_TOO_LARGE, as soon as its first rows show it
   * (a request run in parts stops there). 1..2^31-1.
   * @default a 1024th of the smaller of the V8 heap limit and the memory limit (so an answer takes at
   * most about a sixth of them), at least 1048576
   */
  readonly maxAnswerElements: number;
}

export interface WarmUpConfig {
  /**
   * The shape of each named input in the warm-up runs (zero-filled), by input name: for a model that
   * refuses the default warm-up, whose dynamic dimensions are 1 (and `[1]` for an input without a
   * declared shape). Inputs not named keep that rule. When given, a warm-up that fails stops the start
   * instead of being skipped. The engine checks the names, ranks and fixed dimensions against the model.
   */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
}

export interface ServingConfig {
  /** The model file, relative to the model directory. @default the only `*.onnx` file, else `model.onnx` */
  readonly modelFile: string;
  /**
   * Worker threads, each with its own onnxruntime session. @default with a GPU provider listed before cpu, one
   * per visible GPU (they take the GPUs in turn); else 1 with batching on (one session with every CPU
   * runs the merged batches: bigger batches, each weight read once per batch), else
   * max(1, floor(cpus / 2)); see `unbatchedPool`.
   */
  readonly workers: number;
  /** onnxruntime intra-op threads per worker. @default max(1, floor(cpus / workers)) */
  readonly intraOpNumThreads: number;
  /**
   * The pool the engine switches to when the model turns out not to batch (its first axis is fixed):
   * then requests run one at a time, and several workers are better than one. Set only when neither
   * `workers` nor `intraOpNumThreads` was configured and it differs from the batching pool.
   */
  readonly unbatchedPool?: { readonly workers: number; readonly intraOpNumThreads: number };
  /**
   * What the model's copies take: every worker's session holds the weights (about twice the model's
   * bytes, measured), so the default per-request pool (batching off, or a model that cannot batch) has
   * at most as many workers as fit in half the memory limit. Absent when the model file cannot be read
   * yet (its load reports that).
   */
  readonly memory?: {
    /** Estimated memory of one worker: twice the model's bytes (file and external data) plus 32 MiB. */
    readonly perWorkerBytes: number;
    /** The memory limit it was weighed against (`memoryLimit()`: the cgroup's, else the machine's). */
    readonly limitBytes: number;
    /** Set when the per-request pool was made smaller than the CPUs allow: the worker count the CPUs gave. */
    readonly cappedFrom?: number;
  };
  /**
   * Whether onnxruntime's intra-op threads spin, instead of sleeping, between the parallel steps of
   * a run. Spinning lowers the latency of a run (no thread wake-up per layer), but a spinning thread
   * takes CPU the HTTP thread may need, and it shows as CPU use that a CPU-based autoscaler reads as
   * load. Threads never spin between runs (onnxruntime's `session.force_spinning_stop`). @default false
   */
  readonly intraOpSpinning: boolean;
  /** onnxruntime execution providers, in order of preference; the CPU is a fallback only when listed. @default ['cpu'] */
  readonly executionProviders: readonly string[];
  /** The GPUs visible to the process (`visibleGpuCount`): the workers of a GPU provider take them in turn. */
  readonly gpus: number;
  readonly batching: BatchingConfig;
  readonly queue: QueueConfig;
  readonly limits: LimitsConfig;
  /** Absent when no layer sets `warmUp.shapes`. */
  readonly warmUp?: WarmUpConfig;
}

/** A partial config, as a file or an override gives it. */
export type ServingConfigInput = {
  readonly [K in keyof ServingConfig]?: ServingConfig[K] extends object
    ? ServingConfig[K] extends readonly unknown[] ? ServingConfig[K] : Partial<ServingConfig[K]>
    : ServingConfig[K];
};

/** Thrown when the configuration is invalid; the message says what to change. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const KNOWN_PROVIDERS = ['cpu', 'cuda', 'tensorrt'];

/**
 * The cgroup directories whose limits apply to this process for a controller: its own cgroup and each
 * one above it, up to the root of the cgroup mount. Its cgroup comes from /proc/self/cgroup (v2: the
 * `0::/path` line; v1: the line whose controllers include `controller`). A process whose cgroup is not
 * the root of its mount (a systemd unit with CPUQuota=, a container run with --cgroupns=host, limits
 * set on a parent) is limited by every level, and the mount root alone would say "no limit". In a
 * container with its own cgroup namespace the path is `/`, so only the mount root is read, as before.
 * A path that does not exist under the mount (cgroup v1 without a namespace: /proc/self/cgroup names
 * the host's path, the mount is the container's own cgroup) contributes nothing but its root.
 */
function cgroupDirs(fsRoot: string, controller: 'cpu' | 'memory'): string[] {
  const mount = path.join(fsRoot, 'sys', 'fs', 'cgroup');
  // v1 mounts each controller in its own directory; cpu as cpu,cpuacct with a cpu link beside it.
  const v1Mounts = controller === 'cpu' ? ['cpu', 'cpu,cpuacct'] : ['memory'];
  // The mount roots are read whatever /proc/self/cgroup says.
  const places: Array<[string, string]> = [[mount, '/'], ...v1Mounts.map((d): [string, string] => [path.join(mount, d), '/'])];
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(path.join(fsRoot, 'proc', 'self', 'cgroup'), 'utf8').split('\n');
  } catch {
    // no procfs: the mount roots only
  }
  for (const line of lines) {
    const m = /^\d+:([^:]*):(\/.*)$/.exec(line.trim());
    if (m && m[1] === '') places.push([mount, m[2]]);
    else if (m && m[1].split(',').includes(controller)) for (const d of new Set([m[1], ...v1Mounts])) places.push([path.join(mount, d), m[2]]);
  }
  const dirs = new Set<string>();
  for (const [top, cgroup] of places) {
    let dir = path.resolve(top, `.${cgroup}`);
    if (path.relative(top, dir).startsWith('..')) continue;
    for (; dir !== top; dir = path.dirname(dir)) dirs.add(dir);
    dirs.add(top);
  }
  return [...dirs];
}

/**
 * The CPU quota of this process's cgroup in whole CPUs (floor of quota / period, at least 1), or
 * undefined when there is none. The smallest quota of its cgroup and those above it applies (v2
 * `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`; see cgroupDirs). Kubernetes turns a
 * container's CPU limit into this quota; Node 20's `os.availableParallelism()` only reads the CPU
 * affinity, so a pod limited to 2 CPUs on a 64-CPU node would otherwise size its pool for 64.
 * `fsRoot` is the filesystem root holding /proc and /sys (tests pass a fake one).
 */
export function cgroupCpuQuota(fsRoot = '/'): number | undefined {
  const cpus = (quota: number, period: number) => (quota > 0 && period > 0 ? quota / period : Infinity);
  let least = Infinity;
  for (const dir of cgroupDirs(fsRoot, 'cpu')) {
    const v2 = readCgroupFile(dir, 'cpu.max'); // "max 100000" or "200000 100000"
    if (v2 !== undefined) {
      const [quota, period] = v2.split(/\s+/);
      if (quota !== 'max') least = Math.min(least, cpus(Number(quota), Number(period)));
    }
    const quota = readCgroupFile(dir, 'cpu.cfs_quota_us'); // -1 without a limit
    const period = readCgroupFile(dir, 'cpu.cfs_period_us');
    if (quota !== undefined && period !== undefined) least = Math.min(least, cpus(Number(quota), Number(period)));
  }
  return Number.isFinite(least) ? Math.max(1, Math.floor(least)) : undefined;
}

function readCgroupFile(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The memory limit of this process's cgroup in bytes, or undefined when there is none: the smallest
 * of its cgroup and those above it (v2 `memory.max`, v1 `memory.limit_in_bytes`; see cgroupDirs).
 * Kubernetes turns a container's memory limit into it. `fsRoot` as in cgroupCpuQuota.
 */
export function cgroupMemoryLimit(fsRoot = '/'): number | undefined {
  let least = Infinity;
  for (const dir of cgroupDirs(fsRoot, 'memory')) {
    for (const file of ['memory.max', 'memory.limit_in_bytes']) {
      const bytes = Number(readCgroupFile(dir, file)); // NaN for "max" (v2 without a limit) or no file
      // cgroup v1 reports "no limit" as a huge number (the page-aligned maximum of a signed 64-bit value).
      if (bytes > 0 && bytes < 2 ** 60) least = Math.min(least, bytes);
    }
  }
  return Number.isFinite(least) ? least : undefined;
}

/** Memory this process may use: its cgroup's limit, else the machine's memory. */
export function memoryLimit(): number {
  return Math.min(os.totalmem(), cgroupMemoryLimit() ?? Infinity);
}

/**
 * The CPUs this process may run on (its affinity): `Cpus_allowed_list` in /proc/self/status ("0-3,8-11"),
 * undefined where that cannot be read (not Linux). Read here rather than taken from
 * `os.availableParallelism()`, whose libuv also applies the cgroup quota since 1.49 and before 1.51 (Node.js 22
 * from 22.12 until it took libuv 1.51) gives 1 under cgroup v2 in Kubernetes (libuv/libuv#4740,
 * nodejs/node#58428): the pool would then get one thread however many CPUs the pod has.
 */
export function affinityCpuCount(fsRoot = '/'): number | undefined {
  let status: string;
  try {
    status = fs.readFileSync(path.join(fsRoot, 'proc', 'self', 'status'), 'utf8');
  } catch {
    return undefined;
  }
  const list = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(status)?.[1];
  if (list === undefined) return undefined;
  let count = 0;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) return undefined;
    count += last - first + 1;
  }
  return count > 0 ? count : undefined;
}

/** CPUs this process may use: its CPU affinity, capped by its cgroup's CPU quota. */
export function cpuCount(fsRoot = '/'): number {
  const quota = cgroupCpuQuota(fsRoot);
  const affinity = affinityCpuCount(fsRoot) ?? os.availableParallelism();
  return Math.max(1, Math.min(affinity, quota ?? Infinity));
}

/**
 * A value as an error message shows it: JSON, except for numbers JSON cannot hold (JSON.stringify
 * writes them as null), which JSON.parse gives for a literal beyond the double range, such as 1e400.
 */
function shown(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'not a number' : `a number too large to represent (${value > 0 ? '' : '-'}Infinity)`;
  }
  return JSON.stringify(value);
}

function int(source: string, field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${source}: '${field}' is ${shown(value)}; it must be an integer from ${min} to ${max}`);
  }
  return value;
}

function bool(source: string, field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new ConfigError(`${source}: '${field}' is ${shown(value)}; it must be true or false`);
  }
  return value;
}

function object(source: string, field: string, value: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `${shown(value)} (a ${typeof value})`;
    // The top level has no field name: say so, rather than quote an empty one.
    const file = source.endsWith('.json');
    if (field === '') throw new ConfigError(`${source}: the ${file ? "file's " : ''}top level is ${kind}; it must be ${file ? 'a JSON object' : 'an object'}`);
    throw new ConfigError(`${source}: '${field}' is ${shown(value)}; it must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(`${source}: unknown field '${field ? field + '.' : ''}${key}'; allowed fields are ${allowed.join(', ')}`);
    }
  }
  return value as Record<string, unknown>;
}

/**
 * The largest JSON, JSON Lines or CSV body the heap can safely parse: a 64th of the smaller of the V8
 * heap limit and the memory limit, at least 1 MiB (see LimitsConfig.textBodyLimitBytes).
 */
export function safeTextBodyLimit(heapBytes = v8.getHeapStatistics().heap_size_limit, memoryBytes = memoryLimit()): number {
  return Math.max(1024 * 1024, Math.floor(Math.min(heapBytes, memoryBytes) / 64));
}

/**
 * Merges `layers` (lowest precedence first) over the defaults and validates the result.
 * Each layer is `[sourceName, partialConfig]`; the source name appears in error messages.
 */
export function resolveConfig(
  modelDir: string, layers: ReadonlyArray<[string, unknown]>, cpus = cpuCount(), memoryBytes = memoryLimit(),
  heapBytes = v8.getHeapStatistics().heap_size_limit, gpus = visibleGpuCount(),
): ServingConfig {
  let modelFile: string | undefined;
  let workers: number | undefined;
  let intraOp: number | undefined;
  let spinning = false;
  let providers: readonly string[] = ['cpu'];
  const batching = { enabled: true, maxBatchSize: 64, maxQueueDelayMs: 2 };
  const queue = { maxSize: 256, maxBytes: 256 * 1024 * 1024 };
  const MiB = 1024 * 1024;
  const limits = {
    bodyLimitBytes: 6 * MiB, maxTensorElements: 16 * MiB, maxTensorRank: 16, requestTimeoutMs: 55_000,
    maxAnswerElements: Math.max(MiB, Math.floor(Math.min(heapBytes, memoryBytes) / 1024)),
    maxBodyBytesInFlight: Math.min(1024 * MiB, Math.max(64 * MiB, Math.floor(memoryBytes / 8))),
  };

  let tensorElementsSet = false;
  let textLimit = safeTextBodyLimit(heapBytes, memoryBytes);
  // Each input's warm-up shape and the layer that set it; a later layer's shape for an input wins.
  const warmUpShapes = new Map<string, { source: string; value: unknown }>();
  for (const [source, raw] of layers) {
    if (raw === undefined) continue;
    const top = object(source, '', raw, ['modelFile', 'workers', 'intraOpNumThreads', 'intraOpSpinning', 'executionProviders', 'batching', 'queue', 'limits', 'warmUp']);
    if (top.modelFile !== undefined) {
      if (typeof top.modelFile !== 'string' || top.modelFile === '' || path.isAbsolute(top.modelFile) || top.modelFile.split(/[\\/]/).includes('..')) {
        throw new ConfigError(`${source}: 'modelFile' is ${shown(top.modelFile)}; it must be a file name relative to the model directory`);
      }
      modelFile = top.modelFile;
    }
    if (top.workers !== undefined) workers = int(source, 'workers', top.workers, 1, 256);
    if (top.intraOpNumThreads !== undefined) intraOp = int(source, 'intraOpNumThreads', top.intraOpNumThreads, 1, 1024);
    if (top.intraOpSpinning !== undefined) spinning = bool(source, 'intraOpSpinning', top.intraOpSpinning);
    if (top.executionProviders !== undefined) {
      const p = top.executionProviders;
      if (!Array.isArray(p) || p.length === 0 || p.some((x) => typeof x !== 'string' || !KNOWN_PROVIDERS.includes(x))) {
        throw new ConfigError(`${source}: 'executionProviders' is ${shown(p)}; it must be a non-empty list of ${KNOWN_PROVIDERS.join(', ')}`);
      }
      providers = p as string[];
    }
    if (top.batching !== undefined) {
      const b = object(source, 'batching', top.batching, ['enabled', 'maxBatchSize', 'maxQueueDelayMs']);
      if (b.enabled !== undefined) batching.enabled = bool(source, 'batching.enabled', b.enabled);
      if (b.maxBatchSize !== undefined) batching.maxBatchSize = int(source, 'batching.maxBatchSize', b.maxBatchSize, 1, 65536);
      if (b.maxQueueDelayMs !== undefined) batching.maxQueueDelayMs = int(source, 'batching.maxQueueDelayMs', b.maxQueueDelayMs, 0, 10_000);
    }
    if (top.queue !== undefined) {
      const q = object(source, 'queue', top.queue, ['maxSize', 'maxBytes']);
      if (q.maxSize !== undefined) queue.maxSize = int(source, 'queue.maxSize', q.maxSize, 1, 1_000_000);
      if (q.maxBytes !== undefined) queue.maxBytes = int(source, 'queue.maxBytes', q.maxBytes, 1024, 64 * 1024 ** 3);
    }
    if (top.limits !== undefined) {
      const l = object(source, 'limits', top.limits, ['bodyLimitBytes', 'textBodyLimitBytes', 'maxTensorElements', 'maxTensorRank', 'requestTimeoutMs', 'maxBodyBytesInFlight', 'maxAnswerElements']);
      // A body becomes one string before it is parsed, and V8 strings stop short of 512 MiB.
      if (l.bodyLimitBytes !== undefined) limits.bodyLimitBytes = int(source, 'limits.bodyLimitBytes', l.bodyLimitBytes, 1024, MAX_BODY_LIMIT_BYTES);
      if (l.textBodyLimitBytes !== undefined) textLimit = int(source, 'limits.textBodyLimitBytes', l.textBodyLimitBytes, 1024, MAX_BODY_LIMIT_BYTES);
      if (l.maxAnswerElements !== undefined) limits.maxAnswerElements = int(source, 'limits.maxAnswerElements', l.maxAnswerElements, 1, 2 ** 31 - 1);
      if (l.maxTensorElements !== undefined) {
        limits.maxTensorElements = int(source, 'limits.maxTensorElements', l.maxTensorElements, 1, 2 ** 31 - 1);
        tensorElementsSet = true;
      }
      if (l.maxTensorRank !== undefined) limits.maxTensorRank = int(source, 'limits.maxTensorRank', l.maxTensorRank, 1, 64);
      if (l.requestTimeoutMs !== undefined) limits.requestTimeoutMs = int(source, 'limits.requestTimeoutMs', l.requestTimeoutMs, 100, 3_600_000);
      if (l.maxBodyBytesInFlight !== undefined) limits.maxBodyBytesInFlight = int(source, 'limits.maxBodyBytesInFlight', l.maxBodyBytesInFlight, MiB, 64 * 1024 * MiB);
    }
    if (top.warmUp !== undefined) {
      const w = object(source, 'warmUp', top.warmUp, ['shapes']);
      if (w.shapes !== undefined) {
        const shapes = w.shapes;
        if (shapes === null || typeof shapes !== 'object' || Array.isArray(shapes)) {
          throw new ConfigError(`${source}: 'warmUp.shapes' is ${shown(shapes)}; it must be an object from input names to shapes, such as {"x": [1, 8]}`);
        }
        if (Object.keys(shapes).length === 0) {
          throw new ConfigError(`${source}: 'warmUp.shapes' is {}; it must name at least one input, with its shape, such as {"x": [1, 8]}`);
        }
        for (const [name, value] of Object.entries(shapes)) warmUpShapes.set(name, { source, value });
      }
    }
  }

  // A body within the limit must not fail on the element cap: binary tensor data takes one byte a
  // UINT8 or BOOL value, so unless it was set, the cap grows with a raised body limit.
  if (!tensorElementsSet) limits.maxTensorElements = Math.max(limits.maxTensorElements, limits.bodyLimitBytes);
  // Shapes are checked once every layer is read, against the limits in force.
  const shapes: Array<[string, number[]]> = [];
  for (const [name, { source, value }] of warmUpShapes) {
    const field = `warmUp.shapes.${name}`;
    if (!Array.isArray(value) || value.length > limits.maxTensorRank || value.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1)) {
      throw new ConfigError(`${source}: '${field}' is ${shown(value)}; it must be a list of at most ${limits.maxTensorRank} whole numbers, each at least 1 (limits.maxTensorRank is ${limits.maxTensorRank})`);
    }
    const elements = (value as number[]).reduce((n, d) => n * d, 1);
    if (elements > limits.maxTensorElements) {
      throw new ConfigError(`${source}: '${field}' is ${shown(value)}: ${elements} elements, more than limits.maxTensorElements (${limits.maxTensorElements})`);
    }
    shapes.push([name, value as number[]]);
  }

  const threadsPer = (n: number) => Math.max(1, Math.floor(cpus / n));
  const file = modelFile ?? findModelFile(modelDir);
  const perWorkerBytes = workerMemoryEstimate(modelDir, file);
  // Requests that run one per run want several workers, but each holds a copy of the weights: no more
  // than fit in half the memory (the rest is for bodies, queues and the heap).
  const byCpus = threadsPer(2);
  const byMemory = perWorkerBytes === undefined ? Infinity : Math.max(1, Math.floor(memoryBytes / 2 / perWorkerBytes));
  const perRequestWorkers = Math.min(byCpus, byMemory);
  // On GPUs: one worker (one session, one copy of the model in GPU memory) per visible GPU, whether
  // or not the model batches.
  const onGpus = wantsGpu(providers);
  const w = workers ?? (onGpus ? Math.max(1, gpus) : batching.enabled ? 1 : perRequestWorkers);
  const unbatched = workers === undefined && intraOp === undefined && !onGpus && w !== perRequestWorkers
    ? { workers: perRequestWorkers, intraOpNumThreads: threadsPer(perRequestWorkers) }
    : undefined;
  return {
    modelFile: file,
    workers: w,
    intraOpNumThreads: intraOp ?? threadsPer(w),
    ...(unbatched ? { unbatchedPool: unbatched } : {}),
    ...(perWorkerBytes !== undefined
      ? { memory: { perWorkerBytes, limitBytes: memoryBytes, ...(byMemory < byCpus ? { cappedFrom: byCpus } : {}) } }
      : {}),
    intraOpSpinning: spinning,
    executionProviders: providers,
    gpus,
    batching,
    queue,
    limits: { ...limits, textBodyLimitBytes: Math.min(limits.bodyLimitBytes, textLimit) },
    // Object.fromEntries makes every name an own property, '__proto__' too.
    ...(shapes.length ? { warmUp: { shapes: Object.fromEntries(shapes) } } : {}),
  };
}

/**
 * The memory one worker's session is expected to take: twice the model's bytes (measured: a 241 MiB
 * model took 423-468 MiB per session) plus 32 MiB for the thread and onnxruntime. The model's bytes are
 * the model file's and those of the other files beside it that may be its external data (everything
 * but `.json` files and other `.onnx` files): beside the model file, in its own directory, as
 * onnxruntime reads external data relative to it (a `modelFile` in a subdirectory keeps its data
 * there). Undefined when the model file cannot be read.
 */
export function workerMemoryEstimate(modelDir: string, modelFile: string): number | undefined {
  const modelPath = path.join(modelDir, modelFile);
  let bytes: number;
  try {
    bytes = fs.statSync(modelPath).size;
  } catch {
    return undefined;
  }
  const beside = path.dirname(modelPath);
  try {
    for (const entry of fs.readdirSync(beside, { withFileTypes: true })) {
      if (!entry.isFile() || entry.name === path.basename(modelPath) || /\.(json|onnx)$/i.test(entry.name)) continue;
      bytes += fs.statSync(path.join(beside, entry.name)).size;
    }
  } catch {
    // the model file's size alone
  }
  return 2 * bytes + 32 * 1024 * 1024;
}

function findModelFile(modelDir: string): string {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(modelDir).filter((f) => f.endsWith('.onnx'));
  } catch {
    // a missing directory is reported when the model is loaded
  }
  if (entries.length > 1 && !entries.includes('model.onnx')) {
    throw new ConfigError(`${modelDir} holds ${entries.length} .onnx files (${entries.sort().join(', ')}) and no model.onnx; set modelFile in ${CONFIG_FILE} to the one to serve`);
  }
  return entries.length === 1 ? entries[0] : 'model.onnx';
}

/**
 * Checks that the model file can be read, and says what to do when it cannot: onnxruntime only says
 * "system error number 13" for a file the server may not read, "does not exist" would hide a
 * symlink whose target is missing, "not a directory" a MODEL_DIR that names the model file itself, and
 * for a directory it advises its model package API, which the server does not use. The image runs as
 * any uid (uid 10001 by default, an arbitrary one on OpenShift or with cdk8s-plus), so files made 0600
 * on a laptop are not readable there.
 */
export function checkModelFile(modelPath: string, access: (file: string, mode: number) => void = fs.accessSync): void {
  let readable = false;
  try {
    access(modelPath, fs.constants.R_OK);
    readable = true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const dir = path.dirname(modelPath);
    if (code === 'ENOTDIR' && fs.statSync(dir, { throwIfNoEntry: false })?.isFile()) {
      throw new Error(`model directory ${dir} is a file, not a directory: MODEL_DIR (default /opt/ml/model) must name the directory that holds the model file`, { cause: e });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new Error(`cannot read model file ${modelPath}: permission denied; the server runs as uid ${process.getuid?.()}: make the model files readable by that user (e.g. chmod a+r on them, and a+x on their directories)`, { cause: e });
    }
    if (code !== 'ENOENT') throw new Error(`cannot read model file ${modelPath}: ${(e as Error).message}`, { cause: e });
  }
  if (readable) {
    const stat = fs.statSync(modelPath, { throwIfNoEntry: false });
    // onnxruntime would say to use its model package API, which the server does not.
    if (stat?.isDirectory()) {
      throw new Error(`model file ${modelPath} is a directory; put the model file in the model directory (MODEL_DIR, default /opt/ml/model) or set modelFile in serving.json to the file, relative to the model directory`);
    }
    // onnxruntime would wait for a FIFO's writer forever, and the model would stay loading.
    const special = specialFile(stat);
    if (special) {
      throw new Error(`model file ${modelPath} is ${special}, not a regular file; put the model file itself in the model directory (MODEL_DIR, default /opt/ml/model), or set modelFile in serving.json to it`);
    }
    return;
  }
  let target: string | undefined;
  try {
    target = fs.readlinkSync(modelPath);
  } catch {
    // not a symlink: the file does not exist
  }
  if (target !== undefined) {
    const resolved = path.resolve(path.dirname(modelPath), target);
    throw new Error(`model file ${modelPath} is a dangling symlink: it points to ${target}${resolved !== target ? ` (${resolved})` : ''}, which does not exist`);
  }
  throw new Error(`model file ${modelPath} does not exist; put model.onnx in the model directory (MODEL_DIR, default /opt/ml/model) or set modelFile in serving.json`);
}

/**
 * What a model directory entry is when it is neither a regular file nor a directory (a FIFO, a device,
 * a socket), or undefined. Reading a FIFO waits for a writer forever, and /dev/zero never ends.
 */
function specialFile(stat: fs.Stats | undefined): string | undefined {
  if (!stat) return undefined;
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return undefined;
}

/** Reads and parses a JSON file of the model directory; says whether reading or parsing failed. */
function readJsonFile(file: string): unknown {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    // reading it says what is wrong
  }
  const special = specialFile(stat);
  if (special) throw new ConfigError(`${file}: cannot be read: it is ${special}, not a regular file; put the file itself in the model directory`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const target = (e as NodeJS.ErrnoException).code === 'ENOENT' ? linkTarget(file) : undefined;
    if (target !== undefined) {
      const resolved = path.resolve(path.dirname(file), target);
      throw new ConfigError(`${file}: cannot be read: it is a symlink to ${target}${resolved !== target ? ` (${resolved})` : ''}, which does not exist`);
    }
    throw new ConfigError(`${file}: cannot be read (${(e as Error).message})`);
  }
  // A UTF-8 byte-order mark, as some Windows editors write, is not JSON: JSON.parse would fail on an
  // invisible character.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Where a symlink points, or undefined when `file` is not one. */
function linkTarget(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Whether the model directory holds `file`: a dangling symlink counts (reading it then says so), so
 * its settings are not silently replaced by the defaults.
 */
function holds(file: string): boolean {
  return fs.existsSync(file) || linkTarget(file) !== undefined;
}

/**
 * The name the model is served under: `given` (MODEL_NAME) unless empty, else the model directory's
 * name. The name is a segment of the /v2/models/{name} URLs: clients remove '.' and '..' segments (RFC
 * 3986), tritonclient does not encode '/', and an empty segment is merged away, so such a model would
 * start and then answer 404 to every request for it: a ConfigError instead. The constructs refuse the
 * same MODEL_NAME values at synthesis (constructs/private/server-environment.ts).
 */
export function servedModelName(modelDir: string, given: string | undefined): string {
  const modelName = given || path.basename(modelDir);
  if (!given && modelName === '') throw new ConfigError(`the model directory ${modelDir} has no name to serve the model under; set MODEL_NAME`);
  if (modelName === '.' || modelName === '..' || modelName.includes('/')) {
    throw new ConfigError(`MODEL_NAME is ${JSON.stringify(modelName)}; a model name must not be empty, '.' or '..', nor contain '/', as it is a segment of the /v2/models/{name} URLs`);
  }
  return modelName;
}

/** Reads `serving.json` from the model directory; `undefined` when there is none. */
export function readConfigFile(modelDir: string): unknown {
  const file = path.join(modelDir, CONFIG_FILE);
  if (!holds(file)) return undefined;
  return readJsonFile(file);
}

/**
 * Reads `features.json` from the model directory; `undefined` when there is none. Only JSON syntax is
 * checked here: the feature-schema integration validates its content and turns it into an input check
 * (see `InputCheck` in app.ts).
 */
export function readFeaturesFile(modelDir: string): unknown {
  const file = path.join(modelDir, FEATURES_FILE);
  if (!holds(file)) return undefined;
  return readJsonFile(file);
}

/** A number as an environment variable must write it: decimal digits (every variable is a whole number). */
const DECIMAL = /^\d+$/;

/** What an environment variable that `envNumber` reads must hold, beyond plain decimal digits. */
export interface EnvNumberRule {
  readonly min: number;
  readonly max: number;
  /** What the value is, for the error message. @default 'an integer' */
  readonly what?: string;
  /** Why the range is what it is, for the error message. */
  readonly why?: string;
}

/**
 * Reads a numeric environment variable. Unset, empty or only whitespace means unset (undefined), as
 * an orchestrator may pass a variable with no value. Otherwise the trimmed value must be plain decimal
 * digits: no sign, fraction, exponent, `0x`/`0b` prefix or `Infinity`, which `Number()` would read. With a rule it must also be an integer within the rule's range. A bad value throws a
 * ConfigError naming the variable, the value as received (JSON-quoted, so whitespace shows) and what is
 * allowed.
 */
export function envNumber(env: NodeJS.ProcessEnv, name: string, rule?: EnvNumberRule): number | undefined {
  const raw = env[name];
  const text = raw?.trim();
  if (text === undefined || text === '') return undefined;
  const value = DECIMAL.test(text) ? Number(text) : NaN;
  if (rule === undefined) {
    if (Number.isNaN(value)) throw new ConfigError(`environment: ${name} is ${JSON.stringify(raw)}; it must be a whole number in plain decimal digits, such as 16 (no sign, fraction, exponent, or 0x or 0b prefix), or empty for the default`);
    return value;
  }
  if (!Number.isInteger(value) || value < rule.min || value > rule.max) {
    throw new ConfigError(`environment: ${name} is ${JSON.stringify(raw)}; it must be ${rule.what ?? 'an integer'} from ${rule.min} to ${rule.max}${rule.why ? ` (${rule.why})` : ''}, in plain decimal digits`);
  }
  return value;
}

/**
 * SageMaker batch transform waits 600 s for each /invocations answer (a transform job's
 * ModelClientConfig.InvocationsTimeoutInSeconds defaults to it), where a real-time endpoint waits 60 s.
 * The request deadline's default follows, with the same 5 s margin, so a MULTI_RECORD payload of many
 * records is not answered 503 DEADLINE_EXCEEDED long before SageMaker would give up on it.
 */
export const BATCH_TRANSFORM_REQUEST_TIMEOUT_MS = 595_000;

/**
 * Defaults the environment implies, below serving.json and the environment's own overrides: under batch
 * transform (`SAGEMAKER_BATCH=true`, which SageMaker sets there) the request deadline is
 * BATCH_TRANSFORM_REQUEST_TIMEOUT_MS.
 */
export function configDefaultsFromEnv(env: NodeJS.ProcessEnv): ServingConfigInput | undefined {
  return isBatchTransform(env) ? { limits: { requestTimeoutMs: BATCH_TRANSFORM_REQUEST_TIMEOUT_MS } } : undefined;
}

/** Whether the process runs under SageMaker batch transform, which sets `SAGEMAKER_BATCH=true`. */
export function isBatchTransform(env: NodeJS.ProcessEnv): boolean {
  return env.SAGEMAKER_BATCH?.trim().toLowerCase() === 'true';
}

/**
 * Whether a batch transform job streams its payloads: its MaxPayloadInMB is 0
 * (`SAGEMAKER_MAX_PAYLOAD_IN_MB=0`), which CreateTransformJob defines as payloads of any size sent with
 * HTTP chunked encoding, for algorithms that support it. This server reads each body whole, up to its
 * body limits.
 */
export function batchTransformStreams(env: NodeJS.ProcessEnv): boolean {
  return isBatchTransform(env) && envNumber(env, 'SAGEMAKER_MAX_PAYLOAD_IN_MB') === 0;
}

/**
 * Under batch transform, why the CSV and JSON Lines body limit cannot serve the job, if it cannot.
 * `/execution-parameters` announces that limit as MaxPayloadInMB, a whole number of MB from 1 to 100
 * (0 streams a payload of any size, chunked): CreateTransformJob's MaxPayloadInMB. A limit under 1 MiB
 * would be announced as 1, and SageMaker would then fill mini-batches the server refuses with 413.
 */
export function batchTransformLimitProblem(limits: LimitsConfig): string | undefined {
  const MiB = 1024 * 1024;
  if (limits.textBodyLimitBytes >= MiB) return undefined;
  // The text limit is the smaller of the two settings. When they are equal, the body limit caps it, and
  // the text limit may have been set just as low (LimitsConfig does not say): raising the body limit
  // alone would then fail the next start on the text limit, so the message names both.
  const capped = limits.bodyLimitBytes === limits.textBodyLimitBytes;
  const setting = capped ? 'limits.bodyLimitBytes (BODY_LIMIT_BYTES)' : 'limits.textBodyLimitBytes (TEXT_BODY_LIMIT_BYTES)';
  const which = capped ? `${setting}, which caps it,` : setting;
  return `under batch transform (SAGEMAKER_BATCH=true) the CSV and JSON Lines body limit must be at least ${MiB} bytes: ${which} is ${limits.textBodyLimitBytes}. ` +
    `/execution-parameters announces that limit as MaxPayloadInMB, a whole number of MB from 1 to 100, so SageMaker would send mini-batches of up to 1 MB that the server refuses with 413; ` +
    `raise ${setting} to at least ${MiB} or leave it unset` +
    (capped ? ', and limits.textBodyLimitBytes (TEXT_BODY_LIMIT_BYTES) too where it is set under that' : '');
}

/**
 * JSON Lines media types: SageMaker's name first, then the others in use. `/invocations` takes bodies
 * and answers in each of them (plugins/sagemaker.ts); they live here so that the environment check below
 * needs no part of the HTTP server.
 */
export const JSON_LINES_TYPES = ['application/jsonlines', 'application/jsonl', 'application/x-jsonlines'];

/** NumPy's .npy media type, which `/invocations` takes and answers in (npy.ts). */
export const NPY_TYPE = 'application/x-npy';

/** The media types `SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT` may name: those `/invocations` answers rows in. */
export const DEFAULT_ACCEPT_TYPES: readonly string[] = ['application/json', 'text/csv', ...JSON_LINES_TYPES, NPY_TYPE];

/**
 * `value` as one of DEFAULT_ACCEPT_TYPES: lower-cased (media types are case-insensitive), surrounding
 * whitespace and parameters (`; charset=utf-8`) dropped. Anything else throws a ConfigError naming
 * `name`, the value as received and the allowed types.
 */
export function defaultAcceptType(value: string, name: string): string {
  const type = value.split(';')[0].trim().toLowerCase();
  if (DEFAULT_ACCEPT_TYPES.includes(type)) return type;
  throw new ConfigError(`${name} is ${JSON.stringify(value)}; it must be one of ${DEFAULT_ACCEPT_TYPES.join(', ')} ` +
    '(in any case; parameters such as "; charset=utf-8" are ignored), or empty for application/json');
}

/**
 * The media type `/invocations` answers rows in when a request asks for none (no Accept header, a blank
 * one, or only `*\/*`): `SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`, as SageMaker's own containers read it.
 * A batch transform job without TransformOutput.Accept sends no Accept, and a CSV or JSON Lines
 * mini-batch answered as one JSON object does not line up with its records. One of DEFAULT_ACCEPT_TYPES
 * (see defaultAcceptType), or undefined when unset or blank: JSON.
 */
export function defaultInvocationsAccept(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT;
  if (raw === undefined || raw.trim() === '') return undefined;
  return defaultAcceptType(raw, 'environment: SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT');
}

/**
 * Builds a config layer from environment variables (the names the README documents). Numbers are read
 * by `envNumber`; the serving.json field each one sets checks its range.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): ServingConfigInput | undefined {
  const out: Record<string, unknown> = {};
  const batching: Record<string, unknown> = {};
  const queue: Record<string, unknown> = {};
  const limits: Record<string, unknown> = {};
  const put = (layer: Record<string, unknown>, field: string, name: string) => {
    const value = envNumber(env, name);
    if (value !== undefined) layer[field] = value;
  };
  put(out, 'workers', 'INFERENCE_WORKERS');
  put(out, 'intraOpNumThreads', 'INTRA_OP_NUM_THREADS');
  if (env.INTRA_OP_SPINNING) {
    if (!['on', 'off'].includes(env.INTRA_OP_SPINNING)) throw new ConfigError(`environment: INTRA_OP_SPINNING is ${JSON.stringify(env.INTRA_OP_SPINNING)}; it must be on or off`);
    out.intraOpSpinning = env.INTRA_OP_SPINNING === 'on';
  }
  if (env.ORT_EXECUTION_PROVIDERS) out.executionProviders = env.ORT_EXECUTION_PROVIDERS.split(',').map((s) => s.trim()).filter(Boolean);
  if (env.BATCHING) {
    if (!['on', 'off'].includes(env.BATCHING)) throw new ConfigError(`environment: BATCHING is ${JSON.stringify(env.BATCHING)}; it must be on or off`);
    batching.enabled = env.BATCHING === 'on';
  }
  put(batching, 'maxBatchSize', 'MAX_BATCH_SIZE');
  put(batching, 'maxQueueDelayMs', 'MAX_QUEUE_DELAY_MS');
  put(queue, 'maxSize', 'MAX_QUEUE_SIZE');
  // A batch transform job passes its MaxPayloadInMB (0 to 100; 0 streams records with no set size, which
  // leaves the body limit as configured); BODY_LIMIT_BYTES, when set, wins.
  const payloadMb = envNumber(env, 'SAGEMAKER_MAX_PAYLOAD_IN_MB', { min: 0, max: 100, why: 'MB, as a batch transform job sets it' });
  // The job sends CSV or JSON Lines records up to that size whatever the server says, so the text
  // limit follows too (the server warns at start when that is more than its heap can safely parse).
  if (payloadMb) limits.bodyLimitBytes = limits.textBodyLimitBytes = payloadMb * 1024 * 1024;
  put(limits, 'bodyLimitBytes', 'BODY_LIMIT_BYTES');
  put(limits, 'textBodyLimitBytes', 'TEXT_BODY_LIMIT_BYTES');
  put(limits, 'requestTimeoutMs', 'REQUEST_TIMEOUT_MS');
  put(limits, 'maxBodyBytesInFlight', 'MAX_BODY_BYTES_IN_FLIGHT');
  put(limits, 'maxAnswerElements', 'MAX_ANSWER_ELEMENTS');
  if (Object.keys(batching).length) out.batching = batching;
  if (Object.keys(queue).length) out.queue = queue;
  if (Object.keys(limits).length) out.limits = limits;
  // Check each variable on its own, so an error names the variable that was set, not only the
  // serving.json field it stands for.
  const fields: Array<[string, Record<string, unknown>]> = [
    ['INFERENCE_WORKERS', { workers: out.workers }], ['INTRA_OP_NUM_THREADS', { intraOpNumThreads: out.intraOpNumThreads }],
    ['ORT_EXECUTION_PROVIDERS', { executionProviders: out.executionProviders }],
    ['MAX_BATCH_SIZE', { batching: { maxBatchSize: batching.maxBatchSize } }], ['MAX_QUEUE_DELAY_MS', { batching: { maxQueueDelayMs: batching.maxQueueDelayMs } }],
    ['MAX_QUEUE_SIZE', { queue: { maxSize: queue.maxSize } }],
    [envNumber(env, 'BODY_LIMIT_BYTES') !== undefined ? 'BODY_LIMIT_BYTES' : 'SAGEMAKER_MAX_PAYLOAD_IN_MB', { limits: { bodyLimitBytes: limits.bodyLimitBytes } }],
    ['TEXT_BODY_LIMIT_BYTES', { limits: { textBodyLimitBytes: limits.textBodyLimitBytes } }],
    ['REQUEST_TIMEOUT_MS', { limits: { requestTimeoutMs: limits.requestTimeoutMs } }],
    ['MAX_BODY_BYTES_IN_FLIGHT', { limits: { maxBodyBytesInFlight: limits.maxBodyBytesInFlight } }],
    ['MAX_ANSWER_ELEMENTS', { limits: { maxAnswerElements: limits.maxAnswerElements } }],
  ];
  for (const [name, layer] of fields) {
    const value = Object.values(layer)[0];
    const set = value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.values(value)[0] : value;
    if (set === undefined) continue;
    try {
      resolveConfig(path.join(os.tmpdir(), 'environment-check'), [['environment', layer]], 1, 1024 ** 3);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new ConfigError(`environment: ${name}=${JSON.stringify(env[name])}: ${e.message.replace(/^environment: /, '')}`);
    }
  }
  return Object.keys(out).length ? (out as ServingConfigInput) : undefined;
}

/**
 * How long past the drain time the server waits before it exits with requests unanswered (server.ts):
 * a last second for answers being written and connections closing.
 */
export const DRAIN_EXIT_GRACE_MS = 1_000;

/**
 * The longest DRAIN_TIMEOUT_MS. SageMaker (and Kubernetes, by default) kill the process 30 s after
 * SIGTERM; the server exits at the latest DRAIN_EXIT_GRACE_MS after the drain time, and that exit, with
 * its "drain time exceeded" log line and status 1, must come before the kill, with a second to spare
 * for the signal's delivery and a late timer.
 */
export const MAX_DRAIN_TIMEOUT_MS = 30_000 - DRAIN_EXIT_GRACE_MS - 1_000;

/** What the server process (server.ts) reads from its environment, besides the serving overrides. */
export interface ServerEnv {
  /** SAGEMAKER_BIND_TO_PORT, else PORT, else 8080. */
  readonly port: number;
  /** DRAIN_TIMEOUT_MS, 0 to MAX_DRAIN_TIMEOUT_MS; default 25000. */
  readonly drainMs: number;
  /** LOG_LEVEL, one of LOG_LEVELS; default info. */
  readonly logLevel: string;
  /** LOG_REQUESTS: on (default) or off. */
  readonly logRequests: boolean;
}

/** The levels LOG_LEVEL may name: pino's (a custom level would need `customLevels`). */
export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and checks the server process's own variables (see ServerEnv); a bad value throws a ConfigError. */
export function serverEnv(env: NodeJS.ProcessEnv): ServerEnv {
  const portRule: EnvNumberRule = { min: 0, max: 65535, what: 'a port number' };
  // An empty SAGEMAKER_BIND_TO_PORT counts as unset, so PORT is read.
  const port = envNumber(env, 'SAGEMAKER_BIND_TO_PORT', portRule) ?? envNumber(env, 'PORT', portRule) ?? 8080;
  const drainMs = envNumber(env, 'DRAIN_TIMEOUT_MS', {
    min: 0, max: MAX_DRAIN_TIMEOUT_MS,
    why: `ms; SageMaker and Kubernetes kill the process 30 s after SIGTERM, and past the drain time the server takes ${DRAIN_EXIT_GRACE_MS / 1000} s more before it exits with requests unanswered, so ${MAX_DRAIN_TIMEOUT_MS} leaves a second to spare`,
  }) ?? 25_000;
  // pino refuses an unknown level with 'default level:verbose must be included in custom levels'.
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`environment: LOG_LEVEL is ${JSON.stringify(env.LOG_LEVEL)}; it must be one of ${LOG_LEVELS.join(', ')}, or empty for info`);
  }
  const logRequests = env.LOG_REQUESTS || 'on';
  if (logRequests !== 'on' && logRequests !== 'off') {
    throw new ConfigError(`environment: LOG_REQUESTS is ${JSON.stringify(logRequests)}; it must be on (a line when each request arrives and one when it is answered) or off (only rejected and failed requests)`);
  }
  return { port, drainMs, logLevel, logRequests: logRequests === 'on' };
}
