/**
 * Handshake metadata: SNI, offered ALPN, TLS version and JA4 per flow, from the one
 * handshake message that encrypted protocols still show: the TLS ClientHello in the
 * clear over TCP, the QUIC Initial under keys anyone can derive from the client's
 * Destination Connection ID (RFC 9001 5.2), the DTLS ClientHello, and Google QUIC's CHLO
 * (null-encrypted in Q024-Q046, in a protected Initial in Q050).
 *
 *   flow table ──onPacket(dir, proto, payload, seq, flags)──▶ Inspector
 *                                                               ├─ TCP: TlsTcpReader  (reassembles the client stream)
 *                                                               ├─ UDP: QuicReader    (opens Initials, reassembles CRYPTO;
 *                                                               │                      also Google's Q050 and T050/T051)
 *                                                               ├─ UDP: GquicReader   (Q024-Q046: verifies the null-encryption
 *                                                               │                      hash, reassembles stream 1 to the CHLO)
 *                                                               └─ UDP: DtlsReader    (reassembles hello fragments)
 *                          ◀──────── true = done, free me ──────┘ result() ─▶ HandshakeMeta
 *
 * What is inspected and why it stays cheap:
 *   - Only the first packets of a flow: at most `max_packets` packets with payload (both
 *     directions), plus a hard stop at 4x that for pure TCP control packets. After that,
 *     or as soon as both hellos are read, onPacket returns true and the flow table drops
 *     the inspector: a long flow pays for a handful of packets, not its lifetime.
 *   - A packet that cannot be a hello is rejected on its first bytes, before any
 *     allocation: UDP needs a known QUIC long-header version, a gQUIC header with a
 *     version we read (looksLikeGquic) or a DTLS handshake record;
 *     TCP data needs to open a TLS handshake record (or continue one being reassembled).
 *   - Reassembly is bounded by `max_buffer` bytes per flow (plus one gather copy when a
 *     ClientHello spans TLS records), grows as data arrives, and is freed as soon as the
 *     hello is parsed or the flow gives up. A finished inspector keeps only the metadata.
 *   - Malformed, truncated or oversized hellos are reported once per flow to `onError`
 *     with a stable reason (see MetaReason) and skipped; the data path never throws.
 *     Exceptions are not used for control flow; the only try/catch on the way is node's
 *     AES-GCM tag check, which fails only for an Initial that does not decrypt.
 *
 * JA4 follows FoxIO's JA4 specification (the BSD-3 JA4 part only; no other JA4+ method).
 */
import type { MetaLimits } from './config.js';
import { DISABLED, Inspector } from './inspector.js';
import type { HandshakeInspector, MetaErrorSink } from './types.js';

export type { HandshakeInspector, HandshakeMeta, HandshakeTransport, MetaErrorSink, MetaReason } from './types.js';
export { metaSection, type MetaLimits } from './config.js';
export { EMPTY_META } from './inspector.js';
export { looksLikeGquic } from './gquic-packet.js';

/**
 * A fresh inspector for one flow. When `limits.enabled` is false the shared disabled
 * inspector is returned: it wants no packet (onPacket returns true) and finds nothing.
 * `onError` receives each MetaReason at most once per flow; it must not throw (if it does,
 * the exception is swallowed).
 */
export function createInspector(limits: MetaLimits, onError: MetaErrorSink): HandshakeInspector {
  return limits.enabled ? new Inspector(limits, onError) : DISABLED;
}
