/**
 * The kernel's drop counters of a live capture: the AF_PACKET socket's
 * (packets its ring had no room for) and the interface's own (sysfs).
 * Linux only; elsewhere (or if the small native helper is not built) the
 * functions report `undefined` and the capture still works.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Native {
  stats(fd: number): [number, number];
}

let native: Native | null | undefined;

function load(): Native | null {
  if (native !== undefined) return native;
  try {
    const require = createRequire(import.meta.url);
    native = require('../../../build/Release/packet_socket.node') as Native;
  } catch {
    native = null;
  }
  return native;
}

/** Drops counted by the interface itself (driver/NIC), from sysfs. */
export function interfaceDrops(name: string): number | undefined {
  try {
    return Number(readFileSync(`/sys/class/net/${name}/statistics/rx_dropped`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Packets seen and dropped by the kernel since the last call; undefined when not available. */
export function readSocketStats(fd: number): { packets: number; drops: number } | undefined {
  const n = load();
  if (!n) return undefined;
  try {
    const [packets, drops] = n.stats(fd);
    return { packets, drops };
  } catch {
    return undefined;
  }
}
