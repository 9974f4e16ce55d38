/**
 * The native QUIC Initial crypto (agent/meta/native/quic_crypto.c) on its own: the key
 * derivation against the published vectors and node:crypto's HMAC, packet opening against
 * the published packets and node:crypto's AES, packet numbers as RFC 9000 A.3 decodes
 * them, and every offset that does not fit refused (null), never a crash or a read past
 * the view.
 */
import t from 'tap';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { quicCrypto } from '../../agent/meta/quic-keys.js';
import { readLongHeader, type LongHeader } from '../../agent/meta/quic-packet.js';
import { hex } from './builder.js';
import { RFC9001, RFC9369, RFC_CLIENT_CRYPTO_FRAME, RFC_DCID } from './quic-vectors.js';

const native = quicCrypto();
const dcid = hex(RFC_DCID);

/** HkdfLabel with an empty context and Expand's counter 0x01, written here from RFC 8446 7.1. */
function info(label: string, length: number): Buffer {
  const full = Buffer.from('tls13 ' + label);
  return Buffer.concat([Buffer.from([0, length, full.length]), full, Buffer.from([0, 1])]);
}

function derive(salt: string, prefix: string, server: boolean): { secret: string; key: string; iv: string; hp: string } {
  const out = native.initialKeys(hex(salt), dcid, info(server ? 'server in' : 'client in', 32),
    info(`${prefix} key`, 16), info(`${prefix} iv`, 12), info(`${prefix} hp`, 16));
  return { secret: out.subarray(0, 32).toString('hex'), key: out.subarray(32, 48).toString('hex'),
    iv: out.subarray(48, 60).toString('hex'), hp: out.subarray(60, 76).toString('hex') };
}

const packed = (k: { key: string; iv: string; hp: string }): Buffer => hex(k.key + k.iv + k.hp);
const V1_KEYS = packed(RFC9001.client);

function header(p: Uint8Array): LongHeader {
  const h: LongHeader = { ver: null, wire: 0, initial: false, dcidLen: 0, pnOff: 0, end: 0 };
  readLongHeader(p, 0, h);
  return h;
}

