/**
 * QUIC Initial packet keys (RFC 9001 5.2, RFC 9369 3.3): anyone who sees the client's
 * first Destination Connection ID can derive them, which is what lets a passive sensor
 * read the ClientHello.
 *
 *   initial_secret = HKDF-Extract(salt(version), client's first DCID)
 *   {client,server}_initial_secret = HKDF-Expand-Label(initial_secret, "client in"|"server in", "", 32)
 *   key = Expand-Label(secret, "<quic> key", 16), iv = ... "<quic> iv", 12, hp = ... "<quic> hp", 16
 *
 * All supported versions use AES-128-GCM with AES-ECB header protection for Initials.
 * Google's Q050, T050 and T051 protect their Initials the same way under salts of their
 * own (the labels are the same); inside, their frames are Google's encoding (CRYPTO is
 * 0x08, ACK is 0x40-0x7f) and Q050's CRYPTO stream carries a gQUIC CHLO instead of a TLS
 * ClientHello.
 *
 * The HMACs and the packet opening (quic-packet.ts) run in C (native/quic_crypto.c): through
 * a JavaScript SHA-256 and node:crypto's cipher objects a key derivation cost ~18 µs and an
 * opened Initial ~15 µs, mostly set-up on both sides of the native boundary; in C each is
 * one call of 2-4 µs.
 */
import type { QuicWatchVersion } from '../flows/native-core.js';
import { loadAddon } from '../lib/addon.js';

/** native/quic_crypto.c. */
export interface QuicCrypto {
  /** The initial secret (32 bytes), then key, iv and hp as InitialKeys.packed holds them. */
  initialKeys(salt: Uint8Array, dcid: Uint8Array, inInfo: Uint8Array, keyInfo: Uint8Array, ivInfo: Uint8Array, hpInfo: Uint8Array): Buffer;
  /**
   * The plaintext of p[off, end) with header protection removed and the AEAD opened (its
   * packet number, decoded against largestPn, then in pn[0]), or null when the offsets do
   * not fit p or the packet does not authenticate. `keys` is InitialKeys.packed. p is never
   * modified.
   */
  openProtected(p: Uint8Array, off: number, pnOff: number, end: number, keys: Uint8Array, largestPn: number): Buffer | null;
  /** Where openProtected puts the packet number: no object per packet. */
  readonly pn: Float64Array;
  /**
   * native/gquic_hash.c: whether p[hashOff, hashOff + 12) is a gQUIC client packet's
   * null-encryption hash of p (FNV-1a 128, with "Client" appended when withPerspective);
   * false when it does not fit p.
   */
  gquicClientHash(p: Uint8Array, hashOff: number, withPerspective: boolean): boolean;
}

let native: QuicCrypto | undefined;

/** The addon; loading it at startup turns a missing build into an E_INSTALL error there, not at the first QUIC packet. */
export function quicCrypto(): QuicCrypto {
  native ??= loadAddon<QuicCrypto>('quic_crypto', 'QUIC decryption module');
  return native;
}

export interface QuicVersion {
  readonly name: string;
  /** Long-header type bits (byte0 >> 4 & 3) of Initial and Retry packets. */
  readonly initialType: number;
  readonly retryType: number;
  readonly salt: Buffer;
  readonly keyInfo: Buffer;
  readonly ivInfo: Buffer;
  readonly hpInfo: Buffer;
  /** Frame encoding inside Initials: RFC 9000's, or Google's (Q050, T05x). */
  readonly frames: 'ietf' | 'google';
  /** What the client's CRYPTO stream carries: a TLS ClientHello, or a gQUIC CHLO (Q050). */
  readonly handshake: 'tls' | 'chlo';
}

/**
 * One direction's Initial keys. `packed` is what the native open reads; key, iv and hp are
 * views of it made on demand (tests and packet builders use them; the reader never does, and
 * three views per flow were a measurable share of a QUIC flow's cost).
 */
export class InitialKeys {
  /** key, iv and hp back to back (16 + 12 + 16 bytes). */
  constructor(readonly packed: Buffer) {}
  get key(): Buffer {
    return this.packed.subarray(0, 16);
  }
  get iv(): Buffer {
    return this.packed.subarray(16, 28);
  }
  get hp(): Buffer {
    return this.packed.subarray(28, 44);
  }
}

/** HkdfLabel (RFC 8446 7.1) with an empty context, followed by HKDF-Expand's counter 0x01. */
function labelInfo(label: string, length: number): Buffer {
  const full = Buffer.from('tls13 ' + label, 'latin1');
  return Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0, 1])]);
}

const CLIENT_IN = labelInfo('client in', 32);
const SERVER_IN = labelInfo('server in', 32);

function version(
  name: string, salt: string, prefix: 'quic' | 'quicv2', initialType: number, retryType: number,
  frames: QuicVersion['frames'] = 'ietf', handshake: QuicVersion['handshake'] = 'tls',
): QuicVersion {
  const saltBytes = Buffer.from(salt, 'hex');
  return {
    name,
    initialType,
    retryType,
    salt: saltBytes,
    keyInfo: labelInfo(`${prefix} key`, 16),
    ivInfo: labelInfo(`${prefix} iv`, 12),
    hpInfo: labelInfo(`${prefix} hp`, 16),
    frames,
    handshake,
  };
}

