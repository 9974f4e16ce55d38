/**
 * IP fragments after the first carry no transport header. The first fragment
 * tells the ports; this remembers them per (addresses, protocol, IP id) for a
 * short time so later fragments join the same flow instead of being dropped.
 * Bounded: at most MAX entries, each forgotten after TTL (fragments of one
 * datagram arrive within milliseconds; 30 s is the classic reassembly limit).
 */
import type { Packet } from './packet.js';

const MAX = 65536;
const TTL = 30e6;

function key(p: Packet): string {
  return `${p.s0},${p.s1},${p.s2},${p.s3}>${p.d0},${p.d1},${p.d2},${p.d3}/${p.proto}#${p.fragId}`;
}

export class FragmentPorts {
  // Map keeps insertion order: the oldest entries are first, so expiry and the bound are O(1) amortized.
  private readonly ports = new Map<string, { ports: number; at: number }>();

  remember(p: Packet, now: number): void {
    this.expire(now);
    if (this.ports.size >= MAX) {
      const oldest = this.ports.keys().next().value;
      if (oldest !== undefined) this.ports.delete(oldest);
    }
    const k = key(p);
    this.ports.delete(k);
    this.ports.set(k, { ports: ((p.sport << 16) | p.dport) >>> 0, at: now });
  }

  /** Fill in the ports of a later fragment; false when its first fragment was not seen. */
  fill(p: Packet, now: number): boolean {
    this.expire(now);
    const e = this.ports.get(key(p));
    if (e === undefined) return false;
    p.sport = e.ports >>> 16;
    p.dport = e.ports & 0xffff;
    return true;
  }

  private expire(now: number): void {
    for (const [k, e] of this.ports) {
      if (e.at + TTL > now) break;
      this.ports.delete(k);
    }
  }
}
