/**
 * ClientHello and ServerHello bodies (RFC 8446 4.1.2-4.1.3, RFC 6347 4.2.1 / RFC 9147 5.3
 * for DTLS, which adds a cookie after the session id). The parsers read a complete
 * message body from `b[start, end)` and return null when its lengths do not add up.
 *
 * Strict on the outer structure (a hello that does not parse is skipped and counted),
 * lenient inside extensions: an extension whose own content is malformed is still
 * counted for JA4 but contributes no SNI/ALPN/version values.
 *
 * The per-flow path does not use parseClientHello: helloSummary (hello-native.ts) parses
 * and fingerprints in C with the same results. parseClientHello and ja4.ts stay as the
 * reference that test/meta/hello-native.test.ts holds the C to, and for diagnostics.
 */

export interface ClientHello {
  /** legacy_version (client_version before TLS 1.3). */
  readonly legacyVersion: number;
  /** Cipher suites in wire order, GREASE included. */
  readonly ciphers: readonly number[];
  /** Extension types in wire order, GREASE included. */
  readonly extensions: readonly number[];
  readonly sni: string | null;
  readonly alpn: readonly string[];
  /** The first ALPN value's raw bytes (JA4 needs them, not the display string). */
  readonly alpnFirst: Uint8Array | null;
  /** supported_versions (0x002b) in wire order, GREASE included; empty when absent. */
  readonly supportedVersions: readonly number[];
  /** signature_algorithms (0x000d) in wire order, GREASE included. */
  readonly sigAlgs: readonly number[];
}

/** server_name (RFC 6066). */
export const EXT_SNI = 0x0000;
/** signature_algorithms (RFC 8446 4.2.3). */
export const EXT_SIG_ALGS = 0x000d;
/** application_layer_protocol_negotiation (RFC 7301). */
export const EXT_ALPN = 0x0010;
/** supported_versions (RFC 8446 4.2.1). */
export const EXT_SUPPORTED_VERSIONS = 0x002b;

