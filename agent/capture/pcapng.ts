/**
 * pcapng: blocks of (type, total length, body, total length). Several
 * sections, several interfaces with their own link type and timestamp
 * resolution, in any order the format allows. Unknown block types are skipped
 * by their length; packets on an interface that was never described are
 * counted and skipped (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html).
 */
import type { RecordParser } from './file-reader.js';
import type { Frame } from './types.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const IDB = 1;
const PB = 2; // obsolete Packet Block
const SPB = 3;
const EPB = 6;

interface Iface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per second (if_tsresol), and the multiplier from units to µs. */
  unitsPerSec: number;
  toMicros: number;
  offsetMicros: number;
}

export class PcapngParser implements RecordParser {
  need = 0;
  error: string | null = null;
  /** Frames skipped by reason (e.g. packets on undescribed interfaces). */
  readonly skipped: Record<string, number> = {};
  /** Packets without a timestamp (Simple Packet Blocks), given the one before them. */
  untimed = 0;
  private le = true;
  private sectionSeen = false;
  private ifaces: Iface[] = [];
  /** Every section's link types: a section header clears `ifaces`, and the summary names those not decoded. */
  private readonly declared = new Set<number>();
  private lastTs = 0;

  constructor(
    private readonly frame: Frame,
    private readonly onFrame: (f: Frame) => void,
  ) {}

  private u32(buf: Buffer, p: number): number {
    return this.le ? buf.readUInt32LE(p) : buf.readUInt32BE(p);
  }

  private u16(buf: Buffer, p: number): number {
    return this.le ? buf.readUInt16LE(p) : buf.readUInt16BE(p);
  }

  get linkTypes(): readonly number[] {
    return [...this.declared];
  }

