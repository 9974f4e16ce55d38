/**
 * The calling thread's time on a CPU and waiting for one, in milliseconds, from Linux's
 * /proc/thread-self/schedstat (its first two fields: nanoseconds running, and nanoseconds
 * runnable but queued behind other threads). Node 20 has no per-thread figure: process.cpuUsage()
 * counts every thread of the process, so it cannot tell the inference workers' share from the
 * flow meter's; and only the wait tells a thread held back by too few cores from one with too much
 * to do. Undefined where the file cannot be read (not Linux, or /proc hidden).
 */
import { closeSync, openSync, readSync } from 'node:fs';

const scratch = Buffer.alloc(64);

export interface ThreadTimes {
  /** On a CPU. */
  readonly cpuMs: number;
  /** Runnable, waiting for a CPU (the run queue); NaN where the kernel gives the first field only. */
  readonly waitMs: number;
}

/** Opened on each call: a descriptor kept per thread would leak with every worker thread that ends (piscina's, a reload's). */
export function threadTimes(): ThreadTimes | undefined {
  let fd: number | undefined;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
    const n = readSync(fd, scratch, 0, scratch.length, 0);
    const [run, wait] = scratch.toString('latin1', 0, n).split(' ').map((x) => Number.parseInt(x, 10));
    return Number.isFinite(run) ? { cpuMs: run! / 1e6, waitMs: Number.isFinite(wait) ? wait! / 1e6 : NaN } : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function threadCpuMs(): number | undefined {
  return threadTimes()?.cpuMs;
}
