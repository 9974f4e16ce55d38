/**
 * native/read_buffer.c: the address arithmetic the capture reader uses to start its read
 * buffers on a 64-byte boundary (file-reader.ts says why).
 */
import t from 'tap';
import { loadAddon } from '../../agent/lib/addon.js';

const addon = loadAddon<{ misalignment(buf: Uint8Array, align: number): number }>('read_buffer', 'capture reader module');

t.test('a view k bytes further is k bytes further from the boundary', async (t) => {
  const b = Buffer.allocUnsafeSlow(1 << 20);
  const at = addon.misalignment(b, 64);
  t.ok(at >= 0 && at < 64);
  for (const k of [1, 7, 16, 48, 63, 64, 100, 4095]) {
    t.equal(addon.misalignment(b.subarray(k), 64), (at + k) % 64, `offset ${k}`);
    t.equal(addon.misalignment(b.subarray(k), 4096), (addon.misalignment(b, 4096) + k) % 4096);
  }
  const skip = (64 - at) % 64;
  t.equal(addon.misalignment(b.subarray(skip), 64), 0, 'the skip the reader computes lands on a boundary');
});

t.test('wrong arguments are a TypeError, not a crash', async (t) => {
  const b = Buffer.alloc(8);
  for (const align of [0, 3, 8192, -1]) t.throws(() => addon.misalignment(b, align), TypeError, `align ${align}`);
  t.throws(() => addon.misalignment('x' as unknown as Uint8Array, 64), TypeError);
});
