/**
 * Capture mutation for fuzzing the readers and decoders: bit flips, cut
 * files, and length fields set to hostile values (record lengths in pcap,
 * block lengths in pcapng, IP/TCP/UDP lengths inside packets).
 */
export type Rng = () => number;

export function rng(seed: number): Rng {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const HOSTILE = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0xffffffff, 0x7fffffff, 0x40000];

export function mutate(input: Buffer, r: Rng): Buffer {
  const b = Buffer.from(input);
  const kind = Math.floor(r() * 4);
  const at = (): number => Math.floor(r() * b.length);
  if (kind === 0) {
    // Bit flips anywhere (headers and payloads alike).
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n; i++) b[at()]! ^= 1 << Math.floor(r() * 8);
    return b;
  }
  if (kind === 1) {
    // A file cut short anywhere.
    return b.subarray(0, at());
  }
  // A 16- or 32-bit field overwritten with a hostile value: lands on length fields often enough.
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const p = at();
    const v = HOSTILE[Math.floor(r() * HOSTILE.length)]!;
    if (kind === 2 && p + 4 <= b.length) b.writeUInt32LE(v >>> 0, p);
    else if (p + 2 <= b.length) b.writeUInt16BE(v & 0xffff, p);
  }
  return b;
}
