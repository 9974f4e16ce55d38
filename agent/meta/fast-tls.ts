/**
 * The common case read in place: a whole TLS ClientHello in the first TCP
 * segment of a flow (and the ServerHello in the server's first segment that
 * opens a handshake record). The flow
 * core reads it in C itself (native/hello_watch.c read_in_place, the same
 * record checks, parser and JA4) and hands anything else (split hellos, QUIC,
 * DTLS, STARTTLS) to the full inspector. These functions are its JavaScript
 * twins, for diagnostics and as the reference the tests hold C to
 * (test/meta/hello-in-core.test.ts); their results are the inspector's.
 *
 * helloMetaInPlace parses and fingerprints in C (helloSummary); clientHelloInPlace
 * + tlsMeta do the same wholly in JavaScript.
 */
import { highestOffered, parseClientHello, parseServerHello, u24, versionName, type ClientHello } from './hello.js';
import { helloSummary } from './hello-native.js';
import { ja4 } from './ja4.js';
import { handshakeMeta } from './meta-object.js';
import type { HandshakeMeta } from './types.js';

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 1;
const SERVER_HELLO = 2;

/**
 * The ClientHello in buf[off, off + len) when one TLS record holds all of it:
 * the hello, null when it is malformed, undefined when it is not all here.
 */
export function clientHelloInPlace(b: Uint8Array, off: number, len: number): ClientHello | null | undefined {
  const end = helloEnd(b, off, len);
  return end < 0 ? undefined : parseClientHello(b, off + 9, end, false);
}

/**
 * The metadata of the ClientHello in buf[off, off + len), as tlsMeta(clientHelloInPlace(...), null)
 * makes it: null when it is malformed, undefined when it is not all here.
 */
export function helloMetaInPlace(b: Uint8Array, off: number, len: number): HandshakeMeta | null | undefined {
  const end = helloEnd(b, off, len);
  if (end < 0) return undefined;
  const h = helloSummary(b, off + 9, end, false, 't');
  return h === null ? null : handshakeMeta(h.sni, h.alpn, versionName(h.highest), h.ja4, 'tls', undefined);
}

/** Where the ClientHello body in one record at buf[off, off + len) ends, or -1 when there is none wholly here. */
function helloEnd(b: Uint8Array, off: number, len: number): number {
  if (len < 9 || b[off] !== HANDSHAKE || b[off + 5] !== CLIENT_HELLO) return -1;
  const recLen = (b[off + 3]! << 8) | b[off + 4]!;
  const hsLen = u24(b, off + 6);
  if (hsLen + 4 > recLen || 5 + recLen > len) return -1;
  return off + 9 + hsLen;
}

/** The version a ServerHello in one record selects; undefined when there is none here. */
export function serverVersionInPlace(b: Uint8Array, off: number, len: number): number | null | undefined {
  if (len < 9 || b[off] !== HANDSHAKE || b[off + 5] !== SERVER_HELLO) return undefined;
  const hsLen = u24(b, off + 6);
  if (9 + hsLen > len) return undefined;
  return parseServerHello(b, off + 9, off + 9 + hsLen);
}

/** The metadata of a TLS-over-TCP hello, as the inspector reports it. */
export function tlsMeta(hello: ClientHello, serverVersion: number | null): HandshakeMeta {
  const version = serverVersion ?? highestOffered(hello);
  return handshakeMeta(hello.sni, Object.freeze(hello.alpn.slice()), versionName(version), ja4('t', hello), 'tls', undefined);
}
