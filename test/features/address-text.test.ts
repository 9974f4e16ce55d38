/**
 * IPv4 texts come from a direct-mapped cache (address.ts): whatever was cached before, every
 * address must read as its own dotted quad, including addresses that share a cache slot.
 */
import t from 'tap';
import { addressText, ipv4Text } from '../../agent/features/address.js';
import { rng } from '../helpers/fuzz.js';

const quad = (a: number): string => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');

t.test('random addresses, repeated, and addresses that collide in the cache', async (t) => {
  const r = rng(11);
  const seen: number[] = [0, 0xffffffff, 0x7f000001, 0x0a000001];
  for (let i = 0; i < 20000; i++) seen.push(Math.floor(r() * 2 ** 32) >>> 0);
  // The same slot: addresses differing only in bits the slot hash folds together.
  for (let k = 1; k < 64; k++) seen.push((0x0a000001 ^ (k << 14) ^ k) >>> 0, (0x0a000001 ^ (k << 28) ^ k) >>> 0);
  let wrong = 0;
  for (let round = 0; round < 3; round++) {
    for (const a of seen) if (ipv4Text(a) !== quad(a)) wrong++;
    seen.reverse();
  }
  t.equal(wrong, 0, `${seen.length * 3} lookups`);
  t.equal(ipv4Text(0), '0.0.0.0', 'the address 0 is not mistaken for an empty slot');
  t.equal(addressText(4, Uint32Array.of(0xc0a80001), 0), '192.168.0.1');
});
