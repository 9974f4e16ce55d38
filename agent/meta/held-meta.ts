/**
 * A flow's handshake metadata as one string, read only when a field is asked for. The flow core
 * makes it for the hellos it reads in place (hello_rec.h hello_rec_text gives the layout) and
 * packMeta() makes the same for what JavaScript's inspectors find, so that every flow's metadata
 * is a HeldMeta. Why one string: building each held hello's metadata at the flow's end (a string
 * per field and per ALPN value, a frozen array, a frozen object), then cloning those strings to
 * the row-writer thread, cost the flow meter's thread more than reading the hello in C; `extract`
 * hands the one string to the writer thread, which reads the fields. Why for every flow: the
 * record path (buildRecord, pack, csvRow, unpack) saw two kinds of object when the inspectors'
 * were plain ones, and V8 recompiled it each time the second kind first came by.
 *
 * It reads as the object handshakeMeta() makes for the same findings (the same values; toJSON
 * gives the same fields in the same order).
 */
import type { FlowMeta } from '../features/record.js';
import { guardedStart } from '../lib/csv-cells.js';
import { versionName } from './hello.js';
import { quicVersionName } from './quic-keys.js';
import type { HandshakeMeta, HandshakeTransport } from './types.js';

/**
 * Offsets in the string: marker (0x01), transport ('t' TLS, 'q' QUIC, 'd' DTLS, '-' none), version
 * (4 hex, or '----'), QUIC wire version (8 hex, 0 for none), JA4 (36 characters, or 36 '-'), SNI
 * flag ('1' or '0'), SNI, then "\0" before each ALPN value. No field holds a "\0" (SNI and ALPN
 * values are printable ASCII, or "0x" and hex) and neither a version nor a JA4 (letters, digits
 * and '_') starts with '-'.
 */
const TRANSPORT_AT = 1;
const VERSION_AT = 2;
const WIRE_AT = 6;
const JA4_AT = 14;
const JA4_LEN = 36;
const SNI_FLAG_AT = JA4_AT + JA4_LEN;
const SNI_AT = SNI_FLAG_AT + 1;
/** Before each ALPN value. */
const SEP = '\0';
const NONE = 0x2d; // '-'
const NO_VERSION = '----';
const NO_JA4 = '-'.repeat(JA4_LEN);
const TRANSPORT_CODES: Readonly<Record<HandshakeTransport, string>> = { tls: 't', quic: 'q', dtls: 'd' };
const TRANSPORTS: Readonly<Record<string, HandshakeTransport | null>> = { t: 'tls', q: 'quic', d: 'dtls', '-': null };

/**
 * What an inspector found, as the string held-meta reads (hello_rec_text's layout): `version` the
 * version number whose name tlsVersion shows, `wire` the QUIC version on the wire (0: none).
 */
export function packMeta(transport: HandshakeTransport | null, version: number | null, wire: number, ja4: string | null, sni: string | null, alpn: readonly string[]): string {
  let s = '\x01' + (transport === null ? '-' : TRANSPORT_CODES[transport])
    + (version === null ? NO_VERSION : version.toString(16).padStart(4, '0'))
    + (wire >>> 0).toString(16).padStart(8, '0')
    + (ja4 === null ? NO_JA4 : ja4)
    + (sni === null ? '0' : '1' + sni);
  for (const a of alpn) s += SEP + a;
  return s;
}

/** Where csvCells writes (lib/ascii-buffer.ts AsciiBuffer). */
export interface CsvOut {
  byte(b: number): void;
  str(s: string): void;
  latin1(s: string, from: number, to: number): void;
}

/** The number the hex digits s[from, to) spell (the layout's, lower case). */
function hex(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    v = v * 16 + (c <= 57 ? c - 48 : c - 87);
  }
  return v;
}

/** s[from, to) as a CSV cell, "\0" (between ALPN values) written as ';'; `quoted` writes a cell to escape, or one starting as a formula (format.ts csvText). */
function cell(out: CsvOut, s: string, from: number, to: number, quoted: (cell: string) => string): void {
  if (from < to && guardedStart(s.charCodeAt(from))) return out.str(quoted(s.slice(from, to).replaceAll(SEP, ';')));
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    // A quote or comma to escape, or (never in what the readers keep) a character past ASCII: as before.
    if (c === 0x22 || c === 0x2c || c === 0x0a || c === 0x0d || c > 0x7e) return out.str(quoted(s.slice(from, to).replaceAll(SEP, ';')));
  }
  let at = from;
  for (let i = from; i < to; i++) {
    if (s.charCodeAt(i) !== 0) continue;
    out.latin1(s, at, i);
    out.byte(59); // ';'
    at = i + 1;
  }
  out.latin1(s, at, to);
}

