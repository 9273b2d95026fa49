/**
 * Prometheus metrics on `GET /metrics`: HTTP requests by route template and status, inference compute
 * and queue time, batch sizes, queue depth and in-flight gauges, model load time. Each app has its own
 * registry, so several apps in one process (tests) never share counters.
 */
import { whenFinished } from '../finished';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import * as client from 'prom-client';
import { errorResponses } from '../errors';
import { requestFields } from '../request-log';
import { FastCounter, FastHistogram, CounterSeries, HistogramSeries } from '../fast-metrics';

export interface ServerMetrics {
  readonly registry: client.Registry;
  // Observed on every request or run: series kept by the caller (see fast-metrics.ts).
  readonly httpRequests: FastCounter<'method' | 'route' | 'status_code'>;
  readonly httpDuration: FastHistogram<'method' | 'route' | 'status_code'>;
  readonly computeDuration: FastHistogram<'model'>;
  readonly queueDuration: FastHistogram<'model'>;
  readonly batchSize: FastHistogram<'model'>;
  readonly runs: FastCounter<'model'>;
  readonly runFailures: FastCounter<'model'>;
  readonly inferRequests: FastCounter<'model'>;
  readonly httpInFlight: client.Gauge;
  readonly bodyBytesInFlight: client.Gauge;
  readonly errors: client.Counter<'code'>;
  readonly queueDepth: client.Gauge<'model'>;
  readonly runsInFlight: client.Gauge<'model'>;
  readonly modelLoadSeconds: client.Gauge<'model'>;
  readonly modelReady: client.Gauge<'model'>;
  readonly executionProvider: client.Gauge<'model' | 'provider'>;
  readonly workerRestarts: client.Counter<'model'>;
  readonly workersSetAside: client.Gauge<'model'>;
  /** HTTP requests being processed now (what http_requests_in_flight shows when scraped). */
  requestsInFlight(): number;
  /** Registers a function run before each scrape (to copy hot-path counters into gauges). */
  beforeScrape(fn: () => void): void;
  /**
   * Counts a request answered before Fastify routed it (Node could not parse it, or its URL is
   * malformed) in http_requests_total, with route `__unparsed__` (its duration is not known).
   */
  countUnparsed(method: string, status: number): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ServerMetrics;
  }
}

// Up to 600 s: under batch transform a request may take up to 595 s (limits.requestTimeoutMs), and a
// real-time request's 408 comes past 60 s; beyond the last bound every duration is only +Inf.
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

