/**
 * The kernel side of a live capture that `cap` does not expose: the AF_PACKET
 * socket libpcap opened, its drop counter, and leaving promiscuous mode.
 * Linux only; elsewhere (or if the small native helper is not built) the
 * functions report `undefined` and the capture still works.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Native {
  stats(fd: number): [number, number];
  leavePromiscuous(fd: number, ifindex: number): void;
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

/** Socket inodes of this process, by file descriptor. */
export function socketFds(): Map<number, number> {
  const out = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return out;
  }
  for (const e of entries) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${e}`));
      if (m) out.set(Number(e), Number(m[1]));
    } catch {
      /* fd closed meanwhile */
    }
  }
  return out;
}

/** Inode → interface index of every packet socket (/proc/self/net/packet: /proc/net is hidden under systemd's ProcSubset=pid). */
function packetSocketInodes(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const line of readFileSync('/proc/self/net/packet', 'utf8').trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      out.set(Number(f[8]), Number(f[4]));
    }
  } catch {
    /* not Linux */
  }
  return out;
}

export function interfaceIndex(name: string): number | undefined {
  try {
    return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Drops counted by the interface itself (driver/NIC), from sysfs. */
export function interfaceDrops(name: string): number | undefined {
  try {
    return Number(readFileSync(`/sys/class/net/${name}/statistics/rx_dropped`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The packet socket opened between two `socketFds()` snapshots, bound to `ifindex`. */
export function findNewPacketSocket(before: Map<number, number>, ifindex: number | undefined): number | undefined {
  const packet = packetSocketInodes();
  for (const [fd, inode] of socketFds()) {
    if (before.get(fd) === inode) continue;
    const idx = packet.get(inode);
    if (idx !== undefined && (ifindex === undefined || idx === ifindex || idx === 0)) return fd;
  }
  return undefined;
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

/** Turn promiscuous mode off for this socket; false when it cannot be done here. */
export function leavePromiscuous(fd: number, ifindex: number): boolean {
  const n = load();
  if (!n) return false;
  try {
    n.leavePromiscuous(fd, ifindex);
    return true;
  } catch {
    return false;
  }
}
