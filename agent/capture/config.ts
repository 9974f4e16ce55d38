/** The `capture` section: live packet capture for `eta-sensor run`. */
import { bool, int, list, num, section, size, str } from '../lib/schema.js';

export const captureSection = section('Live capture (libpcap), used by `eta-sensor run`. An interface that is down at start, or goes down or away mid-capture, is reopened every 5 s; the others go on.', {
  interfaces: list(str({ default: '', doc: 'interface name', nonEmpty: true }), {
    default: ['eth0'], minItems: 1, unique: true,
    // Unique: an interface listed twice got two handles, and every packet counted twice in its flow.
    doc: 'Interfaces to capture on, each once; each gets its own libpcap handle and all feed one flow table.',
  }),
  filter: str({
    default: '',
    doc: 'BPF filter (tcpdump syntax) applied in the kernel. Empty (the default) captures everything; frames that are not IP '
      + '(ARP, LLDP...) are counted as skipped. Mind that the vlan, mpls and pppoes keywords shift the offsets of everything '
      + 'after them in the expression; "not port 22" style filters are safe. The sensor\'s own connection to the MQTT broker '
      + 'is traffic too: where it crosses a captured interface it becomes flow records of its own, so leave it out, e.g. '
      + '"not (host collector.example and port 8883)".',
  }),
  snaplen: int({
    default: 2048, min: 64, max: 262144,
    doc: 'Bytes kept of each packet. Headers and the TLS/QUIC hello fit in 2048; more costs copying.',
  }),
  promiscuous: bool({
    default: true,
    doc: 'Capture traffic not addressed to this host (needed on a mirror/SPAN port).',
  }),
  buffer_size: size({
    // At most 2 GiB - 1: libpcap takes an int, and a larger value wrapped to another size (3GiB gave 3 MiB).
    default: 32 * 1024 * 1024, min: 1 << 20, max: 2 ** 31 - 1,
    doc: 'Kernel ring buffer per interface, bytes or "32MiB". Larger absorbs bursts; drops are counted in stats.',
  }),
  clock_interval: num({
    default: 1, min: 0.05, max: 60,
    doc: 'Seconds between clock ticks that expire idle flows when no packets arrive.',
  }),
});
