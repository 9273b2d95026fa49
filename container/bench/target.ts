/**
 * One server under test, in its own process so the load generator does not share its event loop.
 * Usage: node dist/bench/target.js <mode> <modelDir> [constantBodyFile]
 *   batching | nobatch : the real server (buildApp), dynamic batching on or off
 *   naive              : one Fastify route calling session.run on the main thread
 *   constant           : one Fastify route answering a constant body (the HTTP ceiling)
 * Prints `PORT <n>` on stdout when it listens on 127.0.0.1.
 */
import Fastify, { FastifyInstance } from 'fastify';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { disableOrtTelemetry } from '../src/telemetry';
import { buildApp } from '../src/app';
import { cpuCount } from '../src/config';

/** The server under test for `mode`, ready to listen (the model loaded, for the inference servers). */
export async function targetApp(mode: string, modelDir: string, constantFile?: string): Promise<FastifyInstance> {
  const name = path.basename(modelDir);
  const url = `/v2/models/${name}/infer`;
  let app: FastifyInstance;
  if (mode === 'batching' || mode === 'nobatch') {
    app = await buildApp({
      modelDir,
      // BENCH_LOG=all|errors: log at info to /dev/null, every request or only rejected ones (LOG_REQUESTS).
      logger: process.env.BENCH_LOG ? { level: 'info', stream: fs.createWriteStream('/dev/null') } : false,
      logRequests: process.env.BENCH_LOG === 'all',
      config: {
        batching: { enabled: mode === 'batching' },
        ...(process.env.INFERENCE_WORKERS ? { workers: Number(process.env.INFERENCE_WORKERS) } : {}),
        ...(process.env.INTRA_OP_NUM_THREADS ? { intraOpNumThreads: Number(process.env.INTRA_OP_NUM_THREADS) } : {}),
        ...(process.env.INTRA_OP_SPINNING ? { intraOpSpinning: process.env.INTRA_OP_SPINNING === 'on' } : {}),
        ...(process.env.MAX_QUEUE_DELAY_MS ? { batching: { enabled: mode === 'batching', maxQueueDelayMs: Number(process.env.MAX_QUEUE_DELAY_MS) } } : {}),
      },
    });
    await app.model.ready;
  } else if (mode === 'naive') {
    // The obvious implementation: no validation, no workers, the event loop blocked during each run.
    // It answers the server's bytes (model_version last, where the server's response schema puts it),
    // serialised with JSON.stringify.
    const session = await ort.InferenceSession.create(path.join(modelDir, 'model.onnx'), { intraOpNumThreads: cpuCount() });
    app = Fastify({ bodyLimit: 6 * 1024 * 1024 });
    app.get('/ping', async () => ({ ready: true }));
    app.post(url, async (req) => {
      const body = req.body as { inputs: Array<{ name: string; shape: number[]; data: number[] }> };
      const feeds: Record<string, ort.Tensor> = {};
      for (const i of body.inputs) feeds[i.name] = new ort.Tensor('float32', Float32Array.from(i.data.flat(Infinity as 1) as number[]), i.shape);
      const out = await session.run(feeds);
      return {
        model_name: name,
        outputs: Object.entries(out).map(([n, t]) => ({ name: n, datatype: t.type === 'bool' ? 'BOOL' : 'FP32', shape: t.dims, data: Array.from(t.data as Float32Array, (v) => (t.type === 'bool' ? v !== 0 : v)) })),
        model_version: '1',
      };
    });
  } else if (mode === 'constant') {
    if (constantFile === undefined) throw new Error('the constant-body server needs the file of its answer');
    const constant = fs.readFileSync(constantFile, 'utf8');
    app = Fastify({ bodyLimit: 6 * 1024 * 1024 });
    app.get('/ping', async () => ({ ready: true }));
    app.post(url, async (_req, reply) => {
      reply.type('application/json');
      return constant;
    });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  return app;
}

async function main(): Promise<void> {
  disableOrtTelemetry(); // the naive server's session too, as the real server does
  const [mode, modelDir, constantFile] = process.argv.slice(2);
  const app = await targetApp(mode, modelDir, constantFile);
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`PORT ${(app.server.address() as { port: number }).port}\n`);
  process.on('SIGTERM', () => {
    void app.close().then(() => process.exit(0));
  });
}

if (require.main === module) void main();
