/**
 * The decoded view of one packet: a single reusable object filled in place by
 * the decoder (no allocation per packet). Addresses are four 32-bit words;
 * IPv4 uses the first word and zeros in the others.
 */

/** Why a frame was not turned into a flow update. Stable names: they become counters. */
export const SKIP = {
  ok: 0,
  'unknown-link-type': 1,
  truncated: 2,
  'not-ip': 3,
  'bad-ip-header': 4,
  'bad-l4-header': 5,
  'fragment-without-first': 6,
  'tunnel-too-deep': 7,
  'no-timestamp': 8,
} as const;
export type SkipReason = keyof typeof SKIP;
export const SKIP_NAMES: readonly SkipReason[] = Object.keys(SKIP) as SkipReason[];

export const FRAG_NONE = 0;
/** First fragment: carries the transport header (ports). */
export const FRAG_FIRST = 1;
/** A later fragment: no transport header; its ports come from the first fragment. */
export const FRAG_LATER = 2;

export class Packet {
  ipVersion = 0;
  s0 = 0; s1 = 0; s2 = 0; s3 = 0;
  d0 = 0; d1 = 0; d2 = 0; d3 = 0;
  /** IANA protocol number of the transport (after tunnels and extension headers). */
  proto = 0;
  sport = 0;
  dport = 0;
  /** Outer and inner 802.1Q tags (12-bit ids), 0 when absent. */
  vlan = 0;
  vlanInner = 0;
  /** Bytes of the IP packet as the IP header states them (header + payload), not the captured length. */
  ipBytes = 0;
  /** Transport payload length as the headers state it (TCP/UDP data, ICMP body). */
  payloadLen = 0;
  /** Offset and captured length of the transport payload in `buf` (capPayload <= payloadLen when snapped). */
  payloadOff = 0;
  capPayload = 0;
  tcpFlags = 0;
  tcpWindow = 0;
  tcpSeq = 0;
  frag = FRAG_NONE;
  fragId = 0;
  /** Number of tunnel layers removed (IP-in-IP, GTP-U). */
  tunnels = 0;
  buf: Buffer = Buffer.alloc(0);
}
