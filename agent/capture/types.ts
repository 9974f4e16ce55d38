/**
 * The packet-source contract. Every source (pcap file, pcapng file, live
 * interface) delivers frames through the same callback, so the flow meter
 * cannot tell replay from live capture.
 *
 * Guarantees:
 * - `onFrame` is called synchronously, in capture order, never concurrently.
 * - The `Frame` object and the bytes it points to are reused: they are valid
 *   only during the call. Copy what you keep.
 * - `run` resolves once, after the last `onFrame`. It rejects only for startup
 *   problems (file missing, permission denied) with a StartupError; damage
 *   found while reading ends the run with `reason: 'error'` and what was read
 *   before it has been delivered.
 * - `stop()` may be called at any time; `run` then resolves with `stopped`.
 */

/** One captured frame. Timestamps are microseconds since the Unix epoch (fractional for ns captures). */
export interface Frame {
  /** LINKTYPE_* value (tcpdump.org/linktypes.html) of this frame's interface. */
  linkType: number;
  buf: Buffer;
  /** Offset of the first byte of the frame in `buf`. */
  offset: number;
  /** Bytes captured (may be less than `wireLength` when the snap length cut it). */
  capLength: number;
  /** Length of the frame on the wire. */
  wireLength: number;
  ts: number;
  /** Interface index within the source (pcapng interface id, or the live interface's position). */
  iface: number;
}

export type EndReason = 'eof' | 'stopped' | 'error';

export interface SourceEnd {
  reason: EndReason;
  /** For `error`: what was wrong and where, e.g. "truncated record at offset 1234: ...". */
  message?: string;
  /** Byte offset in the file of the damaged record, for files. */
  offset?: number;
}

export interface SourceStats {
  frames: number;
  /** Bytes of those frames on the wire (not only the captured part), for files as for live capture. */
  bytes: number;
  /** 0..1 for files (position / size), undefined for live capture. */
  progress?: number;
  /** Frames skipped by the source itself, by reason (unknown interface, bad block...). */
  skipped: Record<string, number>;
  /** Packets the file gave no timestamp (pcapng Simple Packet Blocks): each took the one before it. */
  untimed?: number;
  /** A file's link types, as its header or interfaces declare them (for the summary's hint when one is not decoded). */
  linkTypes?: readonly number[];
  /** Frames the kernel dropped before we saw them (live capture), where the OS tells. */
  kernelDrops?: number;
  /** Frames dropped on the interface (NIC/driver), where the OS tells. */
  ifaceDrops?: number;
}

export interface RunOptions {
  /**
   * Awaited between chunks of input (files) so a slow consumer can hold the
   * source back: back-pressure instead of unbounded buffering. Also the place
   * to draw progress.
   */
  between?: () => Promise<void> | void;
  /** A consumer that reads classic pcap records itself; pcap files then hand it whole chunks (see PcapBulk). */
  pcapBulk?: PcapBulk;
}

/**
 * Classic pcap records in bulk: the flow meter's C path walks them itself, since a call per frame
 * cost as much as the C work on it. It consumes whole, valid records from `start` and returns
 * the offset where it stopped, with the frames and bytes it read; the source's own loop then
 * handles what stopped it (a record cut by the chunk's end, or a corrupt one) exactly as without
 * it. Frames read in bulk are not passed to `onFrame`.
 */
export interface PcapBulk {
  pcapRecords(buf: Buffer, start: number, end: number, format: PcapRecordFormat): { end: number; frames: number; bytes: number };
}

export interface PcapRecordFormat {
  linkType: number;
  littleEndian: boolean;
  /** Units of the timestamp's fraction field per microsecond: 1 (µs) or 1000 (ns). */
  tsDivisor: number;
  /** Longer records are corrupt (left to the source to report). */
  maxCapLength: number;
}

export interface PacketSource {
  readonly description: string;
  run(onFrame: (frame: Frame) => void, opts?: RunOptions): Promise<SourceEnd>;
  stop(): void;
  stats(): SourceStats;
}

/** A reusable frame, so sources allocate nothing per packet. */
export function newFrame(): Frame {
  return { linkType: 0, buf: Buffer.alloc(0), offset: 0, capLength: 0, wireLength: 0, ts: 0, iface: 0 };
}
