/**
 * HMAC-SHA256 for short messages, by hand (FIPS 180-4, RFC 2104).
 *
 * Why not node:crypto: every QUIC flow derives its Initial keys with five or more
 * HMACs over a few dozen bytes. Through createHmac each costs ~6 µs, nearly all of it
 * object set-up on both sides of the native boundary, and a QUIC-heavy capture spent a
 * tenth of the flow meter's time there. Here a compression is ~0.6 µs, a key's padded
 * states are computed once and reused for the several labels expanded from the same
 * secret (key, iv, hp), and nothing is allocated but the output. Checked against
 * node:crypto in the tests and by RFC 9001's test vectors through quic-keys.ts.
 */

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Int32Array(64);
const BLOCK = new Uint8Array(64);
const STATE = new Int32Array(8);

/** One SHA-256 compression of the 64 bytes at b[o] into state h. */
function compress(h: Int32Array, b: Uint8Array, o: number): void {
  for (let i = 0; i < 16; i++, o += 4) W[i] = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = h[0]!, c1 = h[1]!, c2 = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (hh + s1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & c1) ^ (a & c2) ^ (c1 & c2))) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c2;
    c2 = c1;
    c1 = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + c1) | 0;
  h[2] = (h[2]! + c2) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + hh) | 0;
}

/**
 * Continue hashing from state `h` (which has absorbed `prefix` bytes, a multiple of 64) over
 * `msg`, finish, and write the 32-byte digest to `out`.
 */
function finish(h: Int32Array, prefix: number, msg: Uint8Array, out: Uint8Array): void {
  let o = 0;
  for (; o + 64 <= msg.length; o += 64) compress(h, msg, o);
  const rest = msg.length - o;
  BLOCK.fill(0);
  BLOCK.set(msg.subarray(o), 0);
  BLOCK[rest] = 0x80;
  if (rest >= 56) {
    compress(h, BLOCK, 0);
    BLOCK.fill(0);
  }
  const bits = (prefix + msg.length) * 8;
  BLOCK[59] = Math.floor(bits / 2 ** 32) & 0xff;
  BLOCK[60] = bits >>> 24;
  BLOCK[61] = (bits >>> 16) & 0xff;
  BLOCK[62] = (bits >>> 8) & 0xff;
  BLOCK[63] = bits & 0xff;
  compress(h, BLOCK, 0);
  for (let i = 0; i < 8; i++) {
    const v = h[i]!;
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = (v >>> 16) & 0xff;
    out[i * 4 + 2] = (v >>> 8) & 0xff;
    out[i * 4 + 3] = v & 0xff;
  }
}

/** SHA-256 of `msg`. */
export function sha256(msg: Uint8Array): Uint8Array {
  STATE.set(IV);
  const out = new Uint8Array(32);
  finish(STATE, 0, msg, out);
  return out;
}

/** An HMAC-SHA256 key with its inner and outer padded blocks already absorbed. */
export class HmacKey {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);

  constructor(key: Uint8Array) {
    const k = key.length > 64 ? sha256(key) : key;
    const pad = new Uint8Array(64);
    for (const [state, x] of [[this.inner, 0x36], [this.outer, 0x5c]] as const) {
      pad.fill(x);
      for (let i = 0; i < k.length; i++) pad[i] = k[i]! ^ x;
      state.set(IV);
      compress(state, pad, 0);
    }
  }

  /** HMAC(key, msg): 32 bytes, a fresh array. */
  mac(msg: Uint8Array): Uint8Array {
    const out = new Uint8Array(32);
    STATE.set(this.inner);
    finish(STATE, 64, msg, out);
    STATE.set(this.outer);
    finish(STATE, 64, out, out);
    return out;
  }
}
