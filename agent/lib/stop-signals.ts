/**
 * Ctrl-C and SIGTERM for every command: the first aborts the command's signal (a graceful stop:
 * capture stops, flows drain, labels publish); a second ends the process at once.
 */

/** Signals this close together are one request to stop (see handleStopSignals). */
export const SAME_STOP_MS = 200;

export function handleStopSignals(ac: AbortController, sameStopMs = SAME_STOP_MS): void {
  let signals = 0;
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    // One stop asked twice at once is one stop: `timeout -s INT` and a signal to the process
    // group deliver it twice within a millisecond. Taken for the user's second Ctrl-C, it ended
    // the process before anything drained (found by review). A person's second Ctrl-C comes later.
    if (signals > 0 && performance.now() - firstAt < sameStopMs) return;
    if (++signals === 1) {
      firstAt = performance.now();
      ac.abort();
      return;
    }
    // The second: the user means it, so the process ends by that signal, as it would have without
    // handlers. Not process.exit(): it stops the worker threads and runs the native libraries'
    // teardown, and onnxruntime's binding aborts the process (134, a core dump) when a worker is
    // opening a model then. Node's own handler, once ours are gone, resets the terminal and
    // re-raises the signal: nothing else runs.
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.kill(process.pid, signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
