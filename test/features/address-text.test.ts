/**
 * IPv4 texts come from a direct-mapped cache (address.ts): whatever was cached before, every
 * address must read as its own dotted quad, including addresses that share a cache slot.
 */
import t from 'tap';
import { addressText, ipv4Text, ipv6Text } from '../../agent/features/address.js';
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

/** RFC 5952 text, built independently of address.ts (node's URL parser normalizes IPv6 hosts). */
const v6 = (w: Uint32Array): string => {
  const hex = Array.from(w, (x) => x.toString(16).padStart(8, '0')).join('').match(/.{4}/g)!.join(':');
  return new URL(`http://[${hex}]/`).hostname.slice(1, -1);
};

t.test('IPv6 texts from the cache match RFC 5952 whatever was cached before', async (t) => {
  const r = rng(12);
  const all: Uint32Array[] = [Uint32Array.of(0, 0, 0, 0), Uint32Array.of(0, 0, 0, 1), Uint32Array.of(0x20010db8, 0, 0, 1), Uint32Array.of(0xfe800000, 0, 0x02000000, 0xff)];
  for (let i = 0; i < 3000; i++) {
    // Mostly sparse addresses (zero runs), some dense.
    all.push(Uint32Array.from({ length: 4 }, () => (r() < 0.5 ? 0 : Math.floor(r() * 2 ** 32) >>> 0)));
  }
  // Same slot: words whose XOR is unchanged.
  for (let k = 1; k < 40; k++) all.push(Uint32Array.of(0x20010db8 ^ k, k, 0, 1));
  let wrong = 0;
  for (let round = 0; round < 3; round++) {
    for (const w of all) if (ipv6Text(w, 0) !== v6(w)) wrong++;
    all.reverse();
  }
  t.equal(wrong, 0, `${all.length * 3} lookups`);
  const words = Uint32Array.of(7, 7, 0x20010db8, 0, 0, 1);
  t.equal(ipv6Text(words, 2), v6(words.subarray(2)), 'read at an offset');
});