const V1 = version('v1', '38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'quic', 0, 3);
const V2 = version('v2', '0dede3def700a6db819381be6e269dcbf9bd2ed9', 'quicv2', 1, 0);
const DRAFT_29 = version('draft-29', 'afbfec289993d24c9e9786f19c6111e04390a899', 'quic', 0, 3);
const DRAFT_23 = version('draft-23', 'c3eef712c72ebb5a11a7d2432bb46365bef9f502', 'quic', 0, 3);
const DRAFT_22 = version('draft-22', '7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a', 'quic', 0, 3);
const Q050 = version('Q050', '504574efd066fe2f9d945cfcdbd3a7f0d3b56b45', 'quic', 0, 3, 'google', 'chlo');
const T050 = version('T050', '7ff579e5acd072915580304c43a2367c60488310', 'quic', 0, 3, 'google', 'tls');
const T051 = version('T051', '7a4edef4e7ccee5fa4506c19124fc8ccda6e033d', 'quic', 0, 3, 'google', 'tls');

/**
 * The long-header formats we can decrypt; anything else is skipped unread. Besides v1, v2
 * and the IETF drafts this covers mvfst's (Facebook) draft aliases and Google's Q050,
 * T050 and T051. (Google's Q046 has a long header too, but unencrypted and with a
 * different layout: gquic.ts reads it.)
 */
export function quicVersion(v: number): QuicVersion | null {
  if (v === 0x00000001) return V1;
  if (v === 0x6b3343cf) return V2;
  if (v >>> 8 === 0xff0000) {
    const draft = v & 0xff;
    if (draft >= 33 && draft <= 34) return V1; // the last drafts already use the RFC salt
    if (draft >= 29 && draft <= 32) return DRAFT_29;
    if (draft >= 23 && draft <= 28) return DRAFT_23;
    if (draft === 22) return DRAFT_22;
    return null;
  }
  if (v === 0xfaceb001) return DRAFT_22; // mvfst draft-22
  if (v === 0xfaceb002 || v === 0xfaceb00e) return DRAFT_23; // mvfst draft-27 and its experimental alias
  if (v === 0x51303530) return Q050;
  if (v === 0x54303530) return T050;
  if (v === 0x54303531) return T051;
  return null;
}

/** Every version on the wire quicVersion() reads; the flow core gets its list from here (inPlaceQuicVersions). */
export const KNOWN_QUIC_WIRES: readonly number[] = [
  0x00000001, 0x6b3343cf, ...Array.from({ length: 13 }, (_, i) => 0xff000016 + i), // v1, v2, drafts 22-34
  0xfaceb001, 0xfaceb002, 0xfaceb00e, 0x51303530, 0x54303530, 0x54303531,
];

/**
 * The versions whose client Initial the flow core reads in place (hello_watch.c, quic_initial.c):
 * all known ones, their frame encoding and hello told in `types` (Google's frames << 8, a CHLO << 9).
 */
export function inPlaceQuicVersions(): QuicWatchVersion[] {
  return KNOWN_QUIC_WIRES.map((wire) => {
    const v = quicVersion(wire)!;
    const types = v.initialType | (v.retryType << 4) | (v.frames === 'google' ? 0x100 : 0) | (v.handshake === 'chlo' ? 0x200 : 0);
    return { wire, types, salt: v.salt, keyInfo: v.keyInfo, ivInfo: v.ivInfo, hpInfo: v.hpInfo };
  });
}

/**
 * The version on the wire as the metadata reports it: "v1", "v2", "draft-29", mvfst's
 * "mvfst-draft-22" / "mvfst-draft-27" / "mvfst-exp", Google's four ASCII characters
 * ("Q043", "T051"), else "0x" and eight hex digits.
 */
export function quicVersionName(v: number): string {
  if (v === 0x00000001) return 'v1';
  if (v === 0x6b3343cf) return 'v2';
  if (v >>> 8 === 0xff0000) return `draft-${v & 0xff}`;
  if (v === 0xfaceb001) return 'mvfst-draft-22';
  if (v === 0xfaceb002) return 'mvfst-draft-27';
  if (v === 0xfaceb00e) return 'mvfst-exp';
  const c = [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  if ((c[0] === 0x51 || c[0] === 0x54) && c.slice(1).every((d) => d >= 0x30 && d <= 0x39)) return String.fromCharCode(...c);
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}

/**
 * HKDF-Extract, then HKDF-Expand for the one-block output every QUIC Initial label needs:
 * the infos above already end with Expand's counter byte, so T(1) is a single HMAC.
 */
function derive(ver: QuicVersion, dcid: Uint8Array, server: boolean): Buffer {
  return quicCrypto().initialKeys(ver.salt, dcid, server ? SERVER_IN : CLIENT_IN, ver.keyInfo, ver.ivInfo, ver.hpInfo);
}

export function initialSecret(ver: QuicVersion, dcid: Uint8Array, server: boolean): Buffer {
  return derive(ver, dcid, server).subarray(0, 32);
}

export function initialKeys(ver: QuicVersion, dcid: Uint8Array, server: boolean): InitialKeys {
  return new InitialKeys(derive(ver, dcid, server).subarray(32));
}

/**
 * One Buffer made by node's C++ (napi_create_buffer: the QUIC keys of a made-up DCID), before any
 * flow. Why: node makes such a Buffer as a Uint8Array and then sets its prototype, which moves
 * that object off Uint8Array's initial map, which V8 then takes for unstable; code compiled while
 * it was stable that relies on it (fillSequence, reading the flow table's Uint8Array columns) was
 * thrown away and compiled again when the first flow that needs JavaScript's QUIC reader (or a
 * split TLS hello handed back) came, minutes into a capture (--trace-deopt: "marking dependent
 * code ... fillSequence ... code dependencies", gone with this call). Made by MetaPlugin's
 * constructor (flow-plugin.ts), the map is unstable before anything is compiled.
 */
export function makeNativeBuffer(): void {
  initialKeys(quicVersion(1)!, new Uint8Array(8), false);
}
