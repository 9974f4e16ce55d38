// The calling thread's CPU time (and its wait for a core): it grows by what this thread computes and not by what another
// thread of the process computes (process.cpuUsage counts both), which is what lets replay tell
// the inference workers' CPU from the flow meter's.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { threadCpuMs, threadTimes } from '../../agent/lib/thread-cpu.js';

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

t.test('the time this thread waited for a core: grows while more threads spin than there are cores', { skip: process.platform !== 'linux' ? 'Linux /proc only' : false }, async (t) => {
  // One spinner per core besides this thread: at least one thread is always queued, and the
  // scheduler shares the wait among them, this one included. They spin until told to stop.
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const spinners = Array.from({ length: availableParallelism() }, () => new Worker(
    `const { workerData } = require('node:worker_threads'); let x = 0; while (Atomics.load(workerData, 0) === 0) for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + 1);`,
    { eval: true, workerData: stop },
  ));
  await Promise.all(spinners.map((w) => new Promise((resolve) => w.once('online', resolve))));
  const a = threadTimes();
  t.type(a, 'object');
  // This thread's own 200 ms of CPU (the process's figure counts the spinners'), however long the sharing takes.
  let b = a!;
  for (let x = 0; b.cpuMs - a!.cpuMs < 200; b = threadTimes()!) for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + 1);
  Atomics.store(stop, 0, 1);
  await Promise.all(spinners.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  // With cores + 1 runnable threads each waits about 1/(cores + 1) of the time: some 100 ms while it runs 200 on 2 cores.
  t.ok(b.waitMs - a!.waitMs > 20, `waited ${(b.waitMs - a!.waitMs).toFixed(0)} ms for a core while running ${(b.cpuMs - a!.cpuMs).toFixed(0)} ms`);
});
