/**
 * onnxruntime's usage telemetry. From 1.29 the Linux builds carry Microsoft's 1DS telemetry client:
 * on the first session it writes a device id and an event database under `$XDG_CACHE_HOME` (else
 * `~/.cache`)`/Microsoft/DeveloperTools/.onnxruntime`, an empty `mat-debug-<pid>.log` in the temporary
 * directory, and looks up and uploads to mobile.events.data.microsoft.com. An inference server should
 * make no connection nobody asked for (SageMaker network isolation and locked-down clusters refuse
 * them; the image's user may have no home to write to), so the server turns it off unless the
 * operator chose: `ORT_DISABLE_TELEMETRY=0` turns it back on.
 *
 * onnxruntime reads the variable with getenv when it creates its environment (the first session, in a
 * worker thread), so it is set on the main thread's environment, which Node writes through to the
 * process's, before any worker starts.
 */

/**
 * Sets `ORT_DISABLE_TELEMETRY=1` when it is unset or empty (an empty variable counts as unset, as for
 * every variable the server reads); any other value the operator set is kept. onnxruntime 1.30 reads it:
 * `1`, `true`, `yes` or `on` (any case) turns telemetry off; `0` and anything else leave it on.
 */
export function disableOrtTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.ORT_DISABLE_TELEMETRY?.trim()) env.ORT_DISABLE_TELEMETRY = '1';
}
