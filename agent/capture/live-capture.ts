/**
 * The native libpcap binding of live capture (native/live_capture.c; why not `cap` is said
 * there). Loaded on first use, so that commands without live capture never need it.
 */
import { StartupError } from '../errors.js';
import { loadAddon } from '../lib/addon.js';

export interface OpenedCapture {
  readonly handle: unknown;
  /** libpcap's DLT_ value. */
  readonly linkType: number;
  /** The capture socket's descriptor (its kernel drop counter is read from it). */
  readonly fd: number;
  /** A warning from pcap_activate (e.g. promiscuous mode not supported), or "". */
  readonly warning: string;
}

interface Native {
  open(device: string, filter: string, snaplen: number, promisc: boolean, bufferBytes: number, buffer: Buffer,
    onPacket: (capLength: number, wireLength: number, tsMicros: number) => void, onError: (message: string) => void): OpenedCapture;
  close(handle: unknown): void;
  /** libpcap's message for a filter it cannot compile for this link type, or undefined. */
  checkFilter(filter: string, linkType: number, snaplen: number): string | undefined;
}

let native: Native | undefined;

export function liveCapture(): Native {
  native ??= loadAddon<Native>('live_capture', 'live capture module', (reason) => new StartupError('E_CAPTURE', `the live capture module is not built: ${reason}`,
    'install libpcap-dev, then run `npm ci` (or `npx node-gyp rebuild`) in the eta-sensor directory'));
  return native;
}
