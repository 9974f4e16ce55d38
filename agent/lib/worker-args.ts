/**
 * Worker threads run compiled JS only: drop the module loaders and hooks the
 * parent was started with (a test runner's TypeScript hook costs seconds per
 * worker) and keep everything else (source maps, memory flags).
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^(--import|--loader|--experimental-loader|--require|-r)(=.*)?$/.exec(a);
    if (!m) out.push(a);
    else if (m[2] === undefined) i++; // the value is the next argument
  }
  return out;
}
