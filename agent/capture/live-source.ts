/**
 * Live capture through libpcap (native/live_capture.c) on one or more
 * interfaces, all feeding one callback. libpcap applies the BPF filter in the
 * kernel and copies at most `snaplen` bytes of each frame into a
 * per-interface buffer; frames carry the kernel's timestamp and their length
 * on the wire.
 *
 * An interface that goes down or away mid-capture (`ip link set eth1 down`,
 * a PPP link dropping) ends only its own capture: it is reported through
 * `onEvent`, the others go on, and it is reopened every `retrySeconds` until
 * it is back. So is one that is down at start (libpcap: "not up"): a gateway's
 * second link down must not keep the others from being captured (it stopped the
 * whole daemon, which systemd restarted every 5 s: found by review). Any other
 * failure to open at start is a StartupError: a typo in capture.interfaces must
 * not pass for a link that is down.
 */
import { StartupError } from '../errors.js';
import { liveCapture, type OpenedCapture } from './live-capture.js';
import { linkTypeFromDlt } from './link-types.js';
import { interfaceDrops, readSocketStats } from './packet-socket.js';
import { newFrame, type Frame, type PacketSource, type SourceEnd, type SourceStats } from './types.js';

export interface LiveOptions {
  interfaces: readonly string[];
  filter: string;
  snaplen: number;
  promiscuous: boolean;
  bufferSize: number;
  /** Seconds between attempts to reopen an interface whose capture stopped (default 5). */
  retrySeconds?: number;
  /** Told when an interface's capture stops, and when it resumes. */
  onEvent?: (e: LiveEvent) => void;
}

export interface LiveEvent {
  readonly iface: string;
  /** retry_failed: a reopen refused for another reason than the interface being down or absent (each new reason once). */
  readonly kind: 'stopped' | 'resumed' | 'retry_failed';
  readonly message: string;
}

interface Handle {
  readonly name: string;
  readonly index: number;
  readonly buf: Buffer;
  readonly frame: Frame;
  opened: OpenedCapture | undefined;
  ifDropsAtStart: number | undefined;
  kernelDrops: number;
  /** The last reopen's refusal, said once while it stays the same. */
  retryError?: string;
}

export class LiveSource implements PacketSource {
  readonly description: string;
  private handles: Handle[] = [];
  private frames = 0;
  /** Frames read before run() gave a consumer: counted as skipped (before_start), not lost silently. */
  private beforeStart = 0;
  private bytes = 0;
  private onFrame: ((frame: Frame) => void) | undefined;
  /** Kernel and interface drops of captures already closed (stats stay readable after stop). */
  private closedKernel: number | undefined;
  private closedIface: number | undefined;
  private finish: ((end: SourceEnd) => void) | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** stop() was called: nothing opens again (a retry tick or an event handler may run after it). */
  private stopping = false;
  /** Warnings found while opening (e.g. promiscuous mode not supported). */
  readonly warnings: string[] = [];

  constructor(private readonly opts: LiveOptions) {
    this.description = `live ${opts.interfaces.join(', ')}`;
  }

  /** Opens every interface; throws a StartupError naming the fix. Called by run(), or earlier to fail fast. */
  open(): void {
    if (this.handles.length > 0 || this.stopping) return;
    this.opts.interfaces.forEach((name, index) => {
      const frame = newFrame();
      const h: Handle = { name, index, buf: Buffer.alloc(this.opts.snaplen), frame, opened: undefined, ifDropsAtStart: undefined, kernelDrops: 0 };
      frame.buf = h.buf;
      frame.iface = index;
      this.handles.push(h);
      try {
        this.openOne(h);
      } catch (e) {
        if (!(e instanceof StartupError) && isDown((e as Error).message)) {
          this.opts.onEvent?.({ iface: name, kind: 'stopped', message: (e as Error).message });
          return; // retried once running, as a link that went down is
        }
        this.close();
        // The binding missing is its own StartupError with its own fix; libpcap's refusals get one here.
        throw e instanceof StartupError ? e : startupError(name, (e as Error).message);
      }
    });
  }

  private openOne(h: Handle): void {
    const opened = liveCapture().open(h.name, this.opts.filter, this.opts.snaplen, this.opts.promiscuous, this.opts.bufferSize, h.buf,
      (capLength, wireLength, ts) => this.packet(h, capLength, wireLength, ts), (message) => this.stopped(h, message));
    const linkType = linkTypeFromDlt(opened.linkType);
    if (linkType === undefined) {
      liveCapture().close(opened.handle);
      throw new Error(`link type ${opened.linkType} (DLT) is not supported`);
    }
    if (opened.warning) this.warnings.push(`${h.name}: ${opened.warning}`);
    h.frame.linkType = linkType;
    h.opened = opened;
    readSocketStats(opened.fd); // the kernel's counters reset on read: start from zero now
    h.ifDropsAtStart = interfaceDrops(h.name);
  }

  private packet(h: Handle, capLength: number, wireLength: number, ts: number): void {
    const f = h.frame;
    f.offset = 0;
    f.capLength = capLength;
    f.wireLength = wireLength;
    f.ts = ts;
    this.frames++;
    this.bytes += wireLength;
    if (this.onFrame) this.onFrame(f);
    else this.beforeStart++; // read between open() and run() (run opens the sink in between): counted, not metered
  }