function createMetrics(inFlight: () => number, beforeScrape: (fn: () => void) => void): ServerMetrics {
  const registry = new client.Registry();
  const registers = [registry];
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return {
    registry,
    beforeScrape,
    requestsInFlight: inFlight,
    countUnparsed: () => undefined, // set by the plugin, which keeps the series
    httpRequests: new FastCounter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route template and status code.', labelNames: ['method', 'route', 'status_code'], registry }),
    httpDuration: new FastHistogram({ name: 'http_request_duration_seconds', help: 'HTTP request latency, by method, route template and status code.', labelNames: ['method', 'route', 'status_code'], buckets: LATENCY_BUCKETS, registry }),
    httpInFlight: new client.Gauge({ name: 'http_requests_in_flight', help: 'HTTP requests being processed.', registers, collect() { this.set(inFlight()); } }),
    bodyBytesInFlight: new client.Gauge({ name: 'http_request_body_bytes_in_flight', help: 'Declared body bytes of the requests being processed, whatever their method, or of their answers once written when larger, until read (limits.maxBodyBytesInFlight caps it).', registers }),
    computeDuration: new FastHistogram({ name: 'inference_compute_duration_seconds', help: 'Time onnxruntime spent in one run (one merged batch).', labelNames: ['model'], buckets: LATENCY_BUCKETS, registry }),
    queueDuration: new FastHistogram({ name: 'inference_queue_duration_seconds', help: 'Time a request waited in the queue: until its run started, or until it was answered there (its deadline passed, its client hung up, the server shut down, or no worker was left).', labelNames: ['model'], buckets: LATENCY_BUCKETS, registry }),
    batchSize: new FastHistogram({ name: 'inference_batch_size', help: 'Rows in one onnxruntime run (requests merged by dynamic batching).', labelNames: ['model'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registry }),
    runs: new FastCounter({ name: 'inference_runs_total', help: 'onnxruntime runs (merged batches) that succeeded.', labelNames: ['model'], registry }),
    runFailures: new FastCounter({ name: 'inference_run_failures_total', help: 'onnxruntime runs that failed: a merged run whose requests then run again one at a time counts once, and so does each of those reruns that fails.', labelNames: ['model'], registry }),
    inferRequests: new FastCounter({ name: 'inference_requests_total', help: 'Inference jobs answered successfully: one per request, or one per part of a request run in parts (more rows than maxBatchSize, or rows fed one per run to a fixed-batch model); divided by inference_runs_total this is the average merge factor.', labelNames: ['model'], registry }),
    errors: new client.Counter({ name: 'http_errors_total', help: 'Requests answered with an error, by stable error code.', labelNames: ['code'], registers }),
    queueDepth: new client.Gauge({ name: 'inference_queue_depth', help: 'Requests waiting for a worker.', labelNames: ['model'], registers }),
    runsInFlight: new client.Gauge({ name: 'inference_runs_in_flight', help: 'onnxruntime runs executing now.', labelNames: ['model'], registers }),
    modelLoadSeconds: new client.Gauge({ name: 'model_load_duration_seconds', help: 'Time to load the model in every worker and warm it up.', labelNames: ['model'], registers }),
    workerRestarts: new client.Counter({ name: 'inference_worker_restarts_total', help: 'Inference worker threads replaced: they stopped unexpectedly, or were set aside in a run longer than limits.requestTimeoutMs.', labelNames: ['model'], registers }),
    workersSetAside: new client.Gauge({ name: 'inference_workers_set_aside', help: 'Workers set aside in a run longer than limits.requestTimeoutMs, still finishing it (onnxruntime cannot interrupt a run): they hold processors and a copy of the model until it ends.', labelNames: ['model'], registers }),
    modelReady: new client.Gauge({ name: 'model_ready', help: '1 when the model is loaded and warmed up.', labelNames: ['model'], registers }),
    executionProvider: new client.Gauge({ name: 'inference_execution_provider', help: '1 for the onnxruntime execution provider the model runs on (cpu, cuda, tensorrt), once loaded.', labelNames: ['model', 'provider'], registers }),
  };
}


async function metricsPlugin(app: FastifyInstance): Promise<void> {
  // In-flight requests as a plain number, read into the gauge when scraped.
  let inFlight = 0;
  const scrapeHooks: Array<() => void> = [];
  const metrics = createMetrics(() => inFlight, (fn) => scrapeHooks.push(fn));
  app.decorate('metrics', metrics);

  // Per-request bookkeeping is on the hot path of every request: callback-style hooks (no promise per
  // hook), and the series of each (method, route, status) looked up once and kept here.
  const children = new Map<string, { count: CounterSeries; duration: HistogramSeries }>();
  const childFor = (method: string, route: string, status: number) => {
    const key = `${method} ${status} ${route}`;
    let child = children.get(key);
    if (!child) {
      const labels = { method, route, status_code: String(status) };
      child = { count: metrics.httpRequests.series(labels), duration: metrics.httpDuration.series(labels) };
      children.set(key, child);
    }
    return child;
  };
  // Recorded when the response closes, which happens exactly once per request, also for a client that
  // hung up before its answer (status 499, as nginx counts it); an onResponse hook would miss those and
  // leave http_requests_in_flight too high for good. A 499 is counted and logged as CLIENT_CLOSED here,
  // whatever the request was doing then: no error reaches the error handler when the client hangs up
  // while its run goes on (the answer is then sent to nobody).
  metrics.countUnparsed = (method, status) => childFor(method, '__unparsed__', status).count.inc();
  app.addHook('onRequest', (req, reply, done) => {
    const t0 = performance.now();
    inFlight++;
    whenFinished(req, reply, () => {
      inFlight--;
      const status = reply.raw.writableEnded ? reply.statusCode : 499;
      if (status === 499) {
        metrics.errors.inc({ code: 'CLIENT_CLOSED' });
        req.log.info({ ...requestFields(req), code: 'CLIENT_CLOSED', status }, 'client closed the connection before the answer');
      }
      const child = childFor(req.method, req.routeOptions.url ?? '__unmatched__', status);
      child.count.inc();
      child.duration.observe((performance.now() - t0) / 1000);
    });
    done();
  });

  app.get('/metrics', {
    logLevel: 'warn',
    // Scrapes are how load is seen: under-pressure must not shed them (as for the health routes).
    config: { pressureHandler: () => undefined },
    schema: {
      response: { 200: { type: 'string', description: 'Prometheus text exposition format 0.0.4.' }, ...errorResponses },
    },
  }, async (_req, reply) => {
    for (const fn of scrapeHooks) fn();
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' });
