/**
 * Connects the handshake inspector to the flow table: one inspector per new
 * TCP/UDP flow, fed the flow's first packets until it says it is done, then
 * dropped; the metadata found is kept until the flow ends.
 *
 * Per packet, a flow that is not being inspected costs one byte read (the
 * `inspecting` column), so long flows pay nothing after their first packets.
 */
import type { FlowMeta } from '../features/record.js';
import type { MetaProvider } from '../flows/meter.js';
import type { Packet } from '../flows/packet.js';
import type { MetaLimits } from './config.js';
import { createInspector } from './index.js';
import type { HandshakeInspector } from './types.js';

export class MetaPlugin implements MetaProvider {
  private readonly inspecting: Uint8Array;
  private readonly inspectors = new Map<number, HandshakeInspector>();
  private readonly found = new Map<number, FlowMeta>();

  constructor(
    capacity: number,
    private readonly limits: MetaLimits,
    private readonly onError: (reason: string) => void,
  ) {
    this.inspecting = new Uint8Array(capacity);
  }

  onPacket(slot: number, dir: number, p: Packet, isNew: boolean): void {
    if (isNew) {
      if (!this.limits.enabled || (p.proto !== 6 && p.proto !== 17)) return;
      this.inspectors.set(slot, createInspector(this.limits, this.onError));
      this.inspecting[slot] = 1;
    } else if (this.inspecting[slot] === 0) {
      return;
    }
    const insp = this.inspectors.get(slot);
    if (insp === undefined) return;
    const payload = p.buf.subarray(p.payloadOff, p.payloadOff + p.capPayload);
    if (insp.onPacket(dir as 0 | 1, p.proto, payload, p.tcpSeq, p.tcpFlags)) {
      this.keep(slot, insp);
      this.inspectors.delete(slot);
      this.inspecting[slot] = 0;
    }
  }

  private keep(slot: number, insp: HandshakeInspector): void {
    const r = insp.result();
    // Only flows where something was found keep an entry: most flows carry no handshake.
    if (r.sni !== null || r.ja4 !== null || r.tlsVersion !== null || r.alpn.length > 0) this.found.set(slot, r);
  }

  metaOf(slot: number): FlowMeta | null {
    const insp = this.inspectors.get(slot);
    if (insp !== undefined) {
      const r = insp.result();
      return r.sni !== null || r.ja4 !== null || r.tlsVersion !== null || r.alpn.length > 0 ? r : null;
    }
    return this.found.get(slot) ?? null;
  }

  onFree(slot: number): void {
    if (this.inspecting[slot] !== 0) {
      this.inspectors.delete(slot);
      this.inspecting[slot] = 0;
    }
    this.found.delete(slot);
  }

  /** Flows currently being inspected, and flows holding metadata (for stats and memory checks). */
  sizes(): { inspecting: number; withMeta: number } {
    return { inspecting: this.inspectors.size, withMeta: this.found.size };
  }
}
