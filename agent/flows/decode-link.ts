/**
 * Link layer: from a frame of a given LINKTYPE to the offset of its IP header.
 * Hand-written because it runs for every packet: reads are direct byte
 * indexing into the capture buffer, no allocation, no exceptions.
 */
import { LINK } from '../capture/link-types.js';
import { SKIP, type Packet } from './packet.js';

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MC = 0x8848;
const ETH_PPPOE_SESSION = 0x8864;

/** Result of link decoding: the IP header offset, or a negative SKIP code. */
export type LinkResult = number;

/** IP version from the first nibble: maps to a pseudo ethertype, or 0. */
function byVersion(buf: Buffer, off: number, end: number): number {
  if (off >= end) return 0;
  const v = buf[off]! >> 4;
  return v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : 0;
}

/**
 * Follows an ethertype through VLAN tags, MPLS labels and PPPoE until it
 * reaches IPv4/IPv6. Returns the IP offset and sets `etherOut[0]` to the IP
 * ethertype, or a negative skip code.
 */
export function followEthertype(type: number, buf: Buffer, off: number, end: number, p: Packet, etherOut: Int32Array): LinkResult {
  for (let guard = 0; guard < 16; guard++) {
    if (type === ETH_IPV4 || type === ETH_IPV6) {
      etherOut[0] = type;
      return off;
    }
    if (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) {
      if (end - off < 4) return -SKIP.truncated;
      const id = ((buf[off]! << 8) | buf[off + 1]!) & 0xfff;
      if (p.vlan === 0) p.vlan = id;
      else if (p.vlanInner === 0) p.vlanInner = id;
      type = (buf[off + 2]! << 8) | buf[off + 3]!;
      off += 4;
    } else if (type === ETH_MPLS || type === ETH_MPLS_MC) {
      // Pop labels until the bottom-of-stack bit, then guess the payload from its first nibble.
      for (;;) {
        if (end - off < 4) return -SKIP.truncated;
        const bottom = buf[off + 2]! & 1;
        off += 4;
        if (bottom) break;
      }
      type = byVersion(buf, off, end);
      if (type === 0 && off < end && buf[off]! >> 4 === 0) {
        // Pseudowire control word, then an Ethernet frame.
        off += 4;
        if (end - off < 14) return -SKIP.truncated;
        type = (buf[off + 12]! << 8) | buf[off + 13]!;
        off += 14;
      }
    } else if (type === ETH_PPPOE_SESSION) {
      if (end - off < 8) return -SKIP.truncated;
      const proto = (buf[off + 6]! << 8) | buf[off + 7]!;
      off += 8;
      type = proto === 0x0021 ? ETH_IPV4 : proto === 0x0057 ? ETH_IPV6 : 0;
      if (type === 0) return -SKIP['not-ip'];
    } else {
      return -SKIP['not-ip'];
    }
  }
  return -SKIP['not-ip'];
}

/** PPP protocol field (optionally after HDLC address/control, optionally compressed to one byte). */
function ppp(buf: Buffer, off: number, end: number, p: Packet, etherOut: Int32Array): LinkResult {
  // Routers label Cisco HDLC links as PPP too (tcpdump tells them apart the same way: address 0x0f/0x8f).
  if (end - off >= 4 && (buf[off] === 0x0f || buf[off] === 0x8f) && buf[off + 1] === 0x00) {
    return followEthertype((buf[off + 2]! << 8) | buf[off + 3]!, buf, off + 4, end, p, etherOut);
  }
  if (end - off >= 2 && buf[off] === 0xff && buf[off + 1] === 0x03) off += 2;
  if (end - off < 1) return -SKIP.truncated;
  let proto: number;
  if (buf[off]! & 1) {
    proto = buf[off]!;
    off += 1;
  } else {
    if (end - off < 2) return -SKIP.truncated;
    proto = (buf[off]! << 8) | buf[off + 1]!;
    off += 2;
  }
  if (proto === 0x21) return followEthertype(ETH_IPV4, buf, off, end, p, etherOut);
  if (proto === 0x57) return followEthertype(ETH_IPV6, buf, off, end, p, etherOut);
  return -SKIP['not-ip'];
}

/** BSD loopback address families for IPv6 differ by OS (24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin). */
function family(af: number, buf: Buffer, off: number, end: number, p: Packet, etherOut: Int32Array): LinkResult {
  if (af === 2) return followEthertype(ETH_IPV4, buf, off, end, p, etherOut);
  if (af === 24 || af === 28 || af === 30 || af === 10) return followEthertype(ETH_IPV6, buf, off, end, p, etherOut);
  return -SKIP['not-ip'];
}

export function decodeLink(linkType: number, buf: Buffer, off: number, end: number, p: Packet, etherOut: Int32Array, depth = 0): LinkResult {
  switch (linkType) {
    case LINK.ETHERNET:
      if (end - off < 14) return -SKIP.truncated;
      return followEthertype((buf[off + 12]! << 8) | buf[off + 13]!, buf, off + 14, end, p, etherOut);
    case LINK.RAW:
    case LINK.RAW_12:
    case LINK.RAW_14:
    case LINK.IPV4:
    case LINK.IPV6: {
      const t = byVersion(buf, off, end);
      return t === 0 ? (off >= end ? -SKIP.truncated : -SKIP['not-ip']) : followEthertype(t, buf, off, end, p, etherOut);
    }
    case LINK.LINUX_SLL:
      if (end - off < 16) return -SKIP.truncated;
      return followEthertype((buf[off + 14]! << 8) | buf[off + 15]!, buf, off + 16, end, p, etherOut);
    case LINK.LINUX_SLL2:
      if (end - off < 20) return -SKIP.truncated;
      return followEthertype((buf[off]! << 8) | buf[off + 1]!, buf, off + 20, end, p, etherOut);
    case LINK.NULL: {
      if (end - off < 4) return -SKIP.truncated;
      // Host byte order of the capturing machine: a family fits in 16 bits, so the order shows.
      let af = buf.readUInt32LE(off);
      if (af > 0xffff) af = buf.readUInt32BE(off);
      return family(af, buf, off + 4, end, p, etherOut);
    }
    case LINK.LOOP:
      if (end - off < 4) return -SKIP.truncated;
      return family(buf.readUInt32BE(off), buf, off + 4, end, p, etherOut);
    case LINK.PPP:
    case LINK.PPP_HDLC:
      return ppp(buf, off, end, p, etherOut);
    case LINK.PPP_ETHER:
      if (end - off < 6) return -SKIP.truncated;
      return ppp(buf, off + 6, end, p, etherOut);
    case LINK.C_HDLC:
      if (end - off < 4) return -SKIP.truncated;
      return followEthertype((buf[off + 2]! << 8) | buf[off + 3]!, buf, off + 4, end, p, etherOut);
    case LINK.PPI: {
      // Per-packet information header (little-endian): its length, then the frame in the inner link type.
      if (end - off < 8 || depth > 0) return -SKIP.truncated;
      const len = buf.readUInt16LE(off + 2);
      const inner = buf.readUInt32LE(off + 4);
      if (len < 8 || off + len > end) return -SKIP.truncated;
      return decodeLink(inner, buf, off + len, end, p, etherOut, depth + 1);
    }
    default:
      return -SKIP['unknown-link-type'];
  }
}
