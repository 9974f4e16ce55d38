/**
 * Flow state as columns (struct of arrays), one typed array per field,
 * indexed by slot. Why not one object per flow: a JS object with this many
 * fields and its arrays costs several KiB and GC time; columns cost ~0.8 KiB
 * per flow, allocate nothing per packet, and the arrays are sized once for
 * `max_flows`. The OS commits their pages only when touched, so memory grows
 * with the number of flows actually alive, and `max_flows` really bounds it.
 *
 * Per-direction columns hold two entries per slot: index `slot * 2 + dir`,
 * dir 0 = from the flow's first sender (src), 1 = towards it.
 */

/** Packets per flow whose payload sizes, directions and gaps are kept (the CESNET "PPI" sequence). */
export const PPI_LEN = 30;
/** Bins of the log-scale size and inter-arrival histograms (ipfixprobe's PHISTS). */
export const HIST_BINS = 8;

type Ctor = Float64ArrayConstructor | Float32ArrayConstructor | Uint32ArrayConstructor | Int32ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor;

/** Column name → [array type, entries per slot]. */
const SPEC = {
  // identity
  hash: [Uint32Array, 1],
  srcIp: [Uint32Array, 4],
  dstIp: [Uint32Array, 4],
  ports: [Uint32Array, 1], // sport << 16 | dport
  proto: [Uint8Array, 1],
  ipVersion: [Uint8Array, 1],
  vlan: [Uint32Array, 1], // outer << 12 | inner
  // bookkeeping
  lruPrev: [Int32Array, 1],
  lruNext: [Int32Array, 1],
  lastTouch: [Float64Array, 1], // monotonic clock at the last packet: orders the LRU list
  closeAt: [Float64Array, 1], // clock time at which a closed TCP flow ends (0: open)
  tcpEnd: [Uint8Array, 1], // bit 0/1: FIN seen from dir 0/1, bit 2: RST
  gen: [Uint32Array, 1], // bumped on reuse, so stale references to a slot are detectable
  // bidirectional
  firstTs: [Float64Array, 1],
  lastTs: [Float64Array, 1],
  biIatMin: [Float32Array, 1],
  biIatMax: [Float32Array, 1],
  biIatSum: [Float64Array, 1],
  biIatSq: [Float64Array, 1],
  activeStart: [Float64Array, 1],
  actMin: [Float32Array, 1],
  actMax: [Float32Array, 1],
  actSum: [Float64Array, 1],
  actSq: [Float64Array, 1],
  actN: [Uint32Array, 1],
  idleMin: [Float32Array, 1],
  idleMax: [Float32Array, 1],
  idleSum: [Float64Array, 1],
  idleSq: [Float64Array, 1],
  idleN: [Uint32Array, 1],
  // per direction
  pkts: [Uint32Array, 2],
  bytes: [Float64Array, 2],
  payBytes: [Float64Array, 2],
  szMin: [Uint32Array, 2],
  szMax: [Uint32Array, 2],
  szSq: [Float64Array, 2],
  iatMin: [Float32Array, 2],
  iatMax: [Float32Array, 2],
  iatSum: [Float64Array, 2],
  iatSq: [Float64Array, 2],
  dirFirstTs: [Float64Array, 2],
  dirLastTs: [Float64Array, 2],
  lastPayTs: [Float64Array, 2],
  initWin: [Uint16Array, 2],
  flags: [Uint32Array, 16], // slot * 16 + dir * 8 + flag bit (FIN..CWR)
  histSize: [Uint32Array, 2 * HIST_BINS], // slot * 16 + dir * 8 + bin
  histIat: [Uint32Array, 2 * HIST_BINS],
  // first packets with payload
  ppiN: [Uint8Array, 1],
  ppiDirs: [Uint32Array, 1], // bit i set: packet i went dst -> src
  ppiSize: [Uint16Array, PPI_LEN],
  ppiIat: [Float32Array, PPI_LEN], // milliseconds since the previous PPI packet
  ppiLastTs: [Float64Array, 1],
} as const satisfies Record<string, readonly [Ctor, number]>;

type Spec = typeof SPEC;
export type Columns = { readonly [K in keyof Spec]: InstanceType<Spec[K][0]> };

export const BYTES_PER_FLOW: number = Object.values(SPEC).reduce(
  (n, [C, per]) => n + (C as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT * per,
  0,
);

/** Above this, columns get an ArrayBuffer each (kept well under V8's 4 GiB limit for one ArrayBuffer). */
const ONE_BUFFER_MAX = 2 ** 31;

export function allocColumns(capacity: number): Columns {
  // One ArrayBuffer carved into views, rather than one per column: V8 answers each new external
  // allocation of this size with a garbage collection ("external memory pressure"), 52 of them
  // for 1M flows, which cost 20-40 ms at every start. Pages still commit only when touched.
  const entries = Object.entries(SPEC) as Array<[string, readonly [Ctor, number]]>;
  const sizes = entries.map(([, [C, per]]) => Math.ceil((C.BYTES_PER_ELEMENT * per * capacity) / 8) * 8);
  const total = sizes.reduce((a, b) => a + b, 0);
  const buffer = total <= ONE_BUFFER_MAX ? new ArrayBuffer(total) : undefined;
  const out: Record<string, unknown> = {};
  let at = 0;
  entries.forEach(([name, [C, per]], i) => {
    out[name] = buffer ? new C(buffer, at, capacity * per) : new C(capacity * per);
    at += sizes[i]!;
  });
  // Adding 50+ keys one by one leaves V8 with a slow dictionary-mode object (every column access a hash
  // lookup, which tripled the per-packet cost); a spread copy gets a fixed shape with fast properties.
  return { ...out } as Columns;
}
