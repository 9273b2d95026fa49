/**
 * The process entry: reads the environment, listens, and drains on SIGTERM.
 * SageMaker starts the image as `<image> serve`; Kubernetes may start it with no argument. Anything
 * else (another command, or arguments after serve) exits 2 naming it: settings come from the environment.
 *
 * Environment: MODEL_DIR (default /opt/ml/model), MODEL_NAME, SAGEMAKER_BIND_TO_PORT (else PORT, else 8080),
 * SAGEMAKER_BATCH (true under batch transform: requests get up to 595 s by default, not 55 s, and a CSV and
 * JSON Lines body limit under 1 MiB, which /execution-parameters cannot announce, stops the start; with
 * SAGEMAKER_MAX_PAYLOAD_IN_MB=0, a streaming job, it warns that payloads past that limit get 413),
 * SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (the format /invocations answers rows in when a request has no
 * Accept, or only *\/*: application/json, the default, text/csv, a JSON Lines type or application/x-npy),
 * HOST (default 0.0.0.0), LOG_LEVEL (default info), LOG_REQUESTS (on/off, default on), DRAIN_TIMEOUT_MS (default 25000, at most
 * 28000, so the exit 1 s after it comes before SageMaker's 30 s SIGKILL), plus the serving overrides in config.ts (INFERENCE_WORKERS, INTRA_OP_NUM_THREADS,
 * INTRA_OP_SPINNING, ORT_EXECUTION_PROVIDERS, BATCHING, MAX_BATCH_SIZE, MAX_QUEUE_DELAY_MS, MAX_QUEUE_SIZE,
 * SAGEMAKER_MAX_PAYLOAD_IN_MB, BODY_LIMIT_BYTES, TEXT_BODY_LIMIT_BYTES, REQUEST_TIMEOUT_MS, MAX_BODY_BYTES_IN_FLIGHT, MAX_ANSWER_ELEMENTS).
 * config.ts reads and checks them all (`serverEnv`, `configFromEnv`, `defaultInvocationsAccept`); container/README.md lists them.
 */
import { buildApp, unexpectedError } from './app';
import { batchTransformStreams, configDefaultsFromEnv, configFromEnv, defaultInvocationsAccept, DRAIN_EXIT_GRACE_MS, isBatchTransform, serverEnv } from './config';

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const command = argv[0] ?? 'serve';
  if (command !== 'serve') {
    console.error(`unknown command ${JSON.stringify(command)}: this image only serves (run it with "serve" or no argument)`);
    process.exit(2);
  }
  if (argv.length > 1) {
    console.error(`unexpected argument ${JSON.stringify(argv[1])} after serve: the server takes its settings from the environment (SAGEMAKER_BIND_TO_PORT for the port; see container/README.md)`);
    process.exit(2);
  }
  let app;
  let settings;
  try {
    settings = serverEnv(env);
    app = await buildApp({
      modelDir: env.MODEL_DIR || '/opt/ml/model',
      modelName: env.MODEL_NAME,
      config: configFromEnv(env),
      defaults: configDefaultsFromEnv(env),
      batchTransform: isBatchTransform(env),
      batchStreaming: batchTransformStreams(env),
      defaultAccept: defaultInvocationsAccept(env),
      drainMs: settings.drainMs,
      logger: { level: settings.logLevel },
      logRequests: settings.logRequests,
    });
  } catch (e) {
    console.error(JSON.stringify({ level: 60, time: Date.now(), msg: `cannot start: ${(e as Error).message}` }));
    process.exit(1);
  }
  const { port, drainMs } = settings;
  // A bug that throws outside every handler (or a promise rejected with no one to catch it) ends the
  // process, as Node would, but with one JSON line in the log instead of Node's lines of text, and
  // without the error's message, which may quote what a request held (as for 500 INTERNAL).
  process.on('uncaughtException', (e: Error) => {
    app.log.fatal({ err: unexpectedError(e), exitCode: 1 }, 'uncaught error, exiting');
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const t0 = performance.now();
    // The exit lines say how the drain ended (the status the orchestrator sees) and how long it took.
    const exit = (exitCode: number): { exitCode: number; drainSeconds: number } => ({ exitCode, drainSeconds: Number(((performance.now() - t0) / 1000).toFixed(3)) });
    app.log.info({ signal, drainMs, requestsInFlight: app.metrics.requestsInFlight() }, 'draining: no new connections, answering accepted requests');
    let drainExceeded = false;
    let waitedForRun = false;
    // Past the drain time: exit, except while a worker is inside an onnxruntime run. Exiting then would
    // stop that worker mid-run, which aborts the whole process (SIGABRT, possibly a core dump) when the
    // run returns, and process.exit() would wait for the run anyway. So answer everything still waiting
    // with 503, wait for the run, give close() a second more, then exit. The orchestrator's own kill
    // deadline (SageMaker: 30 s; Kubernetes: terminationGracePeriodSeconds) still applies.
    const onDrainTimeout = (): void => {
      drainExceeded = true;
      // A worker inside onnxruntime (loading the model, warming up, or running) cannot be stopped
      // without aborting the process: wait for it, polling.
      const loading = app.model.state === 'loading';
      const engine = app.model.engine;
      const busyWorkers = engine?.busyWorkers ?? 0;
      if (loading || busyWorkers > 0) {
        if (!waitedForRun) {
          if (loading) app.log.error({ drainMs }, 'drain time exceeded while the model is still loading; exiting once loading ends (it cannot be interrupted)');
          else app.log.error({ drainMs, busyWorkers }, 'drain time exceeded: answering queued and running requests 503 SHUTTING_DOWN; exiting once the inference run in progress ends (a run cannot be interrupted)');
          void engine?.close(0);
        }
        waitedForRun = true;
        setTimeout(onDrainTimeout, 100).unref();
        return;
      }
      if (waitedForRun) {
        waitedForRun = false;
        setTimeout(onDrainTimeout, 1_000).unref();
        return;
      }
      app.log.error({ drainMs, requestsInFlight: app.metrics.requestsInFlight(), ...exit(1) }, 'drain time exceeded, exiting with requests unanswered');
      process.exit(1);
    };
    setTimeout(onDrainTimeout, drainMs + DRAIN_EXIT_GRACE_MS).unref();
    app.close().then(() => {
      // Past the drain time the requests still waiting were answered 503 SHUTTING_DOWN (see onDrainTimeout).
      if (drainExceeded) app.log.warn(exit(1), 'drained past the drain time, exiting');
      else app.log.info(exit(0), 'drained, exiting');
      process.exit(drainExceeded ? 1 : 0);
    }, (e: Error) => {
      app.log.error({ err: e, ...exit(1) }, 'error while closing');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    await app.listen({ port, host: env.HOST || '0.0.0.0' });
  } catch (e) {
    app.log.fatal({ err: e }, `cannot start: cannot listen on ${env.HOST || '0.0.0.0'}:${port}: ${(e as Error).message}`);
    // The model may be loading in a worker: close() lets that finish before stopping the workers
    // (stopping one inside onnxruntime aborts the process).
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  // The model plugin has logged why (one line, without a stack): say only that the process ends. A start
  // stopped by SIGTERM (state 'stopped') is no failure: the drain above exits.
  app.model.ready.catch(() => {
    if (app.model.state === 'stopped') return;
    app.log.fatal('exiting: the model failed to load');
    process.exit(1);
  });
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).catch((e: Error) => {
    console.error(JSON.stringify({ level: 60, time: Date.now(), msg: `cannot start: ${e.message}` }));
    process.exit(1);
  });
}
