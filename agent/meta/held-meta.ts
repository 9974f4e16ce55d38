/**
 * The metadata of a hello the flow core read in place (hello_watch.c), as the one string its
 * helloOf returns (hello_rec.h hello_rec_text gives the layout): the fields are read from it only
 * when asked for. Why: most hellos are read in C, and building their metadata object at each
 * flow's end (a string per field and per ALPN value, a frozen array, a frozen object), then
 * cloning those strings to the row-writer thread, cost the flow meter's thread more than reading
 * the hello. `extract` now hands the one string to the writer thread, which reads the fields.
 *
 * It reads as the object handshakeMeta() makes for the same hello (the same values; JSON.stringify
 * gives the same text through toJSON).
 */
import type { FlowMeta } from '../features/record.js';
import { versionName } from './hello.js';
import { quicVersionName } from './quic-keys.js';
import type { HandshakeMeta, HandshakeTransport } from './types.js';

/** Offsets in the string: marker, version (4 hex), QUIC wire (8 hex), JA4, SNI flag, SNI... */
const VERSION_AT = 1;
const WIRE_AT = 5;
const JA4_AT = 13;
const JA4_LEN = 36;
const SNI_FLAG_AT = JA4_AT + JA4_LEN;
const SNI_AT = SNI_FLAG_AT + 1;
/** Before each ALPN value. */
const SEP = '\0';

export class HeldMeta implements HandshakeMeta {
  constructor(
    /** helloOf's string. */
    readonly packed: string,
  ) {}

  /**
   * Whether `text` is a string helloOf made (the row writer receives these among plain texts):
   * its first character, 0x01, starts no SNI (printable ASCII only) nor any other text of a record.
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

  get tlsVersion(): string {
    return versionName(parseInt(this.packed.slice(VERSION_AT, WIRE_AT), 16));
  }

  get ja4(): string {
    return this.packed.slice(JA4_AT, JA4_AT + JA4_LEN);
  }

  private get wire(): number {
    return parseInt(this.packed.slice(WIRE_AT, JA4_AT), 16);
  }

  get transport(): HandshakeTransport {
    return this.wire !== 0 ? 'quic' : 'tls';
  }

  get quicVersion(): string | undefined {
    const wire = this.wire;
    return wire !== 0 ? quicVersionName(wire) : undefined;
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
  toJSON(): FlowMeta & { transport: HandshakeTransport } {
    return { sni: this.sni, alpn: this.alpn, tlsVersion: this.tlsVersion, ja4: this.ja4, transport: this.transport, quicVersion: this.quicVersion };
  }
}
