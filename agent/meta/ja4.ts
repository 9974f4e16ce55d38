/**
 * JA4 client fingerprint, as FoxIO specifies it (technical_details/JA4.md in
 * FoxIO-LLC/ja4; JA4 itself is BSD-3-Clause, the other JA4+ methods are not and are
 * not implemented here):
 *
 *   a: protocol (t|q|d) + version (2 chars) + SNI (d|i) + cipher count (2 digits)
 *      + extension count (2 digits) + first and last character of the first ALPN value
 *   b: sha256 of the sorted cipher list (4-hex, comma separated), first 12 hex chars
 *   c: sha256 of the sorted extension list without SNI (0000) and ALPN (0010),
 *      then "_" and the signature algorithms in wire order, first 12 hex chars
 *
 * GREASE values are ignored everywhere (ciphers, extensions, versions, signature
 * algorithms). Counts include SNI and ALPN and cap at 99. An empty list hashes to
 * "000000000000"; without signature algorithms part c has no trailing "_".
 */
import { createHash } from 'node:crypto';
import { EXT_ALPN, EXT_SNI, isGrease, ja4VersionValue, type ClientHello } from './hello.js';

export type Ja4Protocol = 't' | 'q' | 'd';

const JA4_VERSIONS: ReadonlyMap<number, string> = new Map([
  [0x0304, '13'],
  [0x0303, '12'],
  [0x0302, '11'],
  [0x0301, '10'],
  [0x0300, 's3'],
  [0x0002, 's2'],
  [0xfeff, 'd1'],
  [0xfefd, 'd2'],
  [0xfefc, 'd3'],
]);

const EMPTY_HASH = '000000000000';

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

function count2(n: number): string {
  return n > 99 ? '99' : n.toString().padStart(2, '0');
}

function hash12(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * First and last character of the first ALPN value; "00" when there is none or it is
 * empty. When either end is not ASCII alphanumeric, the first and last characters of the
 * value's hex form are used instead (0xAB 0xCD -> "ad").
 */
export function ja4Alpn(value: Uint8Array | null): string {
  if (value === null || value.length === 0) return '00';
  const first = value[0]!;
  const last = value[value.length - 1]!;
  if (isAlnum(first) && isAlnum(last)) return String.fromCharCode(first, last);
  const hi = first >> 4;
  const lo = last & 0x0f;
  return hi.toString(16) + lo.toString(16);
}

/** The raw JA4 pieces before hashing (JA4_r with sorted lists): useful in tests and debugging. */
export function ja4Parts(proto: Ja4Protocol, hello: ClientHello): { a: string; ciphers: string; extsSigs: string } {
  const ciphers = hello.ciphers.filter((c) => !isGrease(c));
  const exts = hello.extensions.filter((e) => !isGrease(e));
  const sigs = hello.sigAlgs.filter((s) => !isGrease(s));
  const version = JA4_VERSIONS.get(ja4VersionValue(hello)) ?? '00';
  const sni = hello.extensions.includes(EXT_SNI) ? 'd' : 'i';
  const a = proto + version + sni + count2(ciphers.length) + count2(exts.length) + ja4Alpn(hello.alpnFirst);
  const sortedCiphers = ciphers.sort((x, y) => x - y).map(hex4).join(',');
  const sortedExts = exts.filter((e) => e !== EXT_SNI && e !== EXT_ALPN).sort((x, y) => x - y).map(hex4).join(',');
  const sigList = sigs.map(hex4).join(',');
  return { a, ciphers: sortedCiphers, extsSigs: sigList === '' ? sortedExts : `${sortedExts}_${sigList}` };
}

/**
 * The JA4 fingerprint of a parsed ClientHello. The reference for native/ja4.c, which the
 * per-flow path uses (hello.ts's helloSummary): kept to the definition, without the memo
 * that made it cheap enough for every flow.
 */
export function ja4(proto: Ja4Protocol, hello: ClientHello): string {
  const { a, ciphers, extsSigs } = ja4Parts(proto, hello);
  const b = ciphers === '' ? EMPTY_HASH : hash12(ciphers);
  // The spec empties part c when the sorted extension list is empty (SNI/ALPN excluded).
  const hasExts = hello.extensions.some((e) => !isGrease(e) && e !== EXT_SNI && e !== EXT_ALPN);
  const c = hasExts ? hash12(extsSigs) : EMPTY_HASH;
  return `${a}_${b}_${c}`;
}
