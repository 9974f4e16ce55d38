/**
 * Every HandshakeMeta that JavaScript's readers find is made here: the same fields in the same
 * order, frozen the same way, so the code that reads an inspector's result sees one object shape.
 * With shapes varying (spread copies, an optional quicVersion) V8 threw that code's optimized
 * version away every time a new shape came by and compiled it again: more compiler time than the
 * reading itself. For the same reason flow records carry none of these: the flow plugin hands
 * every flow's metadata on as a HeldMeta (held-meta.ts), whether C or an inspector read the hello.
 */
import type { HandshakeMeta, HandshakeTransport } from './types.js';

export function handshakeMeta(
  sni: string | null,
  alpn: readonly string[],
  tlsVersion: string | null,
  ja4: string | null,
  transport: HandshakeTransport | null,
  quicVersion: string | undefined,
): HandshakeMeta {
  return Object.freeze({ sni, alpn, tlsVersion, ja4, transport, quicVersion });
}
