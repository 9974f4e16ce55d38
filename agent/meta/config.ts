/**
 * Configuration of the handshake-metadata inspector (section `meta`).
 */
import { bool, int, section, size, type Infer } from '../lib/schema.js';

export const metaSection = section(
  'Handshake metadata: SNI, offered ALPN, TLS version and the JA4 fingerprint, read from the ' +
    'first packets of each flow (TLS ClientHello over TCP, QUIC Initial, DTLS ClientHello). ' +
    'Published with the flow record; never a model input.',
  {
    enabled: bool({
      default: true,
      doc:
        'Inspect the first packets of each flow for a TLS, QUIC or DTLS hello. When false, the ' +
        'metadata fields of every flow are null and no packet is inspected.',
    }),
    max_packets: int({
      default: 12,
      min: 1,
      max: 64,
      doc:
        'Packets carrying payload (both directions counted) that a flow may spend on finding its ' +
        'hellos; after that the flow stops paying for inspection, keeping what was found. A TCP ' +
        'ClientHello split over 3 segments plus the ServerHello needs 4; Chrome\'s QUIC hello ' +
        'in 2 Initials plus the server\'s Initial needs 3. Pure TCP control packets (SYN, ACK) ' +
        'count only towards a hard stop at 4 times this value.',
    }),
    max_buffer: size({
      default: 16384,
      min: 512,
      // A hello's length field is 24 bits (16 MiB): a larger buffer would never fill.
      max: 16 * 1024 * 1024,
      doc:
        'Largest ClientHello, in bytes, reassembled per flow (TCP segments, DTLS fragments or QUIC ' +
        'CRYPTO frames). A post-quantum key share makes a ClientHello about 1.8 KB; 16 KiB is the ' +
        'largest a single TLS record can carry. A larger hello is counted as reassembly-overflow ' +
        'and skipped. Memory is taken as data arrives and freed as soon as the hello is parsed.',
    }),
    max_reassembling: int({
      default: 4096,
      min: 1,
      max: 1_000_000,
      doc:
        'Flows reassembling a hello at once, at most, in C and as many in the reader: each holds up ' +
        'to max_buffer bytes, so this bounds the memory hellos take (64 MiB each by default) whatever ' +
        'the traffic (a flood of hellos that never complete). Beyond it a flow\'s hello is not read, ' +
        'counted as reassembly-overflow.',
    }),
  },
);

export type MetaLimits = Infer<typeof metaSection>;