  private skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }

  parse(buf: Buffer, start: number, end: number): number {
    let p = start;
    while (end - p >= 12) {
      const type0 = buf.readUInt32LE(p);
      if (type0 === PCAPNG_SHB) {
        // The byte order of a section is only known from its header block.
        const bom = buf.readUInt32LE(p + 8);
        if (bom === BYTE_ORDER_MAGIC) this.le = true;
        else if (buf.readUInt32BE(p + 8) === BYTE_ORDER_MAGIC) this.le = false;
        else {
          this.error = 'corrupt pcapng section header (bad byte-order magic)';
          return p;
        }
        this.sectionSeen = true;
        this.ifaces = [];
      } else if (!this.sectionSeen) {
        this.error = 'not a pcapng file (no section header block)';
        return p;
      }
      const type = this.u32(buf, p);
      const len = this.u32(buf, p + 4);
      if (len < 12 || len % 4 !== 0) {
        this.error = `corrupt pcapng block: length ${len} is not a multiple of 4 of at least 12`;
        return p;
      }
      if (end - p < len) {
        this.need = len;
        return p;
      }
      if (this.u32(buf, p + len - 4) !== len) {
        this.error = `corrupt pcapng block: leading length ${len} and trailing length ${this.u32(buf, p + len - 4)} differ`;
        return p;
      }
      if (type === IDB) this.interfaceBlock(buf, p, len);
      else if (type === EPB) this.packet(buf, p, len, this.u32(buf, p + 8), p + 12, 28);
      else if (type === PB) this.packet(buf, p, len, this.u16(buf, p + 8), p + 12, 28);
      else if (type === SPB) this.simplePacket(buf, p, len);
      p += len;
    }
    this.need = Math.max(this.need, 12);
    return p;
  }

  private interfaceBlock(buf: Buffer, p: number, len: number): void {
    if (len < 20) {
      this.skip('bad-interface-block');
      this.ifaces.push({ linkType: -1, snapLen: 0, unitsPerSec: 1e6, toMicros: 1, offsetMicros: 0 });
      return;
    }
    const iface: Iface = { linkType: this.u16(buf, p + 8), snapLen: this.u32(buf, p + 12), unitsPerSec: 1e6, toMicros: 1, offsetMicros: 0 };
    // Options: code u16, length u16, value padded to 32 bits; ends at opt_endofopt or the block end.
    let o = p + 16;
    const optEnd = p + len - 4;
    while (o + 4 <= optEnd) {
      const code = this.u16(buf, o);
      const olen = this.u16(buf, o + 2);
      if (code === 0 || o + 4 + olen > optEnd) break;
      if (code === 9 && olen >= 1) {
        const r = buf[o + 4]!;
        iface.unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
        iface.toMicros = 1e6 / iface.unitsPerSec;
      } else if (code === 14 && olen >= 8) {
        const hi = this.le ? buf.readInt32LE(o + 8) : buf.readInt32BE(o + 4);
        const lo = this.le ? buf.readUInt32LE(o + 4) : buf.readUInt32BE(o + 8);
        iface.offsetMicros = (hi * 4294967296 + lo) * 1e6;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    this.ifaces.push(iface);
    this.declared.add(iface.linkType);
  }

  private packet(buf: Buffer, p: number, len: number, ifaceId: number, tsAt: number, hdr: number): void {
    // Too short for its fixed fields: the interface id and lengths read would be the next block's.
    if (len < hdr + 4) {
      this.skip('bad-packet-block');
      return;
    }
    const iface = this.ifaces[ifaceId];
    if (iface === undefined || iface.linkType < 0) {
      this.skip('unknown-interface');
      return;
    }
    const capLen = this.u32(buf, tsAt + 8);
    const wireLen = this.u32(buf, tsAt + 12);
    if (capLen > len - hdr - 4) {
      this.skip('bad-packet-block');
      return;
    }
    const hi = this.u32(buf, tsAt);
    const lo = this.u32(buf, tsAt + 4);
    // Below 2^53 units the count is exact as a double (µs until the year 2255); nanoseconds are past it.
    const micros = hi < 0x200000 ? (hi * 4294967296 + lo) * iface.toMicros : beyond53(hi, lo, iface.unitsPerSec);
    this.emit(buf, p + hdr, capLen, wireLen, micros + iface.offsetMicros, ifaceId, iface.linkType);
  }

  private simplePacket(buf: Buffer, p: number, len: number): void {
    if (len < 16) {
      this.skip('bad-packet-block');
      return;
    }
    const iface = this.ifaces[0];
    if (iface === undefined || iface.linkType < 0) {
      this.skip('unknown-interface');
      return;
    }
    const wireLen = this.u32(buf, p + 8);
    let capLen = Math.min(wireLen, len - 16);
    if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
    // A simple packet block has no timestamp: it gets the previous packet's, so the flow clock never
    // jumps; counted, for the summary to say its flows' times are not real (found by review: a file
    // of these alone dated every flow 1970, its timing features 0, without a word).
    this.untimed++;
    this.emit(buf, p + 12, capLen, wireLen, this.lastTs, 0, iface.linkType);
  }

  private emit(buf: Buffer, off: number, capLen: number, wireLen: number, ts: number, ifaceId: number, linkType: number): void {
    // The checks above keep frames inside their block; this one keeps a slip there from stopping the run.
    if (!(capLen >= 0) || off + capLen > buf.length) {
      this.skip('bad-packet-block');
      return;
    }
    const f = this.frame;
    f.buf = buf;
    f.offset = off;
    f.capLength = capLen;
    f.wireLength = wireLen < capLen ? capLen : wireLen;
    f.ts = ts;
    this.lastTs = ts;
    f.iface = ifaceId;
    f.linkType = linkType;
    this.onFrame(f);
  }
}

/**
 * hi * 2^32 + lo units (past 2^53) in µs, from the whole seconds and the rest, as a nanosecond
 * pcap's two fields give them: the 64-bit count as one double was rounded to 256 ns first, so a
 * pcapng and the same packets saved as pcap had times (and features) apart by up to 0.25 µs
 * (found by review). Long division 16 bits at a time keeps every step below 2^53; not BigInt,
 * on every packet of a nanosecond capture.
 */
function beyond53(hi: number, lo: number, per: number): number {
  if (!Number.isInteger(per) || per > 2 ** 31) return (hi * 4294967296 + lo) * (1e6 / per);
  let q = 0;
  let r = 0;
  for (const digit of [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff]) {
    const n = r * 65536 + digit; // < 2^47
    let d = Math.floor(n / per);
    r = n - d * per;
    if (r < 0) {
      // the quotient rounded up to the next integer
      d--;
      r += per;
    }
    q = q * 65536 + d;
  }
  return q * 1e6 + (r * 1e6) / per;
}
