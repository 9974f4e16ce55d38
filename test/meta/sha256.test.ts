/**
 * The hand-written SHA-256 and HMAC agree with node:crypto on every message length
 * around the block boundaries and on keys shorter and longer than a block.
 */
import t from 'tap';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { HmacKey, sha256 } from '../../agent/meta/sha256.js';

t.test('sha256 equals node:crypto for lengths 0-200', async (t) => {
  let same = 0;
  for (let n = 0; n <= 200; n++) {
    const m = randomBytes(n);
    if (Buffer.from(sha256(m)).equals(createHash('sha256').update(m).digest())) same++;
  }
  t.equal(same, 201);
  t.equal(Buffer.from(sha256(Buffer.from('abc'))).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'FIPS 180-2 example');
});

t.test('HMAC equals node:crypto for keys of 0-100 bytes, reused for several messages', async (t) => {
  let same = 0;
  let total = 0;
  for (const kl of [0, 1, 8, 20, 32, 63, 64, 65, 100]) {
    const key = randomBytes(kl);
    const k = new HmacKey(key);
    for (const n of [0, 1, 18, 31, 32, 55, 56, 63, 64, 65, 119, 120, 128, 300]) {
      const m = randomBytes(n);
      total++;
      if (Buffer.from(k.mac(m)).equals(createHmac('sha256', key).update(m).digest())) same++;
    }
  }
  t.equal(same, total);
});
