/** The portable CRC-32 and node:zlib's agree, so segments stay readable across Node 20 releases. */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { crc32, crc32Portable, nativeCrc32 } from '../../agent/publish/crc32.js';

t.test('known vector', async (t) => {
  t.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

t.test('portable and native agree, also when continued', { skip: nativeCrc32 ? false : 'node:zlib has no crc32 in this Node' }, async (t) => {
  for (const n of [0, 1, 7, 64, 1000, 65537]) {
    const a = randomBytes(n);
    const b = randomBytes(n % 13);
    t.equal(crc32Portable(b, crc32Portable(a)), crc32(b, crc32(a)), `${n} bytes`);
  }
});
