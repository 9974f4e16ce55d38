/**
 * Every HandshakeMeta that JavaScript's readers find is made here (a hello C read in place is a
 * HeldMeta, held-meta.ts: the second and only other shape): the same fields in the same order,
 * frozen the same way, so the code that reads them at the end of each flow (record building,
 * packing for the writer thread) sees one object shape per kind. With shapes varying (spread copies, an
 * optional quicVersion) V8 threw that code's optimized version away every time a new
 * shape came by and compiled it again: more compiler time than the reading itself.
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
