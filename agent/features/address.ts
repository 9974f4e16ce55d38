/** Text forms of the flow table's 4-word addresses (IPv6 per RFC 5952: longest zero run compressed). */

export function ipv4Text(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export function ipv6Text(w: ArrayLike<number>, off: number): string {
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
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

export function addressText(version: number, w: ArrayLike<number>, off: number): string {
  return version === 6 ? ipv6Text(w, off) : ipv4Text(w[off]!);
}
