/**
 * The ClientHello parser and JA4 in C (native/tls_hello.c), as JavaScript's readers use them:
 * what hello.ts parses and ja4.ts fingerprints, summarized in one call (the hellos the flow core
 * reads in place come back through held-meta.ts). hello.ts stays the reference
 * (test/meta/hello-native.test.ts compares the two).
 */
import { loadAddon } from '../lib/addon.js';
import { MAX_ALPN_VALUES } from './hello.js';
import type { Ja4Protocol } from './ja4.js';

/** What the metadata takes from a ClientHello: helloSummary's result. */
export interface HelloSummary {
  /** As ClientHello.sni. */
  readonly sni: string | null;
  /** As ClientHello.alpn, frozen. */
  readonly alpn: readonly string[];
  /** highestOffered(). */
  readonly highest: number;
  /** ja4(proto, hello). */
  readonly ja4: string;
}

/** native/tls_hello.c. */
export interface TlsHello {
  /**
   * parseClientHello(b, start, end, dtls) summarized with the JA4 of `proto` (the char code of
   * 't', 'q' or 'd'): -1 exactly when parseClientHello returns null, else the number n of ALPN
   * values, with out[0] = sni, out[1] = highest offered version, out[2] = JA4 and
   * out[3 .. 3 + n) = ALPN. Throws a RangeError when start or end is not an integer within b.
   */
  helloMeta(b: Uint8Array, start: number, end: number, dtls: boolean, proto: number, out: unknown[]): number;
}

let native: TlsHello | undefined;

/** The addon; loading it at startup turns a missing build into an E_INSTALL error there. */
export function tlsHello(): TlsHello {
  native ??= loadAddon<TlsHello>('tls_hello', 'TLS hello module');
  return native;
}

/** helloMeta's results, read right after each call: sized once for the most it writes, so never grown. */
const OUT: unknown[] = new Array<unknown>(4 + MAX_ALPN_VALUES).fill(null);
const NO_ALPN: readonly string[] = Object.freeze([]);
/*
 * One slice of OUT frozen now, at load, as alpnOf freezes each ALPN list. Why: freezing moves the
 * slice (a holey array, as OUT is) off the map such arrays start with, and V8 then takes that map for
 * unstable; code compiled while it was stable that relies on it (buildRecord, through the
 * feature registry's arrays) was thrown away when the first ALPN list was frozen, at the first
 * hello JavaScript's readers read, and compiled again (--trace-deopt: "marking dependent code
 * ... buildRecord ... code dependencies", gone with this line).
 */
Object.freeze(OUT.slice(0, 1));

/** SNI, ALPN, highest offered version and JA4 of the ClientHello body b[start, end), or null when malformed. */
export function helloSummary(b: Uint8Array, start: number, end: number, dtls: boolean, proto: Ja4Protocol): HelloSummary | null {
  return summaryOf((native ?? tlsHello()).helloMeta(b, start, end, dtls, proto.charCodeAt(0), OUT));
}

/** OUT as helloMeta filled it, n its result. */
function summaryOf(n: number): HelloSummary | null {
  if (n < 0) return null;
  return { sni: OUT[0] as string | null, alpn: alpnOf(n), highest: OUT[1] as number, ja4: OUT[2] as string };
}

/** OUT's n ALPN values, frozen. */
function alpnOf(n: number): readonly string[] {
  return n === 0 ? NO_ALPN : Object.freeze(OUT.slice(3, 3 + n) as string[]);
}
