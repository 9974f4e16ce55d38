/**
 * Network and transport layers: IPv4 (with fragments), IPv6 (walking the
 * extension headers), TCP, UDP, ICMP/ICMPv6, SCTP ports, and tunnels that
 * carry whole IP packets (IP-in-IP, 6in4, GTP-U). Hot path: byte indexing,
 * no allocation, no exceptions.
 */
import { FRAG_FIRST, FRAG_LATER, FRAG_NONE, SKIP, type Packet } from './packet.js';

export interface DecodeOptions {
  /** Decapsulate GTP-U (UDP port 2152) and classify the subscriber's inner flow. */
  gtp: boolean;
}

const MAX_TUNNELS = 4;
const GTPU_PORT = 2152;

function u16(b: Buffer, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Buffer, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function decodeIp(buf: Buffer, off: number, end: number, p: Packet, opts: DecodeOptions): number {
  for (;;) {
    if (off >= end) return SKIP.truncated;
    const v = buf[off]! >> 4;
    const r = v === 4 ? ipv4(buf, off, end, p, opts) : v === 6 ? ipv6(buf, off, end, p, opts) : SKIP['bad-ip-header'];
    if (r >= 0) return r;
    // A negative result is the offset of an inner IP packet (a tunnel) to decode in place of this one.
    if (++p.tunnels > MAX_TUNNELS) return SKIP['tunnel-too-deep'];
    off = -r;
  }
}

function ipv4(buf: Buffer, off: number, end: number, p: Packet, opts: DecodeOptions): number {
  if (end - off < 20) return SKIP.truncated;
  const ihl = (buf[off]! & 15) * 4;
  if (ihl < 20) return SKIP['bad-ip-header'];
  if (end - off < ihl) return SKIP.truncated;
  let total = u16(buf, off + 2);
  // Captures taken above segmentation offload can show 0 here; the captured size is then the best we know.
  if (total === 0) total = end - off;
  if (total < ihl) return SKIP['bad-ip-header'];
  p.ipVersion = 4;
  p.s0 = u32(buf, off + 12);
  p.d0 = u32(buf, off + 16);
  p.s1 = p.s2 = p.s3 = p.d1 = p.d2 = p.d3 = 0;
  p.proto = buf[off + 9]!;
  p.ipBytes = total;
  const ff = u16(buf, off + 6);
  const fragOffset = ff & 0x1fff;
  p.fragId = u16(buf, off + 4);
  p.frag = fragOffset !== 0 ? FRAG_LATER : ff & 0x2000 ? FRAG_FIRST : FRAG_NONE;
  const l4 = off + ihl;
  const l4end = Math.min(end, off + total);
  return transport(buf, l4, total - ihl, l4end, p, opts);
}

function ipv6(buf: Buffer, off: number, end: number, p: Packet, opts: DecodeOptions): number {
  if (end - off < 40) return SKIP.truncated;
  p.ipVersion = 6;
  p.s0 = u32(buf, off + 8); p.s1 = u32(buf, off + 12); p.s2 = u32(buf, off + 16); p.s3 = u32(buf, off + 20);
  p.d0 = u32(buf, off + 24); p.d1 = u32(buf, off + 28); p.d2 = u32(buf, off + 32); p.d3 = u32(buf, off + 36);
  const plen = u16(buf, off + 4);
  // 0 means a jumbogram or a capture above segmentation offload: use what was captured.
  const total = plen === 0 ? end - off : 40 + plen;
  p.ipBytes = total;
  p.frag = FRAG_NONE;
  p.fragId = 0;
  const limit = Math.min(end, off + total);
  let nh = buf[off + 6]!;
  let cur = off + 40;
  for (let guard = 0; guard < 16; guard++) {
    if (nh === 0 || nh === 43 || nh === 60 || nh === 135 || nh === 139 || nh === 140) {
      if (limit - cur < 2) return SKIP.truncated;
      const next = buf[cur]!;
      cur += (buf[cur + 1]! + 1) * 8;
      nh = next;
    } else if (nh === 51) {
      if (limit - cur < 2) return SKIP.truncated;
      const next = buf[cur]!;
      cur += (buf[cur + 1]! + 2) * 4;
      nh = next;
    } else if (nh === 44) {
      if (limit - cur < 8) return SKIP.truncated;
      const next = buf[cur]!;
      const fo = u16(buf, cur + 2);
      p.fragId = u32(buf, cur + 4);
      p.frag = fo >> 3 !== 0 ? FRAG_LATER : fo & 1 ? FRAG_FIRST : FRAG_NONE;
      cur += 8;
      nh = next;
      if (p.frag === FRAG_LATER) break;
    } else {
      break;
    }
    if (cur > limit) return SKIP.truncated;
  }
  p.proto = nh;
  return transport(buf, cur, off + total - cur, limit, p, opts);
}

/**
 * Transport header at `l4` with `l4len` bytes as the IP header states, of
 * which bytes up to `capEnd` were captured. Returns a SKIP code, or the
 * negated offset of an inner IP packet when this one is a tunnel.
 */
function transport(buf: Buffer, l4: number, l4len: number, capEnd: number, p: Packet, opts: DecodeOptions): number {
  p.sport = 0;
  p.dport = 0;
  p.tcpFlags = 0;
  p.tcpWindow = 0;
  p.tcpSeq = 0;
  p.payloadOff = l4;
  p.payloadLen = l4len;
  p.capPayload = Math.max(0, capEnd - l4);
  if (p.frag === FRAG_LATER) return SKIP.ok;
  const proto = p.proto;
  if (proto === 6) {
    if (capEnd - l4 < 20) return SKIP.truncated;
    const doff = (buf[l4 + 12]! >> 4) * 4;
    if (doff < 20 || doff > l4len) return SKIP['bad-l4-header'];
    p.sport = u16(buf, l4);
    p.dport = u16(buf, l4 + 2);
    p.tcpSeq = u32(buf, l4 + 4);
    p.tcpFlags = buf[l4 + 13]!;
    p.tcpWindow = u16(buf, l4 + 14);
    setPayload(p, l4 + doff, l4len - doff, capEnd);
  } else if (proto === 17 || proto === 136 || proto === 132) {
    // UDP, UDP-Lite and SCTP put the ports in the same place.
    if (capEnd - l4 < 8) return SKIP.truncated;
    p.sport = u16(buf, l4);
    p.dport = u16(buf, l4 + 2);
    const hdr = proto === 132 ? 12 : 8;
    if (l4len < hdr) return SKIP['bad-l4-header'];
    setPayload(p, l4 + hdr, l4len - hdr, capEnd);
    if (proto === 17 && opts.gtp && (p.dport === GTPU_PORT || p.sport === GTPU_PORT) && p.frag === FRAG_NONE) {
      const inner = gtpu(buf, p.payloadOff, capEnd);
      if (inner > 0) return -inner;
    }
  } else if (proto === 1 || proto === 58) {
    if (l4len < 4) return SKIP['bad-l4-header'];
    setPayload(p, l4 + Math.min(8, l4len), l4len - Math.min(8, l4len), capEnd);
  } else if ((proto === 4 || proto === 41) && p.frag === FRAG_NONE) {
    // IP-in-IP and 6in4: the flow is the inner one.
    if (capEnd - l4 >= 20) return -l4;
  }
  return SKIP.ok;
}

function setPayload(p: Packet, off: number, len: number, capEnd: number): void {
  p.payloadOff = off;
  p.payloadLen = len;
  p.capPayload = Math.max(0, Math.min(capEnd, off + len) - off);
}

/**
 * GTP-U G-PDU (3GPP TS 29.281): returns the offset of the inner IP packet, or 0
 * when this is not a G-PDU carrying IP (then it stays an ordinary UDP flow).
 */
function gtpu(buf: Buffer, off: number, end: number): number {
  if (end - off < 8) return 0;
  const flags = buf[off]!;
  if (flags >> 5 !== 1 || (flags & 0x10) === 0 || buf[off + 1] !== 0xff) return 0;
  let cur = off + 8;
  if (flags & 0x07) {
    if (end - cur < 4) return 0;
    let next = buf[cur + 3]!;
    cur += 4;
    // Extension headers: a length in 4-byte units, content, then the next type in the last byte.
    for (let guard = 0; next !== 0 && guard < 8; guard++) {
      if (end - cur < 4) return 0;
      const len = buf[cur]! * 4;
      if (len === 0 || end - cur < len) return 0;
      next = buf[cur + len - 1]!;
      cur += len;
    }
  }
  if (cur >= end) return 0;
  const v = buf[cur]! >> 4;
  return v === 4 || v === 6 ? cur : 0;
}
