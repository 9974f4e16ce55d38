// The calling thread's CPU time: it grows by what this thread computes and not by what another
// thread of the process computes (process.cpuUsage counts both), which is what lets replay tell
// the inference workers' CPU from the flow meter's.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { threadCpuMs } from '../../agent/lib/thread-cpu.js';

function spin(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
}

t.test('counts this thread only', { skip: process.platform !== 'linux' ? 'Linux /proc only' : false }, async (t) => {
  const a = threadCpuMs();
  t.type(a, 'number');
  spin(150);
  const b = threadCpuMs()!;
  t.ok(b - a! >= 100, `150 ms of spinning counted ${(b - a!).toFixed(0)} ms`);
  // Another thread spins 300 ms while this one waits: this thread's figure barely moves.
  const w = new Worker(`const end = performance.now() + 300; let x = 0; while (performance.now() < end) x += Math.sqrt(x + 1);`, { eval: true });
  await new Promise((resolve) => w.on('exit', resolve));
  const c = threadCpuMs()!;
  t.ok(c - b < 150, `a worker's 300 ms added ${(c - b).toFixed(0)} ms here`);
});
