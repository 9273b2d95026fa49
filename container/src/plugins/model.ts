/**
 * The model: loads it in the background (so the server is live at once and ready later), owns the
 * inference engine, and offers one `infer()` that both protocols call.
 */
import { whenFinished } from '../finished';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as path from 'node:path';
import { InferenceEngine } from '../engine';
import { InferenceError } from '../errors';
import { isEncoded } from '../content-coding';
import { checkModelFile, type ServingConfig } from '../config';
import type { ModelSignature, TensorLimits, WireTensor } from '../tensors';

const mib = (bytes: number): number => Math.round(bytes / (1024 * 1024));

/**
 * A check run on decoded inputs before they are queued, e.g. the feature-schema validation that
 * `features.json` drives. Throw an InferenceError to reject the request.
 */
export type InputCheck = (inputs: readonly WireTensor[], model: { name: string; signature: ModelSignature; features: unknown }) => void;

/**
 * `recovering`: loaded, but every worker was lost and none has been replaced yet (not ready).
 * `stopped`: the server began shutting down while the model was loading, and the start was stopped.
 */
export type ModelState = 'loading' | 'ready' | 'recovering' | 'failed' | 'stopped';

export interface ModelService {
  readonly name: string;
  readonly dir: string;
  readonly path: string;
  readonly config: ServingConfig;
  /** Parsed `features.json`, or undefined. */
  readonly features: unknown;
  readonly limits: TensorLimits;
  readonly state: ModelState;
  /** Set once ready. */
  readonly signature?: ModelSignature;
  readonly engine?: InferenceEngine;
  readonly loadError?: Error;
  /** Settles when loading has finished (rejects if it failed, or was stopped by a shutdown: state `stopped`). */
  readonly ready: Promise<void>;
  /** The model signature, or MODEL_NOT_READY (SHUTTING_DOWN once a shutdown stopped the start). */
  requireSignature(): ModelSignature;
  /** Checks the name a request addressed, or UNKNOWN_MODEL. */
  requireName(name: string): void;
  /** Checks the name and version a request addressed, or UNKNOWN_MODEL / UNKNOWN_MODEL_VERSION. */
  requireVersion(name: string, version: string): void;
  /** Runs checked inputs through the engine; resolves with the requested outputs in order. */
  /** `cancelled` says when nobody waits for the answer any more (see `clientGone`). */
  infer(inputs: WireTensor[], outputNames: string[], deadline: number, cancelled?: () => boolean): Promise<WireTensor[]>;
}

/** The one version of the model a server serves (one model directory, one version), as OIP names it. */
export const MODEL_VERSION = '1';

declare module 'fastify' {
  interface FastifyInstance {
    model: ModelService;
  }
}

export interface ModelPluginOptions {
  readonly name: string;
  readonly dir: string;
  readonly config: ServingConfig;
  readonly features: unknown;
  readonly inputChecks: readonly InputCheck[];
  /** How long close() waits for queued and running inferences. */
  readonly drainMs: number;
}

/** Whether the client of this reply has gone (its connection closed), so its answer cannot be sent. */
export function clientGone(reply: FastifyReply): boolean {
  return reply.raw.destroyed || reply.request.raw.socket?.destroyed === true;
}

/**
 * Lets go of a request's parsed body once its inputs are decoded. Fastify keeps it on the request until
 * the response is done, and parsed JSON takes up to about 17 times the body's size: kept while the
 * request waited for its run, 30 requests of 6 MiB (`[[0], [0], ...]`) at once, within
 * limits.maxBodyBytesInFlight, took a server with a 2 GiB pod's heap to "JavaScript heap out of memory".
 */
export function releaseBody(req: FastifyRequest): void {
  (req as { body: unknown }).body = undefined;
}

const ARRIVED_AT = Symbol('arrivedAt');

/**
 * When the request arrived (its headers read), on the monotonic clock (performance.now()): its deadline
 * counts from then, whatever the wall clock does meanwhile. Recorded by this plugin's onRequest hook,
 * so it does not depend on Fastify timing the reply (it does only with a logger or an onResponse hook).
 */
export function arrivedAt(req: FastifyRequest): number {
  return (req as unknown as { [ARRIVED_AT]?: number })[ARRIVED_AT] ?? performance.now();
}

