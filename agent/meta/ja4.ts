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

/**
 * Clients of one application send the same cipher and extension lists, so the
 * same texts are hashed over and over: a bounded memo saves a SHA-256 per flow.
 */
const memo = new Map<string, string>();
const MEMO_MAX = 4096;

function hash12(text: string): string {
  let h = memo.get(text);
  if (h === undefined) {
    h = createHash('sha256').update(text).digest('hex').slice(0, 12);
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(text, h);
  }
  return h;
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
 * The fingerprint by a digest of what it depends on. One application's clients
 * repeat the same lists, so after the first flow a fingerprint costs one pass
 * over the lists and a lookup instead of filtering, sorting, hex formatting
 * and two SHA-256. Browsers randomize GREASE values and extension order per
 * connection: GREASE is skipped and the sorted lists enter as order-free sums
 * of mixed values (signature algorithms keep their order, as JA4 does). Two
 * independent 26-bit digests make a collision between the few thousand
 * fingerprints a sensor sees practically impossible.
 */
const memo53 = new Map<number, string>();

function mixA(x: number): number {
  let h = Math.imul(x ^ 0x2545f491, 0x9e3779b1);
  h ^= h >>> 15;
  return Math.imul(h, 0x85ebca6b) >>> 0;
}

function mixB(x: number): number {
  let h = Math.imul(x ^ 0x68e31da4, 0xc2b2ae35);
  h ^= h >>> 13;
  return Math.imul(h, 0x27d4eb2f) >>> 0;
}

function digest(proto: Ja4Protocol, hello: ClientHello): number {
  let a = mixA(proto.charCodeAt(0) * 65536 + ja4VersionValue(hello));
  let b = mixB(a);
  const alpn = hello.alpnFirst;
  if (alpn !== null && alpn.length > 0) {
    a = (a + mixA(0x10000 + alpn[0]! * 256 + alpn[alpn.length - 1]!)) >>> 0;
    b = (b ^ mixB(alpn.length)) >>> 0;
  }
  for (const c of hello.ciphers) if (!isGrease(c)) { a = (a + mixA(c + 0x20000)) >>> 0; b = (b + mixB(c + 0x20000)) >>> 0; }
  for (const e of hello.extensions) if (!isGrease(e)) { a = (a + mixA(e + 0x40000)) >>> 0; b = (b + mixB(e + 0x40000)) >>> 0; }
  for (const g of hello.sigAlgs) if (!isGrease(g)) { a = mixA(a ^ g); b = mixB(b + g); }
  return (a & 0x3ffffff) * 0x8000000 + (b & 0x7ffffff);
}

/** The JA4 fingerprint of a parsed ClientHello. */
export function ja4(proto: Ja4Protocol, hello: ClientHello): string {
  const key = digest(proto, hello);
  let full = memo53.get(key);
  if (full === undefined) {
    const { a, ciphers, extsSigs } = ja4Parts(proto, hello);
    const b = ciphers === '' ? EMPTY_HASH : hash12(ciphers);
    // The spec empties part c when the sorted extension list is empty (SNI/ALPN excluded).
    const hasExts = hello.extensions.some((e) => !isGrease(e) && e !== EXT_SNI && e !== EXT_ALPN);
    const c = hasExts ? hash12(extsSigs) : EMPTY_HASH;
    full = `${a}_${b}_${c}`;
    if (memo53.size >= MEMO_MAX) memo53.clear();
    memo53.set(key, full);
  }
  return full;
}
