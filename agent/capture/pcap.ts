/**
 * Classic libpcap file format: a 24-byte file header, then records of a
 * 16-byte header and the frame. Both byte orders, micro- and nanosecond
 * timestamps (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-03.html).
 */
import type { RecordParser } from './file-reader.js';
import type { Frame, PcapRecordFormat } from './types.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;

/** libpcap refuses records larger than this (MAXIMUM_SNAPLEN); a larger one means a corrupt length field. */
const MAX_CAPLEN = 262144;

function u32le(b: Buffer, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function u32be(b: Buffer, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export class PcapParser implements RecordParser {
  need = 0;
  error: string | null = null;
  private headerDone = false;
  private le = true;
  private tsDiv = 1; // fraction field units per microsecond (1 for µs, 1000 for ns)
  private linkType = -1;
  private snapLen = 0;

  private readonly format: PcapRecordFormat = { linkType: 0, littleEndian: true, tsDivisor: 1, maxCapLength: MAX_CAPLEN };

  /** `bulk`: reads whole records itself and returns where it stopped (see PcapBulk); the loop here handles the rest. */
  constructor(
    private readonly frame: Frame,
    private readonly onFrame: (f: Frame) => void,
    private readonly bulk?: (buf: Buffer, start: number, end: number, format: PcapRecordFormat) => number,
  ) {}

  /** The link type the header declares (none before it is read). */
  get linkTypes(): readonly number[] {
    return this.linkType < 0 ? [] : [this.linkType];
  }

  parse(buf: Buffer, start: number, end: number, _base: number, eof: boolean): number {
    let p = start;
    if (!this.headerDone) {
      if (end - p < 24) {
        this.need = 24;
        return p;
      }
      const m = buf.readUInt32LE(p);
      if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) this.le = true;
      else if (buf.readUInt32BE(p) === PCAP_MAGIC_US || buf.readUInt32BE(p) === PCAP_MAGIC_NS) this.le = false;
      else {
        this.error = 'not a pcap file (bad magic number)';
        return p;
      }
      const magic = this.le ? m : buf.readUInt32BE(p);
      this.tsDiv = magic === PCAP_MAGIC_NS ? 1000 : 1;
      this.snapLen = this.le ? buf.readUInt32LE(p + 16) : buf.readUInt32BE(p + 16);
      // The upper bits of the link-type field may carry FCS information; the type is the low 16 bits.
      this.linkType = (this.le ? buf.readUInt32LE(p + 20) : buf.readUInt32BE(p + 20)) & 0xffff;
      this.frame.linkType = this.linkType;
      this.frame.iface = 0;
      this.headerDone = true;
      p += 24;
    }
    const le = this.le;
    const frame = this.frame;
    const maxCap = Math.max(MAX_CAPLEN, this.snapLen);
    if (this.bulk) {
      const f = this.format;
      f.linkType = this.linkType;
      f.littleEndian = le;
      f.tsDivisor = this.tsDiv;
      f.maxCapLength = maxCap;
      p = this.bulk(buf, p, end, f);
    }
    while (end - p >= 16) {
      // Direct byte reads: Buffer.readUInt32LE's bounds checks cost more than the rest of this loop.
      const sec = le ? u32le(buf, p) : u32be(buf, p);
      const frac = le ? u32le(buf, p + 4) : u32be(buf, p + 4);
      const capLen = le ? u32le(buf, p + 8) : u32be(buf, p + 8);
      const wireLen = le ? u32le(buf, p + 12) : u32be(buf, p + 12);
      if (capLen > maxCap) {
        this.error = `corrupt record: captured length ${capLen} exceeds the maximum ${maxCap}`;
        return p;
      }
      let take = capLen;
      if (end - p < 16 + capLen) {
        if (!eof) {
          this.need = 16 + capLen;
          return p;
        }
        // The file ends inside this record: keep what is there (as a snap-length cut would), then report it.
        take = end - p - 16;
        this.error = `truncated capture: the last record claims ${capLen} bytes but the file ends after ${take}`;
      }
      frame.buf = buf;
      frame.offset = p + 16;
      frame.capLength = take;
      frame.wireLength = wireLen < take ? take : wireLen;
      frame.ts = sec * 1e6 + frac / this.tsDiv;
      this.onFrame(frame);
      if (this.error !== null) return p;
      p += 16 + capLen;
    }
    if (p < end || this.need === 0) this.need = 16;
    return p;
  }
}