export class HeldMeta implements HandshakeMeta {
  constructor(
    /** helloOf's or packMeta's string. */
    readonly packed: string,
  ) {}

  /**
   * Whether `text` is such a string (the row writer receives these among plain texts): its first
   * character, 0x01, starts no SNI (printable ASCII only) nor any other text of a record.
   */
  static is(text: string | null): text is string {
    return text !== null && text.charCodeAt(0) === 1;
  }

  private sniEnd(): number {
    const end = this.packed.indexOf(SEP, SNI_AT);
    return end < 0 ? this.packed.length : end;
  }

  get sni(): string | null {
    return this.packed.charCodeAt(SNI_FLAG_AT) === 0x31 ? this.packed.slice(SNI_AT, this.sniEnd()) : null;
  }

  get alpn(): readonly string[] {
    const end = this.sniEnd();
    return end === this.packed.length ? [] : this.packed.slice(end + 1).split(SEP);
  }

  get tlsVersion(): string | null {
    return this.packed.charCodeAt(VERSION_AT) === NONE ? null : versionName(parseInt(this.packed.slice(VERSION_AT, WIRE_AT), 16));
  }

  get ja4(): string | null {
    return this.packed.charCodeAt(JA4_AT) === NONE ? null : this.packed.slice(JA4_AT, JA4_AT + JA4_LEN);
  }

  private get wire(): number {
    return parseInt(this.packed.slice(WIRE_AT, JA4_AT), 16);
  }

  get transport(): HandshakeTransport | null {
    return TRANSPORTS[this.packed[TRANSPORT_AT]!] ?? null;
  }

  get quicVersion(): string | undefined {
    const wire = this.wire;
    return wire !== 0 ? quicVersionName(wire) : undefined;
  }

  /**
   * The CSV cells sni, alpn (joined by ';'), tls_version and ja4, comma-separated, into out,
   * read from the one string where they lie: the getters' slices, a join and four quoting
   * checks per row were most of what the metadata cost the row writer. A cell that holds a quote
   * or a comma (an SNI or ALPN value may), or one starting as a formula, goes through `quoted` (format.ts csvText).
   */
  csvCells(out: CsvOut, quoted: (cell: string) => string): void {
    const s = this.packed;
    const sniEnd = this.sniEnd();
    if (s.charCodeAt(SNI_FLAG_AT) === 0x31) cell(out, s, SNI_AT, sniEnd, quoted);
    out.byte(44);
    if (sniEnd < s.length) cell(out, s, sniEnd + 1, s.length, quoted);
    out.byte(44);
    if (s.charCodeAt(VERSION_AT) !== NONE) out.str(versionName(hex(s, VERSION_AT, WIRE_AT)));
    out.byte(44);
    if (s.charCodeAt(JA4_AT) !== NONE) out.latin1(s, JA4_AT, JA4_AT + JA4_LEN);
  }

  /** The ALPN values joined by ';' (the CSV cell), without splitting them first. */
  alpnCell(): string {
    const end = this.sniEnd();
    return end === this.packed.length ? '' : this.packed.slice(end + 1).replaceAll(SEP, ';');
  }

  /**
   * The fields, in handshakeMeta()'s order: JSON sees the plain object. Spreading, cloning or deep
   * comparisons see only `packed` (tests compare through this; test/helpers/harness.ts plainMeta).
   */
  toJSON(): FlowMeta & { transport: HandshakeTransport | null } {
    return { sni: this.sni, alpn: this.alpn, tlsVersion: this.tlsVersion, ja4: this.ja4, transport: this.transport, quicVersion: this.quicVersion };
  }
}

/** Whether an inspector found anything to report. */
export function foundAny(m: HandshakeMeta): boolean {
  return m.sni !== null || m.ja4 !== null || m.tlsVersion !== null || m.alpn.length > 0;
}