  /** The interface went down or away: close its capture, say so, and try again later. */
  private stopped(h: Handle, message: string): void {
    this.retire(h);
    this.opts.onEvent?.({ iface: h.name, kind: 'stopped', message });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retry || this.finish === undefined || this.stopping) return;
    this.retry = setInterval(() => {
      for (const h of [...this.handles]) {
        if (this.stopping) return; // an event handler below may have stopped the source
        if (h.opened) continue;
        try {
          this.openOne(h);
          h.retryError = undefined;
          this.opts.onEvent?.({ iface: h.name, kind: 'resumed', message: 'capture reopened' });
        } catch (e) {
          // Still down or absent is what "stopped" said. Another refusal (the filter does not compile
          // for what the interface came back as, a permission) is said, once (found by review:
          // swallowed, and the interface was never captured again without a word).
          const msg = (e as Error).message;
          if (isDown(msg) || isAbsent(msg)) continue;
          const err = startupError(h.name, msg);
          const why = `${err.message} (fix: ${err.hint})`;
          if (why !== h.retryError) this.opts.onEvent?.({ iface: h.name, kind: 'retry_failed', message: why });
          h.retryError = why;
        }
      }
      if (this.handles.every((h) => h.opened)) {
        clearInterval(this.retry);
        this.retry = undefined;
      }
    }, (this.opts.retrySeconds ?? 5) * 1000).unref();
  }

  run(onFrame: (frame: Frame) => void): Promise<SourceEnd> {
    if (this.stopping) return Promise.resolve({ reason: 'stopped' }); // stopped before it started
    this.open();
    this.onFrame = onFrame;
    return new Promise((resolve) => {
      this.finish = resolve;
      // An interface that went down between open() and run() is retried from now on.
      if (this.handles.some((h) => !h.opened)) this.scheduleRetry();
    });
  }

  stop(): void {
    this.stopping = true;
    this.close();
    const f = this.finish;
    this.finish = undefined;
    f?.({ reason: 'stopped' });
  }

  /** Closes one capture, keeping its counters. */
  private retire(h: Handle): void {
    if (!h.opened) return;
    this.pollKernel();
    this.closedKernel = (this.closedKernel ?? 0) + h.kernelDrops;
    const d = ifaceDropsSinceOpen(h);
    if (d !== undefined) this.closedIface = (this.closedIface ?? 0) + d;
    h.kernelDrops = 0;
    liveCapture().close(h.opened.handle);
    h.opened = undefined;
  }

  private close(): void {
    clearInterval(this.retry);
    this.retry = undefined;
    for (const h of this.handles) this.retire(h);
    this.handles = [];
  }

  /** Accumulate the kernel's counters (they reset on each read). */
  private pollKernel(): void {
    for (const h of this.handles) {
      if (!h.opened) continue;
      const st = readSocketStats(h.opened.fd);
      if (st) h.kernelDrops += st.drops;
    }
  }

  stats(): SourceStats {
    this.pollKernel();
    let kernel = this.closedKernel;
    let iface = this.closedIface;
    for (const h of this.handles) {
      if (!h.opened) continue;
      kernel = (kernel ?? 0) + h.kernelDrops;
      const d = ifaceDropsSinceOpen(h);
      if (d !== undefined) iface = (iface ?? 0) + d;
    }
    return { frames: this.frames, bytes: this.bytes, skipped: this.beforeStart > 0 ? { before_start: this.beforeStart } : {}, kernelDrops: kernel, ifaceDrops: iface };
  }
}

/** Drops the interface itself counted since its capture opened (sysfs), if known. */
function ifaceDropsSinceOpen(h: Handle): number | undefined {
  const now = interfaceDrops(h.name);
  return now !== undefined && h.ifDropsAtStart !== undefined ? now - h.ifDropsAtStart : undefined;
}

/** libpcap's refusal of an interface that exists but is down (PCAP_ERROR_IFACE_NOT_UP). */
function isDown(msg: string): boolean {
  return /not up/i.test(msg);
}

/** libpcap's refusal of an interface this machine does not have (now). */
function isAbsent(msg: string): boolean {
  return /no such device|doesn't exist|not found/i.test(msg);
}

function startupError(name: string, msg: string): StartupError {
  const permission = /permission|not permitted/i.test(msg);
  const device = !permission && isAbsent(msg);
  // A filter libpcap cannot compile is the configuration as written (E_CONFIG, exit 2, which the
  // unit does not restart on: check-config says the same), not a capture that may work next time.
  const filter = !permission && !device && /filter|syntax|parse/i.test(msg);
  const hint = permission
    // Not setcap on the system's node (found by review): that gave raw sockets to every user who can run node.
    ? 'capture needs CAP_NET_RAW: run as root, or install the systemd unit (it grants exactly that to the service alone)'
    : device
      ? 'list the interfaces with `ip link` and set capture.interfaces'
      : filter
        ? 'fix capture.filter (tcpdump filter syntax; test it with `tcpdump -d "<filter>"`)'
        : /not supported/i.test(msg)
          ? 'capture on an Ethernet, loopback, cooked or raw-IP interface'
          : 'check capture.interfaces and capture.filter';
  return new StartupError(filter ? 'E_CONFIG' : 'E_CAPTURE', `cannot capture on ${name}: ${msg}`, hint);
}
