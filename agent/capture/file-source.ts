/**
 * A capture file as a packet source: pcap or pcapng, detected by magic
 * number, read as a stream ('-' reads standard input).
 */
import { StartupError } from '../errors.js';
import { openCapture, pump, readHead, type ByteInput, type ReadProgress, type RecordParser } from './file-reader.js';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US, PcapParser } from './pcap.js';
import { PCAPNG_SHB, PcapngParser } from './pcapng.js';
import { newFrame, type Frame, type PacketSource, type PcapRecordFormat, type RunOptions, type SourceEnd, type SourceStats } from './types.js';

export type CaptureFormat = 'pcap' | 'pcapng';

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export function detectFormat(head: Buffer): CaptureFormat | undefined {
  if (head.length < 4) return undefined;
  const le = head.readUInt32LE(0);
  const be = head.readUInt32BE(0);
  if (le === PCAPNG_SHB) return 'pcapng';
  if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) return 'pcap';
  return undefined;
}

export class FileSource implements PacketSource {
  readonly description: string;
  private stopped = false;
  private frames = 0;
  private bytes = 0;
  private readonly progress: ReadProgress = { position: 0, size: 0 };
  private parser: RecordParser | undefined;
  /** Opened by open() ahead of run(), and its first bytes when it is a regular file. */
  private opened: ByteInput | undefined;
  private head: { bytes: Buffer; format: CaptureFormat } | undefined;
  /** The input being read, so that stop() can end a read waiting on an idle pipe. */
  private reading: ByteInput | undefined;

  constructor(private readonly path: string) {
    this.description = path === '-' ? 'standard input' : path;
  }

  /**
   * Opens the capture now (run() does it otherwise), so that a missing or unreadable file is
   * reported before anything else happens, such as an output file being created or emptied.
   */
  async open(): Promise<void> {
    this.opened ??= await openCapture(this.path);
    // A file that is not a capture at all is refused here too (a pipe's first bytes may be long in coming: run() checks those).
    if (this.opened.regular && this.head === undefined) this.head = await this.sniff(this.opened);
  }

  /** The first bytes of the input, which must name a capture format (they are handed to the reader as a prefix). */
  private async sniff(input: ByteInput): Promise<{ bytes: Buffer; format: CaptureFormat }> {
    const bytes = await readHead(input, 4);
    const format = detectFormat(bytes);
    if (format === undefined) {
      // gzip's magic: a compressed capture (capture.pcap.gz) is common, and "unknown magic number" said nothing of it.
      if (isGzip(bytes)) {
        const name = this.description;
        throw new StartupError('E_INPUT', `${name} is compressed with gzip`, /\.csv\.gz$/i.test(name)
          ? `decompress it first (gunzip -k ${name}) and give ${name.slice(0, -3)}`
          : `decompress it first, or stream it: zcat ${name} | eta-sensor ${process.argv[2] ?? 'extract'} -`);
      }
      const what = bytes.length < 4 ? 'the file is empty or shorter than a capture header' : 'unknown magic number';
      throw new StartupError('E_INPUT', `${this.description} is not a pcap or pcapng capture (${what})`,
        'give a libpcap (.pcap) or pcapng (.pcapng) capture; a feature CSV is read by `replay` when its name ends in .csv');
    }
    return { bytes, format };
  }

  /** sniff(), or undefined when stop() came before the first bytes did (Ctrl-C on a pipe whose writer sent nothing). */
  private async sniffUnlessStopped(input: ByteInput): Promise<{ bytes: Buffer; format: CaptureFormat } | undefined> {
    try {
      return await this.sniff(input);
    } catch (e) {
      if (this.stopped) return undefined;
      throw e;
    }
  }

  async run(onFrame: (frame: Frame) => void, opts: RunOptions = {}): Promise<SourceEnd> {
    const input = this.opened ?? (await openCapture(this.path));
    this.opened = undefined;
    this.reading = input;
    this.progress.size = input.size;
    try {
      // Stopped before now (Ctrl-C while starting): stop() had no input to interrupt, and a pipe
      // whose writer sends nothing would be waited on for ever. Found by review.
      if (this.stopped) return { reason: 'stopped' };
      return await this.read(input, onFrame, opts);
    } finally {
      await input.close();
    }
  }

  private async read(input: ByteInput, onFrame: (frame: Frame) => void, opts: RunOptions): Promise<SourceEnd> {
    // A pipe cannot be re-read from offset 0: the sniffed bytes are handed to the reader as a prefix.
    const sniffed = this.head ?? (await this.sniffUnlessStopped(input));
    if (sniffed === undefined) return { reason: 'stopped' };
    const { bytes: head, format } = sniffed;
    this.head = undefined;
    const frame = newFrame();
    const count = (f: Frame): void => {
      this.frames++;
      this.bytes += f.wireLength; // bytes on the wire, as live capture counts them (not the captured part)
      onFrame(f);
    };
    const bulk = opts.pcapBulk;
    const counted = bulk
      ? (buf: Buffer, start: number, end: number, f: PcapRecordFormat): number => {
        const r = bulk.pcapRecords(buf, start, end, f);
        this.frames += r.frames;
        this.bytes += r.bytes;
        return r.end;
      }
      : undefined;
    this.parser = format === 'pcap' ? new PcapParser(frame, count, counted) : new PcapngParser(frame, count);
    return pump(input, this.parser, () => this.stopped, this.progress, opts.between, head);
  }

  stop(): void {
    this.stopped = true;
    this.reading?.interrupt?.();
  }

  stats(): SourceStats {
    const skipped = this.parser instanceof PcapngParser ? { ...this.parser.skipped } : {};
    return {
      frames: this.frames,
      bytes: this.bytes,
      progress: this.progress.size > 0 ? this.progress.position / this.progress.size : undefined,
      skipped,
      linkTypes: this.parser?.linkTypes ?? [],
      untimed: this.parser instanceof PcapngParser ? this.parser.untimed : 0,
    };
  }
}
