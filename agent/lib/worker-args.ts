/**
 * Worker threads run compiled JS only. They get just the parent's flags that
 * are safe and useful in a worker (source maps, warnings): module loaders and
 * hooks (a test runner's TypeScript hook costs seconds per worker) are not
 * needed, and process-wide flags such as --max-semi-space-size make Node
 * refuse to start the worker at all.
 */
const KEEP = /^--(enable-source-maps|no-warnings|no-deprecation|trace-warnings|trace-uncaught|stack-trace-limit=\d+)$/;

export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  return argv.filter((a) => KEEP.test(a));
}