/** RFC 8701 GREASE: 0x?a?a with both bytes equal. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

export const MAX_ALPN_VALUES = 16;
const MAX_SNI = 255;

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

/** Big-endian 24-bit integer at `i` (handshake message lengths). */
export function u24(b: Uint8Array, i: number): number {
  return (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
}

/**
 * Bytes already checked to be ASCII as a string. Buffer's native latin1 decoder works on any
 * Uint8Array and is ~15x faster than String.fromCharCode(...bytes), whose spread of a typed
 * array was a tenth of the metadata cost.
 */
const latin1 = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

/** Printable ASCII (no spaces) as a string, else null: SNI must be a DNS name (A-labels). */
export function asciiName(b: Uint8Array, s: number, e: number): string | null {
  if (e <= s || e - s > MAX_SNI) return null;
  for (let i = s; i < e; i++) if (b[i]! < 0x21 || b[i]! > 0x7e) return null;
  return latin1.call(b, s, e);
}

/**
 * ALPN values are opaque bytes: printable ones read as text, others as 0x<hex>. A ';' counts as
 * unprintable: the CSV cell joins the values with it, and "a;b" came back from a CSV as two
 * values (found by review). hello_rec.c alpn_text follows the same rule.
 */
function alpnText(b: Uint8Array, s: number, e: number): string {
  let printable = e > s;
  for (let i = s; i < e && printable; i++) printable = b[i]! >= 0x20 && b[i]! <= 0x7e && b[i] !== 0x3b;
  return printable ? latin1.call(b, s, e) : '0x' + Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('hex');
}

function u16List(b: Uint8Array, s: number, e: number): number[] {
  const out: number[] = [];
  for (let i = s; i + 1 < e; i += 2) out.push(u16(b, i));
  return out;
}

/** Parse a ClientHello body; `dtls` adds the cookie field. */
export function parseClientHello(b: Uint8Array, start: number, end: number, dtls: boolean): ClientHello | null {
  let p = start + 2 + 32;
  if (p + 1 > end) return null;
  const legacyVersion = u16(b, start);
  p += 1 + b[p]!; // session id
  if (dtls) {
    if (p + 1 > end) return null;
    p += 1 + b[p]!; // cookie
  }
  if (p + 2 > end) return null;
  const cipherLen = u16(b, p);
  p += 2;
  if (cipherLen % 2 !== 0 || p + cipherLen > end) return null;
  const ciphers = u16List(b, p, p + cipherLen);
  p += cipherLen;
  if (p + 1 > end) return null;
  p += 1 + b[p]!; // compression methods
  if (p > end) return null;

  const hello = {
    legacyVersion,
    ciphers,
    extensions: [] as number[],
    sni: null as string | null,
    alpn: [] as string[],
    alpnFirst: null as Uint8Array | null,
    supportedVersions: [] as number[],
    sigAlgs: [] as number[],
  };
  if (p === end) return hello; // SSL 3.0 / early TLS: no extensions block
  if (p + 2 > end) return null;
  const extEnd = p + 2 + u16(b, p);
  p += 2;
  if (extEnd > end) return null;
  while (p < extEnd) {
    if (p + 4 > extEnd) return null;
    const type = u16(b, p);
    const len = u16(b, p + 2);
    const s = p + 4;
    const e = s + len;
    if (e > extEnd) return null;
    hello.extensions.push(type);
    if (type === EXT_SNI) hello.sni ??= readSni(b, s, e);
    else if (type === EXT_ALPN) readAlpn(b, s, e, hello);
    else if (type === EXT_SUPPORTED_VERSIONS && len >= 1 && s + 1 + b[s]! <= e) {
      hello.supportedVersions = u16List(b, s + 1, s + 1 + b[s]!);
    } else if (type === EXT_SIG_ALGS && len >= 2 && s + 2 + u16(b, s) <= e) {
      hello.sigAlgs = u16List(b, s + 2, s + 2 + u16(b, s));
    }
    p = e;
  }
  return hello;
}

function readSni(b: Uint8Array, s: number, e: number): string | null {
  if (s + 2 > e) return null;
  const listEnd = Math.min(e, s + 2 + u16(b, s));
  let p = s + 2;
  while (p + 3 <= listEnd) {
    const nameType = b[p]!;
    const nameEnd = p + 3 + u16(b, p + 1);
    if (nameEnd > listEnd) return null;
    if (nameType === 0) return asciiName(b, p + 3, nameEnd);
    p = nameEnd;
  }
  return null;
}

function readAlpn(b: Uint8Array, s: number, e: number, hello: { alpn: string[]; alpnFirst: Uint8Array | null }): void {
  if (s + 2 > e || hello.alpnFirst !== null) return;
  const listEnd = Math.min(e, s + 2 + u16(b, s));
  let p = s + 2;
  while (p < listEnd) {
    const vEnd = p + 1 + b[p]!;
    if (vEnd > listEnd) return;
    if (hello.alpnFirst === null) hello.alpnFirst = b.slice(p + 1, vEnd);
    if (hello.alpn.length < MAX_ALPN_VALUES) hello.alpn.push(alpnText(b, p + 1, vEnd));
    p = vEnd;
  }
}

/**
 * Parse a ServerHello body and return the version it selected: supported_versions
 * (TLS 1.3 and later) when present, else legacy_version. null when malformed.
 */
export function parseServerHello(b: Uint8Array, start: number, end: number): number | null {
  let p = start + 2 + 32;
  if (p + 1 > end) return null;
  const legacyVersion = u16(b, start);
  p += 1 + b[p]! + 2 + 1; // session id, cipher suite, compression method
  if (p > end) return null;
  if (p + 2 > end) return legacyVersion;
  const extEnd = p + 2 + u16(b, p);
  if (extEnd > end) return null;
  p += 2;
  while (p + 4 <= extEnd) {
    const type = u16(b, p);
    const len = u16(b, p + 2);
    if (p + 4 + len > extEnd) return null;
    if (type === EXT_SUPPORTED_VERSIONS && len === 2) return u16(b, p + 4);
    p += 4 + len;
  }
  return legacyVersion;
}

/** The TLS and DTLS versions named in the metadata (row_format's csvMeta is given the same). */
export const VERSION_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0304, '1.3'],
  [0x0303, '1.2'],
  [0x0302, '1.1'],
  [0x0301, '1.0'],
  [0x0300, 'ssl3'],
  [0x0002, 'ssl2'],
  [0xfeff, 'dtls1.0'],
  [0xfefd, 'dtls1.2'],
  [0xfefc, 'dtls1.3'],
]);

/** "1.3", "dtls1.2", ... or "0x<hex>" for a code point we do not name. */
export function versionName(v: number): string {
  return VERSION_NAMES.get(v) ?? '0x' + v.toString(16).padStart(4, '0');
}

/**
 * Order of versions for "highest offered": DTLS counts down (0xfeff = 1.0, 0xfefd = 1.2,
 * 0xfefc = 1.3) and TLS 1.3 drafts (0x7fXX) come between 1.2 and 1.3.
 */
function versionRank(v: number): number {
  if (v >= 0xfe00) return 0x10000 + (0xffff - v);
  if (v >> 8 === 0x7f) return 0x0303 + (v & 0xff) / 256;
  return v;
}

/**
 * The highest version the client offers, for the metadata: supported_versions without
 * GREASE when the extension is present, else legacy_version.
 */
export function highestOffered(hello: ClientHello): number {
  let best = -1;
  for (const v of hello.supportedVersions) {
    if (!isGrease(v) && (best < 0 || versionRank(v) > versionRank(best))) best = v;
  }
  return best < 0 ? hello.legacyVersion : best;
}

/**
 * JA4's version: the numerically highest non-GREASE supported_versions value, else
 * legacy_version. Numeric, as the spec says "highest value" and the FoxIO and nDPI
 * implementations compare values (so a DTLS 1.3 hello offering 0xfefc and 0xfefd is "d2").
 */
export function ja4VersionValue(hello: ClientHello): number {
  let best = -1;
  for (const v of hello.supportedVersions) if (!isGrease(v) && v > best) best = v;
  return best < 0 ? hello.legacyVersion : best;
}