async function modelPlugin(app: FastifyInstance, opts: ModelPluginOptions): Promise<void> {
  const { metrics } = app;
  const labels = { model: opts.name };
  const modelPath = path.join(opts.dir, opts.config.modelFile);
  let state: ModelState = 'loading';
  let engine: InferenceEngine | undefined;
  let loadError: Error | undefined;
  metrics.modelReady.set(labels, 0);
  metrics.workerRestarts.inc(labels, 0);
  // Series observed per run or per request, looked up once.
  const runs = metrics.runs.series(labels);
  const runFailures = metrics.runFailures.series(labels);
  const inferRequests = metrics.inferRequests.series(labels);
  const batchSize = metrics.batchSize.series(labels);
  const computeDuration = metrics.computeDuration.series(labels);
  const queueDuration = metrics.queueDuration.series(labels);
  // Queue gauges change on every request: keep plain numbers and read them into the gauges when scraped.
  let queueDepth = 0;
  let runsInFlight = 0;
  metrics.queueDepth.set(labels, 0);
  metrics.runsInFlight.set(labels, 0);
  metrics.beforeScrape(() => {
    metrics.queueDepth.set(labels, queueDepth);
    metrics.runsInFlight.set(labels, runsInFlight);
  });

  // POST requests received but not yet handled (their body is still arriving or being parsed). The
  // handlers queue their inference synchronously, so these are exactly the requests that may join a
  // batch soon.
  let postsArriving = 0;
  const ARRIVING = Symbol('arriving');
  type Marked = { [ARRIVING]?: boolean };
  const arrived = (req: object) => {
    if ((req as Marked)[ARRIVING]) {
      (req as Marked)[ARRIVING] = false;
      postsArriving--;
    }
  };
  // Request bodies in flight, by their declared size, from arrival until the response is done: parsed
  // JSON and tensors of many large requests at once could otherwise exhaust memory. An answer larger
  // than its request's body takes the body's place once it is written (see onSend below).
  const { maxBodyBytesInFlight, bodyLimitBytes } = opts.config.limits;
  let bodyBytesInFlight = 0;
  // What each request counts in bodyBytesInFlight: its body, then its answer when that is larger.
  const COUNTED = Symbol('counted');
  type Counted = { [COUNTED]?: number };
  metrics.beforeScrape(() => metrics.bodyBytesInFlight.set(bodyBytesInFlight));

  // Callback-style hooks: they run on every request, and an async hook costs a promise each.
  app.addHook('onRequest', (req, reply, done) => {
    (req as unknown as { [ARRIVED_AT]?: number })[ARRIVED_AT] = performance.now();
    // Every request with a body counts, whatever its method or URL: Fastify reads and parses a body
    // before it finds that no route takes it.
    const length = req.headers['content-length'];
    let bytes = 0;
    if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
      const declared = Number(length);
      // A chunked or compressed body may hold up to the body limit, whatever its Content-Length.
      bytes = Number.isInteger(declared) && declared >= 0 && !isEncoded(req.headers) ? Math.min(declared, bodyLimitBytes) : bodyLimitBytes;
      if (bodyBytesInFlight > 0 && bodyBytesInFlight + bytes > maxBodyBytesInFlight) {
        done(new InferenceError('OVERLOADED', `${bodyBytesInFlight} bytes of request bodies and unsent answers are in flight; this body of ${bytes} bytes would pass limits.maxBodyBytesInFlight (${maxBodyBytesInFlight}); retry shortly`, { retryAfterSeconds: 1 }));
        return;
      }
      bodyBytesInFlight += bytes;
    }
    const post = req.method === 'POST';
    if (post) {
      postsArriving++;
      (req as unknown as Marked)[ARRIVING] = true;
    }
    // Both end with the request, however it ends: its handler reached (preHandler, below, for the
    // arrivals), answered, its client gone, or never answered at all (a request pipelined behind one
    // answered with Connection: close, which no onResponse or onRequestAbort hook would see).
    if (bytes > 0 || post) {
      (req as unknown as Counted)[COUNTED] = bytes;
      whenFinished(req, reply, () => {
        bodyBytesInFlight -= (req as unknown as Counted)[COUNTED]!;
        // Over: an answer sent after this (its client hung up while its run went on) counts nowhere.
        (req as unknown as Counted)[COUNTED] = undefined;
        arrived(req);
      });
    }
    done();
  });
  // An answer stays in memory until its client has read it, and one that never reads holds it until
  // its connection times out: an answer can be thousands of times its request (a request of 4 KB
  // answered 10 MB of JSON), and 80 such clients took a server with a 2 GiB pod's heap to "JavaScript
  // heap out of memory". So an answer larger than its body counts in its place until the response is
  // done; one that would pass the limit beside the others in flight is refused, as a body is.
  app.addHook('onSend', (req, reply, payload, done) => {
    const counted = (req as unknown as Counted)[COUNTED];
    // A string's length in characters: the bytes it holds, or fewer (non-ASCII text in UTF-8).
    const size = typeof payload === 'string' ? payload.length : payload instanceof Uint8Array ? payload.byteLength : 0;
    // Error bodies are small, and one refused here would only be answered with another. A request that
    // is over (counted undefined) has nothing counted: its client hung up while its run went on, and
    // adding its answer now would hold that room for good, until every request was refused OVERLOADED.
    if (counted === undefined || size <= counted || reply.statusCode >= 400) {
      done(null, payload);
      return;
    }
    const others = bodyBytesInFlight - counted;
    if (others > 0 && others + size > maxBodyBytesInFlight) {
      reply.removeHeader('inference-header-content-length');
      done(new InferenceError('OVERLOADED', `the answer is ${size} bytes, and ${others} bytes of request bodies and unsent answers are in flight: together more than limits.maxBodyBytesInFlight (${maxBodyBytesInFlight}); retry shortly`, { retryAfterSeconds: 1 }));
      return;
    }
    bodyBytesInFlight += size - counted;
    (req as unknown as Counted)[COUNTED] = size;
    done(null, payload);
  });
  app.addHook('preHandler', (req, _reply, done) => {
    arrived(req);
    done();
  });
  // A tick sooner than whenFinished for answered requests.
  app.addHook('onResponse', (req, _reply, done) => {
    arrived(req);
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    arrived(req);
    done();
  });

  // Closing the app stops a start still going at its next step (see InferenceEngine.start).
  const starting = new AbortController();
  const stopStart = (): void => starting.abort(new Error('the server is shutting down'));
  // What the server runs with, for the "loading model" and "model ready" lines: an operator reading either
  // sees the limits a refusal came from and how long a shutdown may take.
  const { queue, limits } = opts.config;
  const ready = (async () => {
    const t0 = performance.now();
    // Said before the load, which can take minutes (a large model, a TensorRT engine build): until the
    // "model ready" line, this one says what is loading, and with what.
    app.log.info({
      model: opts.name, file: modelPath, workers: opts.config.workers, intraOpNumThreads: opts.config.intraOpNumThreads,
      executionProviders: opts.config.executionProviders, batching: opts.config.batching, queue, limits, drainMs: opts.drainMs,
    }, 'loading model');
    checkModelFile(modelPath);
    engine = await InferenceEngine.start(modelPath, opts.config, {
      onRun: ({ rows, computeMs }) => {
        runs.inc();
        batchSize.observe(rows);
        computeDuration.observe(computeMs / 1000);
      },
      onRunFailed: () => runFailures.inc(),
      onAnswered: (requests) => inferRequests.inc(requests),
      onQueueWait: (ms) => queueDuration.observe(ms / 1000),
      requestsArriving: () => postsArriving,
      onQueue: (depth, running) => {
        queueDepth = depth;
        runsInFlight = running;
      },
      onWorkerEvent: (event, detail) => {
        if (event === 'worker-lost' || event === 'worker-stuck') metrics.workerRestarts.inc(labels);
        // Every line names the model, as the load's lines do: a log gathered from many servers is searched by it.
        const fields = { model: opts.name, event, ...detail };
        if (event === 'worker-replaced') app.log.info(fields, 'inference worker replaced');
        else if (event === 'worker-lost') app.log.error(fields, 'an inference worker stopped: the run it was in is answered 500 WORKER_CRASHED, runs posted behind it go back to the queue, and the worker is replaced (unless the server is shutting down with nothing queued)');
        else if (event === 'worker-respawn-failed') app.log.error(fields, 'a replacement inference worker failed to start; trying again after retryInMs');
        else if (event === 'worker-stuck') app.log.error(fields, 'an inference run has outlasted limits.requestTimeoutMs: its requests were answered 503, and its worker was set aside to finish the run (onnxruntime cannot interrupt it) while a new worker takes its place');
        else if (event === 'stuck-worker-stopped') app.log.warn(fields, 'a set-aside inference run ended; its worker was stopped');
        else if (event === 'merged-run-failed') app.log.warn(fields, 'a merged run failed; its requests run again one at a time');
        else if (event === 'warm-up-skipped') app.log.warn(fields, 'warm-up skipped: the model needs dynamic dimensions above 1; serving without it (warmUp.shapes in serving.json gives shapes it takes)');
        else app.log.error(fields, 'inference worker event');
      },
    }, starting.signal);
    const seconds = (performance.now() - t0) / 1000;
    metrics.modelLoadSeconds.set(labels, seconds);
    metrics.executionProvider.set({ ...labels, provider: engine.provider }, 1);
    state = 'ready';
    const memory = opts.config.memory;
    app.log.info({
      model: opts.name, file: modelPath, seconds: Number(seconds.toFixed(3)), workers: engine.workerCount,
      intraOpNumThreads: engine.intraOpNumThreads, intraOpSpinning: opts.config.intraOpSpinning, provider: engine.provider, providerFallback: engine.fallbackReason,
      ...(engine.provider !== 'cpu' ? { devices: engine.deviceIds } : {}),
      batching: engine.batchingActive ? opts.config.batching : 'off',
      requestTimeoutMs: opts.config.limits.requestTimeoutMs, queue, limits, drainMs: opts.drainMs,
      ...(engine.batchingOffReason ? { batchingOffReason: engine.batchingOffReason } : {}),
      ...(memory ? {
        memory: {
          perWorkerMiB: mib(memory.perWorkerBytes), limitMiB: mib(memory.limitBytes),
          // The per-request pool in use, made smaller than the CPUs allow so that its copies of the model fit.
          ...(!engine.batchingActive && memory.cappedFrom !== undefined && engine.workerCount < memory.cappedFrom ? { workersCappedFrom: memory.cappedFrom } : {}),
        },
      } : {}),
      inputs: engine.signature.inputs, outputs: engine.signature.outputs,
      ...(engine.signature.ignoredOutputs.length ? { ignoredOutputs: engine.signature.ignoredOutputs } : {}),
    }, 'model ready');
  })();
  ready.catch((e: Error) => {
    if (starting.signal.aborted && e === starting.signal.reason) {
      state = 'stopped';
      app.log.info({ model: opts.name }, 'model start stopped: the server is shutting down');
      return;
    }
    state = 'failed';
    loadError = e;
    app.log.error({ model: opts.name, error: e.message }, 'model failed to load');
  });

  const currentState = (): ModelState => (state === 'ready' && engine && !engine.healthy ? 'recovering' : state);
  // Readiness as the health routes report it: 0 again while every worker is lost and being replaced.
  metrics.beforeScrape(() => metrics.modelReady.set(labels, currentState() === 'ready' ? 1 : 0));
  metrics.workersSetAside.set(labels, 0);
  metrics.beforeScrape(() => metrics.workersSetAside.set(labels, engine?.setAsideWorkers ?? 0));

  const service: ModelService = {
    name: opts.name,
    dir: opts.dir,
    path: modelPath,
    config: opts.config,
    features: opts.features,
    limits: { maxElements: opts.config.limits.maxTensorElements, maxRank: opts.config.limits.maxTensorRank },
    get state() { return currentState(); },
    get signature() { return engine?.signature; },
    get engine() { return engine; },
    get loadError() { return loadError; },
    ready,
    requireSignature() {
      // 'recovering' still takes requests: they wait for the replacement worker (the engine refuses
      // them itself once replacing has failed).
      if (state === 'stopped') throw new InferenceError('SHUTTING_DOWN', 'the server is shutting down', { retryAfterSeconds: 1 });
      if (state !== 'ready' || !engine) {
        throw new InferenceError('MODEL_NOT_READY', state === 'failed'
          ? `model '${opts.name}' failed to load: ${loadError?.message}`
          : `model '${opts.name}' is still loading`, { retryAfterSeconds: 5 });
      }
      return engine.signature;
    },
    requireName(name: string) {
      if (name !== opts.name) {
        // A name from the URL may be up to the headers limit long: quote its start only.
        const quoted = name.length > 100 ? `'${name.slice(0, 100)}...' (${name.length} characters)` : `'${name}'`;
        throw new InferenceError('UNKNOWN_MODEL', `model ${quoted} is not served here; this server serves '${opts.name}'`);
      }
    },
    requireVersion(name: string, version: string) {
      this.requireName(name);
      if (version !== MODEL_VERSION) {
        throw new InferenceError('UNKNOWN_MODEL_VERSION', `model '${opts.name}' has no version '${version.slice(0, 64)}'; the only version served is '${MODEL_VERSION}'`);
      }
    },
    infer(inputs, outputNames, deadline, cancelled) {
      // Not async: one promise (the engine's) per request instead of two. Successful answers are
      // counted by the engine's onAnswered hook, once per run.
      try {
        const signature = this.requireSignature();
        for (const check of opts.inputChecks) check(inputs, { name: opts.name, signature, features: opts.features });
        return engine!.infer({ inputs, outputNames, deadline, cancelled });
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
  app.decorate('model', service);

  // preClose: as soon as close() begins, before the server waits for its connections to end.
  app.addHook('preClose', (done) => {
    stopStart();
    done();
  });
  app.addHook('onClose', async () => {
    stopStart();
    await ready.catch(() => undefined);
    await engine?.close(opts.drainMs);
  });
}

export default fp(modelPlugin, { name: 'model', fastify: '5.x', dependencies: ['metrics'] });
