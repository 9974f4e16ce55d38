/** The `flows` section: how packets become flows and when flows end. */
import { bool, int, num, section } from '../lib/schema.js';

export const flowsSection = section('Flow assembly: when a flow ends and how many may be alive at once.', {
  idle_timeout: num({
    default: 120, min: 0, exclusiveMin: true,
    doc: 'Seconds without a packet (either direction) after which a flow ends with reason "idle".',
  }),
  active_timeout: num({
    default: 1800, min: 0, exclusiveMin: true,
    doc: 'Seconds after its first packet at which a long flow ends with reason "active"; its next packet starts a new flow.',
  }),
  max_flows: int({
    default: 1_000_000, min: 1, max: 50_000_000,
    doc: 'Maximum concurrent flows. Memory is about 0.75 KiB per flow alive; when full, the least recently used flow ends with reason "evicted" (counted).',
  }),
  tcp_close_grace: num({
    default: 2, min: 0,
    doc: 'Seconds a TCP flow stays open after FIN in both directions or RST, so the final ACKs still count; it then ends with reason "end".',
  }),
  gtp: bool({
    default: true,
    doc: 'Decapsulate GTP-U (UDP port 2152): flows are the subscribers\' inner IP flows, not the tunnel.',
  }),
});
