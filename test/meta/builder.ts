/**
 * Test helpers: build TLS/DTLS hellos, records and segments, and QUIC Initial packets
 * protected with node:crypto following RFC 9001 5 (and RFC 9369 for v2). Independent of
 * agent/meta: the QUIC protection here is checked against the RFCs' own packets.
 */
import { createCipheriv, createHmac } from 'node:crypto';

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function u8(n: number): Buffer {
  return Buffer.from([n]);
}
function u16(n: number): Buffer {
  return Buffer.from([n >> 8, n & 0xff]);
}
function u24(n: number): Buffer {
  return Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
}
function vec8(b: Uint8Array): Buffer {
  return Buffer.concat([u8(b.length), b]);
}
function vec16(b: Uint8Array): Buffer {
  return Buffer.concat([u16(b.length), b]);
}
function list16(values: readonly number[]): Buffer {
  return Buffer.concat(values.map(u16));
}

export type Ext = readonly [type: number, data: Uint8Array];

export const ext = {
  sni: (name: string): Ext => [0x0000, vec16(Buffer.concat([u8(0), vec16(Buffer.from(name, 'latin1'))]))],
  alpn: (values: ReadonlyArray<string | Uint8Array>): Ext => [
    0x0010,
    vec16(Buffer.concat(values.map((v) => vec8(typeof v === 'string' ? Buffer.from(v, 'latin1') : v)))),
  ],
  supportedVersions: (versions: readonly number[]): Ext => [0x002b, vec8(list16(versions))],
  sigAlgs: (algs: readonly number[]): Ext => [0x000d, vec16(list16(algs))],
  raw: (type: number, data: Uint8Array = Buffer.alloc(0)): Ext => [type, data],
};

export interface HelloOptions {
  version?: number;
  ciphers: readonly number[];
  extensions?: readonly Ext[];
  /** Omit the extensions block entirely (SSL 3.0 style). */
  noExtensions?: boolean;
  sessionId?: number;
  /** DTLS: add a cookie field (possibly empty). */
  cookie?: Uint8Array;
}

/** A ClientHello handshake message body (without the 4-byte TLS header). */
export function clientHelloBody(o: HelloOptions): Buffer {
  const parts = [u16(o.version ?? 0x0303), Buffer.alloc(32, 0x11), vec8(Buffer.alloc(o.sessionId ?? 32, 0x22))];
  if (o.cookie !== undefined) parts.push(vec8(o.cookie));
  parts.push(vec16(list16(o.ciphers)), vec8(Buffer.from([0])));
  if (!o.noExtensions) {
    parts.push(vec16(Buffer.concat((o.extensions ?? []).map(([t, d]) => Buffer.concat([u16(t), vec16(d)])))));
  }
  return Buffer.concat(parts);
}

/** A TLS handshake message: type, 24-bit length, body. */
export function handshake(type: number, body: Uint8Array): Buffer {
  return Buffer.concat([u8(type), u24(body.length), body]);
}

export function clientHello(o: HelloOptions): Buffer {
  return handshake(1, clientHelloBody(o));
}

export function serverHello(o: { version?: number; supportedVersion?: number; cipher?: number }): Buffer {
  const exts = o.supportedVersion === undefined ? [] : [Buffer.concat([u16(0x002b), vec16(u16(o.supportedVersion))])];
  const body = Buffer.concat([
    u16(o.version ?? 0x0303),
    Buffer.alloc(32, 0x33),
    vec8(Buffer.alloc(32, 0x44)),
    u16(o.cipher ?? 0x1301),
    u8(0),
    vec16(Buffer.concat(exts)),
  ]);
  return handshake(2, body);
}

/** TLS records of content type 22 carrying `msg`, at most `maxFragment` bytes each. */
export function records(msg: Uint8Array, maxFragment = 16384, version = 0x0301): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < msg.length; i += maxFragment) {
    const frag = msg.subarray(i, Math.min(msg.length, i + maxFragment));
    out.push(Buffer.concat([u8(22), u16(version), u16(frag.length), frag]));
  }
  return Buffer.concat(out);
}

/** Cut `data` at the given offsets. */
export function cut(data: Uint8Array, at: readonly number[]): Buffer[] {
  const points = [0, ...at, data.length];
  return points.slice(1).map((end, i) => Buffer.from(data.subarray(points[i]!, end)));
}

/** DTLS handshake fragment (12-byte header) of message `body`. */
export function dtlsFragment(type: number, body: Uint8Array, msgSeq: number, off = 0, len = body.length - off): Buffer {
  return Buffer.concat([u8(type), u24(body.length), u16(msgSeq), u24(off), u24(len), body.subarray(off, off + len)]);
}

/** A DTLS plaintext record (13-byte header). */
export function dtlsRecord(content: Uint8Array, opts: { type?: number; version?: number; epoch?: number; seq?: number } = {}): Buffer {
  const seq = Buffer.alloc(6);
  seq.writeUIntBE(opts.seq ?? 0, 0, 6);
  return Buffer.concat([u8(opts.type ?? 22), u16(opts.version ?? 0xfefd), u16(opts.epoch ?? 0), seq, u16(content.length), content]);
}

// ---------------------------------------------------------------- QUIC

export interface QuicVersionSpec {
  version: number;
  salt: string;
  prefix: 'quic' | 'quicv2';
  initialType: number;
}

export const QUIC_V1: QuicVersionSpec = { version: 1, salt: '38762cf7f55934b34d179ae6a4c80cadccbb7f0a', prefix: 'quic', initialType: 0 };
export const QUIC_V2: QuicVersionSpec = { version: 0x6b3343cf, salt: '0dede3def700a6db819381be6e269dcbf9bd2ed9', prefix: 'quicv2', initialType: 1 };
export const QUIC_DRAFT29: QuicVersionSpec = { version: 0xff00001d, salt: 'afbfec289993d24c9e9786f19c6111e04390a899', prefix: 'quic', initialType: 0 };

function hkdfExpandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from('tls13 ' + label);
  const info = Buffer.concat([u16(length), vec8(full), u8(0)]);
  // HKDF-Expand, RFC 5869 2.3: T(1) suffices for <= 32 bytes.
  return createHmac('sha256', secret).update(Buffer.concat([info, u8(1)])).digest().subarray(0, length);
}

export function testKeys(spec: QuicVersionSpec, dcid: Uint8Array, server: boolean): { key: Buffer; iv: Buffer; hp: Buffer } {
  const initial = createHmac('sha256', Buffer.from(spec.salt, 'hex')).update(dcid).digest();
  const secret = hkdfExpandLabel(initial, server ? 'server in' : 'client in', 32);
  return {
    key: hkdfExpandLabel(secret, `${spec.prefix} key`, 16),
    iv: hkdfExpandLabel(secret, `${spec.prefix} iv`, 12),
    hp: hkdfExpandLabel(secret, `${spec.prefix} hp`, 16),
  };
}

export function varint(v: number): Buffer {
  if (v < 0x40) return u8(v);
  if (v < 0x4000) return u16(0x4000 | v);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((0x80000000 | v) >>> 0);
  return b;
}

export function cryptoFrame(offset: number, data: Uint8Array): Buffer {
  return Buffer.concat([u8(0x06), varint(offset), varint(data.length), data]);
}

export interface InitialOptions {
  spec: QuicVersionSpec;
  /** The DCID written in the header. */
  dcid: Uint8Array;
  scid?: Uint8Array;
  /** The DCID the keys derive from (defaults to `dcid`; servers use the client's first DCID). */
  keyDcid?: Uint8Array;
  server?: boolean;
  pn?: number;
  pnLen?: 1 | 2 | 3 | 4;
  token?: Uint8Array;
  frames: Uint8Array;
  /** Pad the frames with PADDING so the packet is at least this long (client Initials: 1200). */
  padTo?: number;
}

/** A protected QUIC Initial packet. */
export function initialPacket(o: InitialOptions): Buffer {
  const pnLen = o.pnLen ?? 4;
  const pn = o.pn ?? 0;
  const scid = o.scid ?? Buffer.alloc(0);
  const token = o.token ?? Buffer.alloc(0);
  const first = 0xc0 | (o.spec.initialType << 4) | (pnLen - 1);
  const pre = Buffer.concat([u8(first), Buffer.from([0, 0, 0, 0]), vec8(o.dcid), vec8(scid), varint(token.length), token]);
  pre.writeUInt32BE(o.spec.version >>> 0, 1);
  let frames = Buffer.from(o.frames);
  const fixed = pre.length + 2 + pnLen + 16;
  if (o.padTo !== undefined && fixed + frames.length < o.padTo) frames = Buffer.concat([frames, Buffer.alloc(o.padTo - fixed - frames.length)]);
  const length = pnLen + frames.length + 16;
  const pnBytes = Buffer.alloc(4);
  pnBytes.writeUInt32BE(pn >>> 0);
  const header = Buffer.concat([pre, u16(0x4000 | length), pnBytes.subarray(4 - pnLen)]);
  const keys = testKeys(o.spec, o.keyDcid ?? o.dcid, o.server ?? false);
  const nonce = Buffer.from(keys.iv);
  for (let k = 0; k < 4; k++) nonce[11 - k] = nonce[11 - k]! ^ ((pn >>> (8 * k)) & 0xff);
  const gcm = createCipheriv('aes-128-gcm', keys.key, nonce);
  gcm.setAAD(header);
  const payload = Buffer.concat([gcm.update(frames), gcm.final(), gcm.getAuthTag()]);
  const pnOffset = header.length - pnLen;
  const sample = payload.subarray(4 - pnLen, 4 - pnLen + 16);
  const mask = createCipheriv('aes-128-ecb', keys.hp, null).update(sample);
  const out = Buffer.concat([header, payload]);
  out[0] = out[0]! ^ (mask[0]! & 0x0f);
  for (let k = 0; k < pnLen; k++) out[pnOffset + k] = out[pnOffset + k]! ^ mask[1 + k]!;
  return out;
}

// ---------------------------------------------------------------- driving an inspector

export interface Pkt {
  dir: 0 | 1;
  proto: 6 | 17;
  payload: Uint8Array;
  seq?: number;
  flags?: number;
}

export const SYN = 0x02;
export const ACK = 0x10;
export const PSH_ACK = 0x18;

/** A TCP conversation: client ISN 1000, server ISN 5000; data from each side follows its own sequence. */
export function tcpFlow(client: readonly Uint8Array[], server: readonly Uint8Array[] = [], isn = 1000): Pkt[] {
  const out: Pkt[] = [
    { dir: 0, proto: 6, payload: Buffer.alloc(0), seq: isn, flags: SYN },
    { dir: 1, proto: 6, payload: Buffer.alloc(0), seq: 5000, flags: SYN | ACK },
    { dir: 0, proto: 6, payload: Buffer.alloc(0), seq: isn + 1, flags: ACK },
  ];
  let cseq = isn + 1;
  for (const c of client) {
    out.push({ dir: 0, proto: 6, payload: c, seq: cseq >>> 0, flags: PSH_ACK });
    cseq += c.length;
  }
  let sseq = 5001;
  for (const s of server) {
    out.push({ dir: 1, proto: 6, payload: s, seq: sseq, flags: PSH_ACK });
    sseq += s.length;
  }
  return out;
}
