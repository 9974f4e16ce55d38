// The calling thread's CPU time: it grows by what this thread computes and not by what another
// thread of the process computes (process.cpuUsage counts both), which is what lets replay tell
// the inference workers' CPU from the flow meter's.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { threadCpuMs } from '../../agent/lib/thread-cpu.js';

/** Spins until the process has spent `ms` more of CPU: on a loaded machine wall time would not say how much ran. */
function spin(ms: number): number {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    const d = process.cpuUsage(start);
    if ((d.user + d.system) / 1000 >= ms) return (d.user + d.system) / 1000;
  }
}

t.test('counts this thread only', { skip: process.platform !== 'linux' ? 'Linux /proc only' : false }, async (t) => {
  const a = threadCpuMs();
  t.type(a, 'number');
  const spent = spin(150);
  const b = threadCpuMs()!;
  // The process's figure counts the other threads too (V8's helpers): this thread's is most of it.
  t.ok(b - a! >= 0.8 * spent, `${spent.toFixed(0)} ms of the process's CPU while spinning, ${(b - a!).toFixed(0)} ms of it this thread's`);
  // Another thread spins 300 ms while this one waits: this thread's figure barely moves.
  const w = new Worker(`const end = performance.now() + 300; let x = 0; while (performance.now() < end) x += Math.sqrt(x + 1);`, { eval: true });
  await new Promise((resolve) => w.on('exit', resolve));
  const c = threadCpuMs()!;
  t.ok(c - b < 150, `a worker's 300 ms added ${(c - b).toFixed(0)} ms here`);
});
