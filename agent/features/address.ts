/** Text forms of the flow table's 4-word addresses (IPv6 per RFC 5952: longest zero run compressed). */

/*
 * The last texts made, by address (direct-mapped). Why: every finished flow needs two address
 * texts, gateways see the same hosts again and again, and building one (four number-to-text
 * conversions, seven concatenations) was most of the string work on the flow meter's thread.
 */
const CACHE = 1 << 14;
const cachedAddr = new Uint32Array(CACHE);
const cachedText: Array<string | undefined> = new Array<string | undefined>(CACHE).fill(undefined);

export function ipv4Text(a: number): string {
  const i = (a ^ (a >>> 14) ^ (a >>> 28)) & (CACHE - 1);
  const hit = cachedText[i];
  if (hit !== undefined && cachedAddr[i] === a >>> 0) return hit;
  const text = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  cachedAddr[i] = a;
  cachedText[i] = text;
  return text;
}

/* The same for IPv6, whose text costs more (eight groups, the zero run, joins). */
const CACHE6 = 1 << 12;
const cachedAddr6 = new Uint32Array(CACHE6 * 4);
const cachedText6: Array<string | undefined> = new Array<string | undefined>(CACHE6).fill(undefined);

export function ipv6Text(w: ArrayLike<number>, off: number): string {
  const a = w[off]! >>> 0, b = w[off + 1]! >>> 0, c = w[off + 2]! >>> 0, d = w[off + 3]! >>> 0;
  const i = (a ^ b ^ c ^ d ^ (d >>> 12) ^ (c >>> 20)) & (CACHE6 - 1);
  const hit = cachedText6[i];
  const k = i * 4;
  if (hit !== undefined && cachedAddr6[k] === a && cachedAddr6[k + 1] === b && cachedAddr6[k + 2] === c && cachedAddr6[k + 3] === d) return hit;
  const text = ipv6Build(w, off);
  cachedAddr6.set([a, b, c, d], k);
  cachedText6[i] = text;
  return text;
}

function ipv6Build(w: ArrayLike<number>, off: number): string {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) {
    const v = w[off + i]!;
    g.push(v >>> 16, v & 0xffff);
  }
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  // No map() of an empty list (an address opening or closing with the zero run, "::1"): its result
  // has another map than a list of texts, and the first such address after V8 compiled this for
  // lists of texts deoptimized it, with or without metadata (--trace-deopt: "wrong map" here, about
  // half the runs; its recompilation weighed as much as the metadata's own in callgrind).
  const hex = (a: number[]): string => (a.length === 0 ? '' : a.map((x) => x.toString(16)).join(':'));
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

export function addressText(version: number, w: ArrayLike<number>, off: number): string {
  return version === 6 ? ipv6Text(w, off) : ipv4Text(w[off]!);
}
