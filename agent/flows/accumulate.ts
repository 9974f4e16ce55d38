/**
 * Per-packet update of a flow's accumulators. This is the only code that
 * runs for every packet of every flow, so it touches columns directly and
 * keeps sums (not samples): every statistic in the feature registry is
 * finished from these at flow end (see agent/features/).
 *
 * Sizes are IP bytes (the IP header's length: header + payload), the same
 * basis for counts, sums and min/max. The PPI sequence and the histograms use
 * transport payload bytes and skip packets without payload, as CESNET and
 * ipfixprobe define them.
 */
import { HIST_BINS, PPI_LEN, type Columns } from './store.js';
import type { Packet } from './packet.js';

/** ipfixprobe's PHISTS bins: [0,15], [16,31], [32,63], ..., [512,1023], [1024, inf). */
export function histBin(v: number): number {
  if (v < 16) return 0;
  const b = 31 - Math.clz32(v) - 3; // floor(log2 v) - 3: 16..31 -> 1, 32..63 -> 2, ...
  return b >= HIST_BINS ? HIST_BINS - 1 : b;
}

/** Reset a slot for a new flow whose first packet is `p` (the sender becomes src). */
export function initFlow(c: Columns, s: number, ts: number): void {
  c.firstTs[s] = ts;
  c.lastTs[s] = ts;
  c.activeStart[s] = ts;
  c.biIatMin[s] = Infinity;
  c.biIatMax[s] = 0;
  c.biIatSum[s] = 0;
  c.biIatSq[s] = 0;
  c.actMin[s] = Infinity; c.actMax[s] = 0; c.actSum[s] = 0; c.actSq[s] = 0; c.actN[s] = 0;
  c.idleMin[s] = Infinity; c.idleMax[s] = 0; c.idleSum[s] = 0; c.idleSq[s] = 0; c.idleN[s] = 0;
  c.closeAt[s] = 0;
  c.tcpEnd[s] = 0;
  c.ppiN[s] = 0;
  c.ppiDirs[s] = 0;
  c.ppiLastTs[s] = ts;
  for (let d = 0; d < 2; d++) {
    const i = s * 2 + d;
    c.pkts[i] = 0; c.bytes[i] = 0; c.payBytes[i] = 0;
    c.szMin[i] = 0xffffffff; c.szMax[i] = 0; c.szSq[i] = 0;
    c.iatMin[i] = Infinity; c.iatMax[i] = 0; c.iatSum[i] = 0; c.iatSq[i] = 0;
    c.dirFirstTs[i] = 0; c.dirLastTs[i] = 0; c.lastPayTs[i] = 0; c.initWin[i] = 0;
  }
  c.flags.fill(0, s * 16, s * 16 + 16);
  c.histSize.fill(0, s * 16, s * 16 + 16);
  c.histIat.fill(0, s * 16, s * 16 + 16);
}

/**
 * Add one packet (direction `dir` relative to the flow's src) at time `ts` (µs).
 * Out-of-order timestamps give zero gaps, never negative ones.
 */
export function accumulate(c: Columns, s: number, dir: number, p: Packet, ts: number, activityGap: number): void {
  const i = s * 2 + dir;
  const size = p.ipBytes;
  const n = c.pkts[i]!;

  // Bidirectional gap and active/idle periods (CICFlowMeter's definition).
  const last = c.lastTs[s]!;
  if (n > 0 || c.pkts[i ^ 1]! > 0) {
    const gap = ts > last ? ts - last : 0;
    if (gap < c.biIatMin[s]!) c.biIatMin[s] = gap;
    if (gap > c.biIatMax[s]!) c.biIatMax[s] = gap;
    c.biIatSum[s] += gap;
    c.biIatSq[s] += gap * gap;
    if (gap > activityGap) {
      const active = last - c.activeStart[s]!;
      if (active > 0) addActive(c, s, active);
      if (gap < c.idleMin[s]!) c.idleMin[s] = gap;
      if (gap > c.idleMax[s]!) c.idleMax[s] = gap;
      c.idleSum[s] += gap;
      c.idleSq[s] += gap * gap;
      c.idleN[s]++;
      c.activeStart[s] = ts;
    }
  }
  if (ts > last) c.lastTs[s] = ts;

  // Per-direction counts, sizes and gaps.
  if (n === 0) {
    c.dirFirstTs[i] = ts;
    c.dirLastTs[i] = ts;
    c.initWin[i] = p.tcpWindow;
  } else {
    const prev = c.dirLastTs[i]!;
    const gap = ts > prev ? ts - prev : 0;
    if (gap < c.iatMin[i]!) c.iatMin[i] = gap;
    if (gap > c.iatMax[i]!) c.iatMax[i] = gap;
    c.iatSum[i] += gap;
    c.iatSq[i] += gap * gap;
    if (ts > prev) c.dirLastTs[i] = ts;
  }
  c.pkts[i] = n + 1;
  c.bytes[i] += size;
  c.szSq[i] += size * size;
  if (size < c.szMin[i]!) c.szMin[i] = size;
  if (size > c.szMax[i]!) c.szMax[i] = size;

  const flags = p.tcpFlags;
  if (flags !== 0) {
    const f = s * 16 + dir * 8;
    for (let b = 0; b < 8; b++) if (flags & (1 << b)) c.flags[f + b]++;
  }

  const pay = p.payloadLen;
  if (pay > 0) {
    c.payBytes[i] += pay;
    const h = s * 16 + dir * HIST_BINS;
    c.histSize[h + histBin(pay)]++;
    const prevPay = c.lastPayTs[i]!;
    if (prevPay !== 0) c.histIat[h + histBin(Math.floor((ts > prevPay ? ts - prevPay : 0) / 1000))]++;
    c.lastPayTs[i] = ts;
    const k = c.ppiN[s]!;
    if (k < PPI_LEN) {
      c.ppiSize[s * PPI_LEN + k] = pay > 0xffff ? 0xffff : pay;
      const lp = c.ppiLastTs[s]!;
      c.ppiIat[s * PPI_LEN + k] = k === 0 || ts <= lp ? 0 : (ts - lp) / 1000;
      if (dir === 1) c.ppiDirs[s] |= 1 << k;
      c.ppiLastTs[s] = ts;
      c.ppiN[s] = k + 1;
    }
  }
}

function addActive(c: Columns, s: number, active: number): void {
  if (active < c.actMin[s]!) c.actMin[s] = active;
  if (active > c.actMax[s]!) c.actMax[s] = active;
  c.actSum[s] += active;
  c.actSq[s] += active * active;
  c.actN[s]++;
}

/** Close the last active period at flow end. */
export function finishActive(c: Columns, s: number): void {
  const active = c.lastTs[s]! - c.activeStart[s]!;
  if (active > 0) addActive(c, s, active);
}
