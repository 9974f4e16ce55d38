/**
 * The bidirectional flow key: (addresses, ports, protocol, VLAN tags). The
 * hash is symmetric, so both directions of a conversation land on the same
 * bucket without sorting endpoints; the comparison then tells the direction.
 */
import type { Columns } from './store.js';
import type { Packet } from './packet.js';

function mix(h: number): number {
  // murmur3 finalizer: spreads low-entropy inputs (sequential ports, one subnet) over all bits.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function endpoint(a0: number, a1: number, a2: number, a3: number, port: number): number {
  // One multiply-xorshift round per word and a full mix at the end: enough spread, half the cost of mixing each word.
  let h = Math.imul(a0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ a1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ a2, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ a3, 0xc2b2ae35);
  return mix(h ^ port);
}

export function flowHash(p: Packet): number {
  // Addition commutes: hash(src, dst) === hash(dst, src).
  const e = (endpoint(p.s0, p.s1, p.s2, p.s3, p.sport) + endpoint(p.d0, p.d1, p.d2, p.d3, p.dport)) >>> 0;
  return mix(e ^ Math.imul(p.proto + 1, 0x27d4eb2d) ^ ((p.vlan << 12) | p.vlanInner));
}

/** 0 if `p` goes src → dst of the flow in slot `s`, 1 if dst → src, -1 if it is another flow. */
export function direction(c: Columns, s: number, p: Packet): number {
  if (c.proto[s] !== p.proto || c.vlan[s] !== (((p.vlan << 12) | p.vlanInner) >>> 0)) return -1;
  const k = s * 4;
  const si = c.srcIp;
  const di = c.dstIp;
  const ports = c.ports[s]!;
  if (si[k] === p.s0 && di[k] === p.d0 && si[k + 1] === p.s1 && si[k + 2] === p.s2 && si[k + 3] === p.s3 &&
      di[k + 1] === p.d1 && di[k + 2] === p.d2 && di[k + 3] === p.d3 && ports === (((p.sport << 16) | p.dport) >>> 0)) return 0;
  if (si[k] === p.d0 && di[k] === p.s0 && si[k + 1] === p.d1 && si[k + 2] === p.d2 && si[k + 3] === p.d3 &&
      di[k + 1] === p.s1 && di[k + 2] === p.s2 && di[k + 3] === p.s3 && ports === (((p.dport << 16) | p.sport) >>> 0)) return 1;
  return -1;
}

export function storeKey(c: Columns, s: number, p: Packet, hash: number): void {
  const k = s * 4;
  c.srcIp[k] = p.s0; c.srcIp[k + 1] = p.s1; c.srcIp[k + 2] = p.s2; c.srcIp[k + 3] = p.s3;
  c.dstIp[k] = p.d0; c.dstIp[k + 1] = p.d1; c.dstIp[k + 2] = p.d2; c.dstIp[k + 3] = p.d3;
  c.ports[s] = ((p.sport << 16) | p.dport) >>> 0;
  c.proto[s] = p.proto;
  c.ipVersion[s] = p.ipVersion;
  c.vlan[s] = ((p.vlan << 12) | p.vlanInner) >>> 0;
  c.hash[s] = hash;
}
