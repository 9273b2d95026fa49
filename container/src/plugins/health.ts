/**
 * Health: live as soon as the process serves (until it has had no inference worker for too long);
 * ready only when the model is loaded and warmed up.
 * `/ping` is SageMaker's health check (200 within 2 s), `/v2/health/*` the Open Inference Protocol's.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorBodySchema, errorResponses } from '../errors';

const readySchema = {
  type: 'object',
  required: ['ready'],
  properties: { ready: { type: 'boolean' }, model: { type: 'string' }, state: { type: 'string' } },
} as const;

/**
 * A 503 is either the not-ready answer or, when the request itself was refused (a body while the body
 * cap is reached, say), the catalogue's error body.
 */
export const notReadySchema = {
  type: 'object',
  properties: { ...readySchema.properties, ...errorBodySchema.properties },
} as const;

const liveSchema = { type: 'object', required: ['live'], properties: { live: { type: 'boolean' }, reason: { type: 'string' } } } as const;

/** Health checks are answered even when under-pressure would shed load: they are how load is seen. */
export const keepServing = { pressureHandler: () => undefined };

export interface HealthOptions {
  /**
   * How long the server may go without a working inference worker (every one lost, and replacing them
   * keeps failing), or keep a worker set aside in an overlong run, before it reports itself not live,
   * so an orchestrator restarts it.
   */
  readonly maxWorkerlessMs: number;
}

async function healthPlugin(app: FastifyInstance, opts: HealthOptions): Promise<void> {
  const answerReady = (reply: FastifyReply) => {
    const ready = app.model.state === 'ready';
    reply.code(ready ? 200 : 503);
    if (!ready) reply.header('retry-after', '5');
    return { ready, model: app.model.name, state: app.model.state };
  };
  const readyResponses = { 200: readySchema, 503: notReadySchema, '4xx': errorResponses['4xx'], '5xx': errorResponses['5xx'] };

  app.get('/ping', { logLevel: 'warn', config: keepServing, schema: { response: readyResponses } }, async (_req, reply) => answerReady(reply));
  app.get('/v2/health/ready', { logLevel: 'warn', config: keepServing, schema: { response: readyResponses } }, async (_req, reply) => answerReady(reply));
  app.get('/v2/health/live', {
    logLevel: 'warn',
    config: keepServing,
    schema: { response: { 200: liveSchema, 503: { type: 'object', properties: { ...liveSchema.properties, ...errorBodySchema.properties } }, '4xx': errorResponses['4xx'], '5xx': errorResponses['5xx'] } },
  }, async (_req, reply) => {
    const workerless = app.model.engine?.workerlessForMs ?? 0;
    const setAside = app.model.engine?.setAsideForMs ?? 0;
    if (workerless <= opts.maxWorkerlessMs && setAside <= opts.maxWorkerlessMs) return { live: true };
    reply.code(503);
    if (workerless > opts.maxWorkerlessMs) {
      return { live: false, reason: `no inference worker for ${Math.round(workerless / 1000)} s: replacing the lost ones keeps failing, or every one is stuck in an overlong run (see the worker-respawn-failed and worker-stuck log lines); restart the server` };
    }
    // A run nobody waits for, which onnxruntime cannot interrupt, still holds its worker's CPUs (or GPU)
    // and a copy of the model: only a restart gets them back.
    return { live: false, reason: `an inference run set aside ${Math.round(setAside / 1000)} s ago, when it outlasted limits.requestTimeoutMs, is still going and holds its worker's processors and memory (see the worker-stuck log line); restart the server` };
  });
}

export default fp(healthPlugin, { name: 'health', fastify: '5.x', dependencies: ['model'] });
