/**
 * What the research shows matters most for encrypted traffic: the first
 * packets of a flow and coarse histograms. Defined as in the CESNET datasets
 * (PPI: per-packet information of the first 30 packets that carry payload:
 * size, direction, inter-packet time) and ipfixprobe's PHISTS plugin (8
 * log-scale bins of payload sizes and of inter-arrival times per direction,
 * packets without payload skipped).
 */
import { HIST_BINS, PPI_LEN, type Columns } from '../flows/store.js';
import type { FeatureDef, FeatureGroup } from './types.js';

const BIN_RANGES = ['0-15', '16-31', '32-63', '64-127', '128-255', '256-511', '512-1023', '1024+'];
const DIRS = [['src2dst', 'sent by src'], ['dst2src', 'sent by dst']] as const;

function ordinal(n: number): string {
  const suffix = n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

function sequenceDocs(): FeatureDef[] {
  const out: FeatureDef[] = [];
  for (let k = 1; k <= PPI_LEN; k++) {
    out.push({ name: `ppi_size_${k}`, unit: 'bytes', basis: 'payload', description: `payload size of the ${ordinal(k)} packet with payload (0 if the flow has fewer)` });
  }
  for (let k = 1; k <= PPI_LEN; k++) {
    out.push({ name: `ppi_dir_${k}`, unit: '+1/-1', basis: 'count', description: `direction of the ${ordinal(k)} packet with payload: +1 src to dst, -1 dst to src, 0 if none` });
  }
  for (let k = 1; k <= PPI_LEN; k++) {
    out.push({ name: `ppi_iat_${k}`, unit: 'ms', basis: 'time', description: `time since the previous packet with payload, for the ${ordinal(k)} one (0 for the first and if none)` });
  }
  for (const [p, who] of DIRS) {
    for (let b = 0; b < HIST_BINS; b++) {
      // Packets without payload (pure ACKs) are not counted, as in the CESNET datasets: bin 0 holds
      // 1-15 bytes (its text said 0-15: found by review). The value, and the models, are unchanged.
      out.push({ name: `${p}_size_hist_${b}`, unit: 'packets', basis: 'payload', description: `packets with payload ${who} with ${b === 0 ? '1-15' : BIN_RANGES[b]} payload bytes` });
    }
  }
  for (const [p, who] of DIRS) {
    for (let b = 0; b < HIST_BINS; b++) {
      out.push({
        name: `${p}_iat_hist_${b}`, unit: 'packets', basis: 'time',
        description: `packets with payload ${who} arriving ${BIN_RANGES[b]} ms after the previous one with payload in that direction`,
      });
    }
  }
  return out;
}

/** Writes the values of sequenceDocs(), in its order. */
function fillSequence(c: Columns, s: number, out: Float64Array, at: number): void {
  const n = c.ppiN[s]!;
  const dirs = c.ppiDirs[s]!;
  const base = s * PPI_LEN;
  for (let k = 0; k < PPI_LEN; k++) {
    const has = k < n;
    out[at + k] = has ? c.ppiSize[base + k]! : 0;
    out[at + PPI_LEN + k] = has ? (dirs & (1 << k) ? -1 : 1) : 0;
    out[at + 2 * PPI_LEN + k] = has ? c.ppiIat[base + k]! : 0;
  }
  const h = s * 2 * HIST_BINS;
  let o = at + 3 * PPI_LEN;
  for (let i = 0; i < 2 * HIST_BINS; i++) out[o++] = c.histSize[h + i]!;
  for (let i = 0; i < 2 * HIST_BINS; i++) out[o++] = c.histIat[h + i]!;
}

export const sequenceGroup: FeatureGroup = { defs: sequenceDocs(), fill: fillSequence };
