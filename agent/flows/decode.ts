/**
 * Frame → Packet, one frame at a time: link layer, then IP and transport, by
 * the same C decoder the flow table runs (native/decode.c). For tests and
 * tools; the meter decodes inside the table without this copy. Returns a SKIP
 * code (0 when the packet can update a flow). Never throws on any byte sequence.
 */
import { fillPacket, flowCore, packetView } from './native-core.js';
import type { Packet } from './packet.js';

export interface DecodeOptions {
  /** Decapsulate GTP-U (UDP port 2152) and classify the subscriber's inner flow. */
  gtp: boolean;
}

let view: Float64Array | undefined;

export function decodeFrame(linkType: number, buf: Buffer, off: number, capLength: number, p: Packet, opts: DecodeOptions): number {
  view ??= packetView();
  const r = flowCore().decode(buf, linkType, off, capLength, opts.gtp, view);
  fillPacket(p, view, buf);
  return r;
}