const cases = [
  ['RFC 9001 (v1)', '38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'quic', RFC9001],
  ['RFC 9369 (v2)', '0dede3def700a6db819381be6e269dcbf9bd2ed9', 'quicv2', RFC9369],
] as const;

for (const [name, salt, prefix, v] of cases) {
  t.test(`${name} A.1: secrets, keys, IVs and header protection keys`, async (t) => {
    t.same(derive(salt, prefix, false), v.client, 'client');
    t.same(derive(salt, prefix, true), v.server, 'server');
  });

  t.test(`${name} A.2-A.3: the published Initials open, the input untouched`, async (t) => {
    const client = hex(v.clientPacket);
    const copy = Buffer.from(client);
    const h = header(client);
    native.pn[0] = -7;
    const plain = native.openProtected(client, 0, h.pnOff, h.end, packed(v.client), -1);
    t.ok(plain, 'client Initial authenticates');
    t.equal(native.pn[0], 2, 'packet number 2');
    const frame = hex(RFC_CLIENT_CRYPTO_FRAME);
    t.equal(plain!.length, 1162);
    t.same(plain!.subarray(0, frame.length), frame);
    t.ok(plain!.subarray(frame.length).every((b) => b === 0), 'then PADDING');
    t.same(client, copy, 'input not modified');
    const server = hex(v.serverPacket);
    const hs = header(server);
    t.ok(native.openProtected(server, 0, hs.pnOff, hs.end, packed(v.server), -1), 'server Initial authenticates');
    t.equal(native.pn[0], 1, 'packet number 1');
    t.equal(native.openProtected(server, 0, hs.pnOff, hs.end, packed(v.client), -1), null, 'not with the client keys');
  });
}

t.test('HKDF: HMAC-SHA256 equals node:crypto for salts, DCIDs and infos shorter and longer than a block', async (t) => {
  let same = 0;
  let total = 0;
  for (const sl of [0, 1, 20, 63, 64, 65, 200]) {
    for (const dl of [0, 1, 8, 20, 55, 64, 100]) {
      const s = randomBytes(sl);
      const d = randomBytes(dl);
      const infos = [randomBytes(sl % 7), randomBytes(64), randomBytes(70 + dl), randomBytes(1)];
      const mac = (k: Uint8Array, m: Uint8Array): Buffer => createHmac('sha256', k).update(m).digest();
      const secret = mac(mac(s, d), infos[0]!);
      const want = Buffer.concat([secret, mac(secret, infos[1]!).subarray(0, 16), mac(secret, infos[2]!).subarray(0, 12), mac(secret, infos[3]!).subarray(0, 16)]);
      total++;
      if (native.initialKeys(s, d, infos[0]!, infos[1]!, infos[2]!, infos[3]!).equals(want)) same++;
    }
  }
  t.equal(same, total);
});

t.test('a flipped byte anywhere in header, packet number, ciphertext or tag fails authentication', async (t) => {
  const packet = hex(RFC9001.clientPacket);
  const h = header(packet);
  const flipped: number[] = [];
  for (const at of [0, 1, 5, 6, 13, 15, 16, 17, h.pnOff, h.pnOff + 3, h.pnOff + 4, 600, 1183, 1184, 1190, 1199]) {
    const bad = Buffer.from(packet);
    bad[at] = bad[at]! ^ (at === 0 ? 0x04 : 0x01); // byte 0: a bit header protection leaves alone
    const copy = Buffer.from(bad);
    if (native.openProtected(bad, 0, h.pnOff, h.end, V1_KEYS, -1) !== null) flipped.push(at);
    t.same(bad, copy, `input not modified (byte ${at})`);
  }
  t.same(flipped, [], 'no flipped byte authenticates');
  const key = Buffer.from(V1_KEYS);
  key[3] = key[3]! ^ 1;
  t.equal(native.openProtected(packet, 0, h.pnOff, h.end, key, -1), null, 'a wrong key');
  t.ok(native.openProtected(packet, 0, h.pnOff, h.end, V1_KEYS, -1), 'and the unmodified packet still opens');
});

t.test('every offset combination that does not describe the packet is refused without a crash', async (t) => {
  const packet = hex(RFC9001.clientPacket);
  const h = header(packet);
  t.same([h.pnOff, h.end], [18, 1200]);
  const values = [-1, -0, 0, 1, 17, 18, 19, 1179, 1180, 1181, 1183, 1184, 1199, 1200, 1201, 4096,
    2 ** 31, 2 ** 32, 2 ** 32 + 18, 2 ** 53, 2 ** 64, NaN, Infinity, -Infinity, 0.5, 17.999];
  let opened = 0;
  let wrong = 0;
  for (const off of values) {
    for (const pnOff of values) {
      for (const end of values) {
        const r = native.openProtected(packet, off, pnOff, end, V1_KEYS, -1);
        const valid = off === 0 && pnOff === 18 && end === 1200;
        if (r !== null) opened++;
        if ((r !== null) !== valid) wrong++;
      }
    }
  }
  t.equal(opened, 2, 'only (0, 18, 1200) opens (and -0 for 0)');
  t.equal(wrong, 0);
  t.same(packet, hex(RFC9001.clientPacket), 'input not modified');
});

t.test('short and offset views: nothing is read past the view, whatever the arguments', async (t) => {
  const packet = hex(RFC9001.clientPacket);
  // The packet inside a larger buffer: offsets count from the view, its end bounds them.
  const big = Buffer.alloc(1400, 0xaa);
  packet.copy(big, 100);
  t.ok(native.openProtected(big.subarray(100, 1300), 0, 18, 1200, V1_KEYS, -1), 'opens in a view at byte 100');
  t.ok(native.openProtected(new Uint8Array(big.buffer, big.byteOffset + 100, 1200), 0, 18, 1200, V1_KEYS, -1), 'a plain Uint8Array too');
  t.equal(native.openProtected(big.subarray(100, 1299), 0, 18, 1200, V1_KEYS, -1), null, 'end past a view one byte short');
  t.equal(native.openProtected(packet.subarray(0, 0), 0, 0, 0, V1_KEYS, -1), null, 'empty view');
  let nonNull = 0;
  let calls = 0;
  for (const len of [0, 1, 7, 20, 21, 36, 37, 38, 40, 60]) {
    const p = Buffer.concat([randomBytes(len), Buffer.alloc(64, 0x55)]).subarray(0, len);
    for (let off = -1; off <= len + 1; off++) {
      for (let pnOff = -1; pnOff <= len + 1; pnOff++) {
        for (const end of [-1, 0, 1, pnOff + 19, pnOff + 20, pnOff + 21, pnOff + 36, pnOff + 37, len - 1, len, len + 1]) {
          calls++;
          if (native.openProtected(p, off, pnOff, end, V1_KEYS, -1) !== null) nonNull++;
        }
      }
    }
  }
  t.ok(calls > 10000, `${calls} calls`);
  t.equal(nonNull, 0, 'random bytes never open');
});

t.test('wrong argument types throw TypeError (a programming error, not packet data)', async (t) => {
  const p = hex(RFC9001.clientPacket);
  const call = (...a: unknown[]): unknown => (native.openProtected as (...a: unknown[]) => unknown)(...a);
  t.throws(() => call('x', 0, 18, 1200, V1_KEYS, -1), TypeError);
  t.throws(() => call(new Uint16Array(600), 0, 18, 1200, V1_KEYS, -1), TypeError);
  t.throws(() => call(p, '0', 18, 1200, V1_KEYS, -1), TypeError);
  t.throws(() => call(p, 0, 18, 1200, V1_KEYS.subarray(0, 43), -1), TypeError);
  t.throws(() => call(p, 0, 18, 1200, V1_KEYS), TypeError);
  const keys = (...a: unknown[]): unknown => (native.initialKeys as (...a: unknown[]) => unknown)(...a);
  t.throws(() => keys(dcid, dcid, dcid, dcid, dcid), TypeError);
  t.throws(() => keys(dcid, [1, 2], dcid, dcid, dcid, dcid), TypeError);
});

// ---------------------------------------------------------------- packet numbers

/** RFC 9000 A.3's pseudo-code, exactly, in BigInt. */
function decodeRef(largest: bigint, truncated: bigint, bits: bigint): bigint {
  const expected = largest + 1n;
  const win = 1n << bits;
  const half = win / 2n;
  const mask = win - 1n;
  const candidate = (expected & ~mask) | truncated;
  if (candidate <= expected - half && candidate < (1n << 62n) - win) return candidate + win;
  if (candidate > expected + half && candidate >= win) return candidate - win;
  return candidate;
}

/** An Initial protected under the RFC 9001 client keys with any packet number (node:crypto). */
function seal(pn: bigint, pnLen: number, frames: Buffer): Buffer {
  const k = RFC9001.client;
  const length = pnLen + frames.length + 16;
  const pnBytes = Buffer.alloc(8);
  pnBytes.writeBigUInt64BE(pn);
  const hdr = Buffer.concat([Buffer.from([0xc0 | (pnLen - 1), 0, 0, 0, 1, 8]), dcid, Buffer.from([0, 0, 0x40 | (length >> 8), length & 0xff]), pnBytes.subarray(8 - pnLen)]);
  const nonce = hex(k.iv);
  for (let i = 0; i < 8; i++) nonce[4 + i] = nonce[4 + i]! ^ pnBytes[i]!;
  const gcm = createCipheriv('aes-128-gcm', hex(k.key), nonce);
  gcm.setAAD(hdr);
  const out = Buffer.concat([hdr, gcm.update(frames), gcm.final(), gcm.getAuthTag()]);
  const pnOff = hdr.length - pnLen;
  const mask = createCipheriv('aes-128-ecb', hex(k.hp), null).update(out.subarray(pnOff + 4, pnOff + 20));
  out[0] = out[0]! ^ (mask[0]! & 0x0f);
  for (let i = 0; i < pnLen; i++) out[pnOff + i] = out[pnOff + i]! ^ mask[1 + i]!;
  return out;
}

t.test('packet numbers decode as RFC 9000 A.3 says, and the nonce takes all 62 bits', async (t) => {
  const frames = Buffer.alloc(40, 1);
  // RFC 9000 A.3's example: largest 0xa82f30ea, truncated 0x9b32 in 16 bits.
  const example = seal(0xa82f9b32n, 2, frames);
  t.ok(native.openProtected(example, 0, 18, example.length, V1_KEYS, 0xa82f30ea));
  t.equal(native.pn[0], 0xa82f9b32, 'the RFC example');
  t.equal(native.openProtected(example, 0, 18, example.length, V1_KEYS, 0xa82f30ea + 0x10000), null, 'a window too far');
  let agree = 0;
  let total = 0;
  const largests = [-1, 0, 1, 126, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff, 0xffffff, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, 2 ** 53 - 2 ** 33];
  for (let i = 0; i < 60; i++) largests.push(Math.floor(Math.random() * 2 ** (1 + (i % 52))));
  for (const largest of largests) {
    for (const pnLen of [1, 2, 3, 4]) {
      const bits = BigInt(pnLen * 8);
      const win = 1n << bits;
      for (const truncated of [0n, 1n, win / 2n - 1n, win / 2n, win / 2n + 1n, win - 1n, BigInt(largest + 1) % win, BigInt(Math.floor(Math.random() * Number(win)))]) {
        const want = decodeRef(BigInt(largest), truncated, bits);
        const packet = seal(want, pnLen, frames);
        total++;
        native.pn[0] = -7;
        const plain = native.openProtected(packet, 0, 18, packet.length, V1_KEYS, largest);
        if (plain !== null && plain.equals(frames) && native.pn[0] === Number(want)) agree++;
        else if (total - agree <= 3) t.fail(`largest ${largest}, ${pnLen} bytes, truncated ${truncated}: want ${want}, got ${plain === null ? 'null' : native.pn[0]}`);
      }
    }
  }
  t.equal(agree, total, `${total} packets`);
  for (const bad of [-2, 0.5, NaN, Infinity, -Infinity, 2 ** 63]) {
    t.equal(native.openProtected(example, 0, 18, example.length, V1_KEYS, bad), null, `largestPn ${bad} refused`);
  }
});

/** The former JavaScript opening (node:crypto), as the oracle for the differential run below. */
function openRef(p: Buffer, off: number, pnOff: number, end: number, largest: number): { plain: Buffer; pn: number } | null {
  const k = RFC9001.client;
  const mask = createCipheriv('aes-128-ecb', hex(k.hp), null).update(p.subarray(pnOff + 4, pnOff + 20));
  const first = p[off]! ^ (mask[0]! & 0x0f);
  const pnLen = (first & 3) + 1;
  if (pnOff + pnLen + 16 > end) return null;
  const hdr = Buffer.from(p.subarray(off, pnOff + pnLen));
  hdr[0] = first;
  let truncated = 0n;
  for (let i = 0; i < pnLen; i++) {
    hdr[pnOff - off + i] = hdr[pnOff - off + i]! ^ mask[1 + i]!;
    truncated = truncated * 256n + BigInt(hdr[pnOff - off + i]!);
  }
  const pn = decodeRef(BigInt(largest), truncated, BigInt(pnLen * 8));
  const nonce = hex(k.iv);
  const pnBytes = Buffer.alloc(8);
  pnBytes.writeBigUInt64BE(pn);
  for (let i = 0; i < 8; i++) nonce[4 + i] = nonce[4 + i]! ^ pnBytes[i]!;
  const gcm = createDecipheriv('aes-128-gcm', hex(k.key), nonce, { authTagLength: 16 });
  gcm.setAAD(hdr);
  gcm.setAuthTag(p.subarray(end - 16, end));
  const plain = gcm.update(p.subarray(pnOff + pnLen, end - 16));
  try {
    gcm.final();
  } catch {
    return null;
  }
  return { plain, pn: Number(pn) };
}

t.test('differential: mutated packets open exactly when node:crypto opens them, to the same bytes', async (t) => {
  let same = 0;
  let opened = 0;
  const runs = 2000;
  for (let i = 0; i < runs; i++) {
    // Every 50th has no ciphertext at all (4 packet number bytes leave room for the sample).
    const pnLen = i % 50 === 0 ? 4 : 1 + (i % 4);
    const pn = BigInt(i * 37);
    const packet = seal(pn, pnLen, randomBytes(i % 50 === 0 ? 0 : 3 + (i % 300)));
    if (i % 3 !== 0) packet[Math.floor(Math.random() * packet.length)] ^= 1 << (i % 8);
    const largest = i % 5 === 0 ? -1 : Number(pn) - (i % 9);
    const want = openRef(packet, 0, 18, packet.length, largest);
    const got = native.openProtected(packet, 0, 18, packet.length, V1_KEYS, largest);
    if (want !== null) opened++;
    if (want === null ? got === null : got !== null && got.equals(want.plain) && native.pn[0] === want.pn) same++;
  }
  t.equal(same, runs);
  t.ok(opened > runs / 4, `${opened} opened`); // a third unmutated, less the packet numbers -1 cannot reach
});
