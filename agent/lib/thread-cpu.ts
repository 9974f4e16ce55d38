/**
 * The CPU time of the calling thread, in milliseconds, from Linux's /proc/thread-self/schedstat
 * (its first field: nanoseconds on a CPU). Node 20 has no per-thread figure: process.cpuUsage()
 * counts every thread of the process, so it cannot tell the inference workers' share from the
 * flow meter's. Undefined where the file cannot be read (not Linux, or /proc hidden).
 */
import { closeSync, openSync, readSync } from 'node:fs';

const scratch = Buffer.alloc(64);

/** Opened on each call: a descriptor kept per thread would leak with every worker thread that ends (piscina's, a reload's). */
export function threadCpuMs(): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
    const n = readSync(fd, scratch, 0, scratch.length, 0);
    const ns = Number.parseInt(scratch.toString('latin1', 0, n), 10);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
