/**
 * A flow feature, declared once: extraction, the CSV header, training, CSV
 * replay and live inference all read the same declarations, in the same order.
 */
import type { Columns } from '../flows/store.js';

/**
 * Which byte count a size feature uses. `ip`: the IP packet as its header
 * states it (header + payload; link headers, tunnels and padding excluded).
 * `payload`: the transport payload (TCP/UDP data). Non-size features say
 * `count`, `time` or `ratio`.
 */
export type Basis = 'ip' | 'payload' | 'count' | 'time' | 'ratio';

export interface FeatureDef {
  readonly name: string;
  readonly unit: string;
  readonly basis: Basis;
  readonly description: string;
}

/**
 * Features computed together from the flow's accumulators. `fill` writes
 * exactly `defs.length` values, in the order of `defs`, starting at `at`.
 * Why groups and not one function per feature: one straight-line function per
 * family is several times faster than ~200 indirect calls per flow, and the
 * declarations sit right next to the code that computes them.
 */
export interface FeatureGroup {
  readonly defs: readonly FeatureDef[];
  fill(c: Columns, slot: number, out: Float64Array, at: number): void;
}
