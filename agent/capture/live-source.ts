/**
 * Live capture through `cap` (libpcap) on one or more interfaces, all feeding
 * one callback. libpcap applies the BPF filter in the kernel; frames are
 * copied into a per-interface buffer of `snaplen` bytes (cap's copy length is
 * the buffer's size, which makes it our snap length).
 *
 * cap hands over no timestamps, so frames are stamped on arrival with the
 * high-resolution wall clock (µs); cap delivers packets as soon as the kernel
 * has them (immediate mode), so the stamp is close to the kernel's.
 */
import capPkg from 'cap';
import { StartupError } from '../errors.js';
import { linkTypeFromCapName } from './link-types.js';
import { findNewPacketSocket, interfaceDrops, interfaceIndex, leavePromiscuous, readSocketStats, socketFds } from './packet-socket.js';
import { newFrame, type Frame, type PacketSource, type SourceEnd, type SourceStats } from './types.js';

const { Cap } = capPkg;

export interface LiveOptions {
  interfaces: readonly string[];
  filter: string;
  snaplen: number;
  promiscuous: boolean;
  bufferSize: number;
}

interface Handle {
  name: string;
  cap: InstanceType<typeof Cap>;
  buf: Buffer;
  linkType: number;
  fd: number | undefined;
  ifDropsAtStart: number | undefined;
  kernelDrops: number;
  kernelPackets: number;
}

/** Wall clock in µs with sub-millisecond resolution (Date.now() has only ms). */
function nowMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

export class LiveSource implements PacketSource {
  readonly description: string;
  private handles: Handle[] = [];
  private frames = 0;
  private bytes = 0;
  /** Kernel and interface drops of handles already closed (stats stay readable after stop). */
  private closedKernel: number | undefined;
  private closedIface: number | undefined;
  private finish: ((end: SourceEnd) => void) | undefined;
  /** Warnings found while opening (e.g. promiscuous mode could not be turned off). */
  readonly warnings: string[] = [];

  constructor(private readonly opts: LiveOptions) {
    this.description = `live ${opts.interfaces.join(', ')}`;
  }

  /** Opens every interface; throws a StartupError naming the fix. Called by run(), or earlier to fail fast. */
  open(): void {
    if (this.handles.length > 0) return;
    for (const name of this.opts.interfaces) this.handles.push(this.openOne(name));
  }

  private openOne(name: string): Handle {
    const cap = new Cap();
    const buf = Buffer.alloc(this.opts.snaplen);
    const before = socketFds();
    let linkName: string;
    try {
      linkName = cap.open(name, this.opts.filter, this.opts.bufferSize, buf);
    } catch (e) {
      this.close();
      const msg = (e as Error).message;
      const hint = /permission|not permitted/i.test(msg)
        ? 'capture needs CAP_NET_RAW and CAP_NET_ADMIN: run as root, or install the systemd unit (it grants exactly these), or `setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))`'
        : /no such device|doesn't exist|not found/i.test(msg)
          ? `list the interfaces with \`ip link\` and set capture.interfaces`
          : /syntax|filter|parse/i.test(msg)
            ? 'fix capture.filter (tcpdump filter syntax; test it with `tcpdump -d "<filter>"`)'
            : 'check capture.interfaces and capture.filter';
      throw new StartupError('E_CAPTURE', `cannot capture on ${name}: ${msg}`, hint);
    }
    const linkType = linkTypeFromCapName(linkName);
    if (linkType === undefined) {
      cap.close();
      this.close();
      throw new StartupError('E_CAPTURE', `cannot capture on ${name}: link type ${linkName} is not supported`,
        'capture on an Ethernet, loopback, cooked or raw-IP interface');
    }
    const ifindex = interfaceIndex(name);
    const fd = findNewPacketSocket(before, ifindex);
    if (fd !== undefined) readSocketStats(fd); // the counters reset on read: start from zero now
    if (!this.opts.promiscuous) {
      if (fd === undefined || ifindex === undefined || !leavePromiscuous(fd, ifindex)) {
        this.warnings.push(`${name}: promiscuous mode could not be turned off (libpcap through cap always enables it)`);
      }
    }
    return { name, cap, buf, linkType, fd, ifDropsAtStart: interfaceDrops(name), kernelDrops: 0, kernelPackets: 0 };
  }

  run(onFrame: (frame: Frame) => void): Promise<SourceEnd> {
    this.open();
    return new Promise((resolve) => {
      this.finish = resolve;
      this.handles.forEach((h, i) => {
        const frame = newFrame();
        frame.buf = h.buf;
        frame.linkType = h.linkType;
        frame.iface = i;
        h.cap.on('packet', (nbytes: number, truncated: boolean) => {
          frame.offset = 0;
          frame.capLength = nbytes;
          frame.wireLength = nbytes;
          frame.ts = nowMicros();
          this.frames++;
          this.bytes += nbytes;
          // `truncated`: cut to snaplen, like any snapped capture; the decoder uses the headers' lengths.
          void truncated;
          onFrame(frame);
        });
      });
    });
  }

  stop(): void {
    this.close();
    const f = this.finish;
    this.finish = undefined;
    f?.({ reason: 'stopped' });
  }

  private close(): void {
    const st = this.stats();
    this.closedKernel = st.kernelDrops;
    this.closedIface = st.ifaceDrops;
    for (const h of this.handles) {
      h.cap.removeAllListeners('packet');
      h.cap.close();
    }
    this.handles = [];
  }

  /** Accumulate the kernel's counters (they reset on each read). */
  private pollKernel(): void {
    for (const h of this.handles) {
      if (h.fd === undefined) continue;
      const st = readSocketStats(h.fd);
      if (st) {
        h.kernelDrops += st.drops;
        h.kernelPackets += st.packets;
      }
    }
  }

  stats(): SourceStats {
    this.pollKernel();
    let kernel = this.closedKernel;
    let iface = this.closedIface;
    for (const h of this.handles) {
      if (h.fd !== undefined) kernel = (kernel ?? 0) + h.kernelDrops;
      const now = interfaceDrops(h.name);
      if (now !== undefined && h.ifDropsAtStart !== undefined) iface = (iface ?? 0) + (now - h.ifDropsAtStart);
    }
    return {
      frames: this.frames,
      bytes: this.bytes,
      skipped: {},
      kernelDrops: kernel,
      ifaceDrops: iface,
    };
  }
}
