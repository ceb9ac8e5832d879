// onnxruntime-node 1.30 ships Microsoft's 1DS telemetry on Linux and macOS: on its first session it writes a
// persistent device id and an event cache (~/.cache/Microsoft/DeveloperTools/.onnxruntime/), a `.ses` file and an
// empty `mat-debug-PID.log` in the working or temporary folder, and uploads process, session, model and error events
// (error messages included). Attention Lens runs on the user's machine and sends nothing it was not asked to, so it
// turns that off with the library's documented opt-out, ORT_DISABLE_TELEMETRY=1, read once when the native library
// initialises. A worker thread's process.env is its own copy (writes there never reach the C environment), so the
// variable is set on the thread that starts the inference worker, before it starts, and where onnxruntime-node is
// required (which covers a main-thread load: benches, tests). Wasm builds have no telemetry.

/** Sets ORT_DISABLE_TELEMETRY=1 in this process's environment (a no-op outside Node). */
export function turnOffOnnxruntimeTelemetry(): void {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env) env.ORT_DISABLE_TELEMETRY = '1';
}
