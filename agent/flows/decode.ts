/**
 * Frame → Packet: link layer, then IP and transport. Returns a SKIP code
 * (0 when the packet can update a flow). Never throws on any byte sequence.
 */
import { decodeLink } from './decode-link.js';
import { decodeIp, type DecodeOptions } from './decode-ip.js';
import { SKIP, type Packet } from './packet.js';

export type { DecodeOptions };

const ether = new Int32Array(1);

export function decodeFrame(linkType: number, buf: Buffer, off: number, capLength: number, p: Packet, opts: DecodeOptions): number {
  const end = off + capLength;
  p.buf = buf;
  p.vlan = 0;
  p.vlanInner = 0;
  p.tunnels = 0;
  const ip = decodeLink(linkType, buf, off, end, p, ether);
  if (ip < 0) return -ip;
  if (ip >= end) return SKIP.truncated;
  return decodeIp(buf, ip, end, p, opts);
}
