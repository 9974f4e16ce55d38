/** The human end-of-run summary shared by extract and replay. */
import type { SourceEnd, SourceStats } from '../capture/types.js';
import type { MeterStats } from '../flows/meter.js';
import { undecodedLinkTypes } from '../capture/link-types.js';

export interface RunSummary extends MeterStats {
  input: string;
  rows: number;
  seconds: number;
  sourceSkipped: Record<string, number>;
  /** Packets without a timestamp (SourceStats.untimed). */
  untimed?: number;
  /** The input's link types (SourceStats.linkTypes). */
  linkTypes?: readonly number[];
  end: SourceEnd;
  /** Peak resident memory of the process (KiB). */
  maxRssKiB: number;
  /** CPU time of the whole process, all threads (user + system, seconds). */
  cpuSeconds: number;
}

/** What to do about a capture that ends in damage or is cut short (extract and replay say it; found by review: no fix was named). */
export const DAMAGED_CAPTURE_FIX = 'the rest of the file cannot be read: if it was cut short (a capture still being written, an interrupted copy), copy it whole again; '
  + 'otherwise the flows before the damage are all it holds';

/** What a summary says of packets without a timestamp (pcapng Simple Packet Blocks). */
function untimedText(n: number): string {
  return `${n.toLocaleString('en-US')} packet${n > 1 ? 's' : ''} carried no timestamp (pcapng Simple Packet Blocks) and took the one before (1970 before any): their flows' times and timing features are not real`;
}

/**
 * What replay's one-line summary says the input lacked: frames skipped by reason (naming a link
 * type not decoded), packets without a timestamp; '' when nothing. summaryText says the same for extract.
 */
export function inputShortfalls(skipped: ReadonlyArray<readonly [string, number]>, src: SourceStats | undefined): string {
  const total = skipped.reduce((a, [, n]) => a + n, 0);
  const undecoded = skipped.some(([k]) => k === 'unknown-link-type') ? `: ${undecodedLinkTypes(src?.linkTypes ?? [])}` : '';
  return (total ? `; ${total.toLocaleString('en-US')} frames skipped (${skipped.map(([k, n]) => `${k} ${n}`).join(', ')})${undecoded}` : '')
    + (src?.untimed ? `; ${untimedText(src.untimed)}` : '');
}

function list(rec: Record<string, number>): string {
  const parts = Object.entries(rec).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`);
  return parts.length ? parts.join(', ') : 'none';
}

export function summaryText(s: RunSummary): string {
  const skipped = { ...s.skipped, ...s.sourceSkipped };
  const nSkipped = Object.values(skipped).reduce((a, b) => a + b, 0);
  const rate = s.seconds > 0 ? Math.round(s.frames / s.seconds).toLocaleString('en-US') : '-';
  const lines = [
    `${s.input}: ${s.frames.toLocaleString('en-US')} packets read, ${s.packets.toLocaleString('en-US')} in flows, ${nSkipped.toLocaleString('en-US')} skipped (${list(skipped)})`,
    `  ${s.rows.toLocaleString('en-US')} flows written; ended by: ${list(s.flowsEnded)}`,
    `  ${s.seconds.toFixed(2)} s, ${rate} packets/s${s.clockJumps ? `; the capture's clock jumped backwards ${s.clockJumps} times (rebased)` : ''}`,
  ];
  if (s.clockHeld) lines.push(`  ${s.clockHeld.toLocaleString('en-US')} packet${s.clockHeld > 1 ? 's' : ''} stamped more than 1 s before the one ahead, alone: placed at the clock (bad timestamps)`);
  if (s.untimed) lines.push(`  ${untimedText(s.untimed)}`);
  if (skipped['unknown-link-type']) lines.push(`  ${undecodedLinkTypes(s.linkTypes ?? [])}`);
  if (Object.keys(s.metaErrors).length > 0) lines.push(`  handshakes not read: ${list(s.metaErrors)}`);
  if (s.end.reason === 'stopped') lines.push('  stopped before the end of the input (signal)');
  return lines.join('\n') + '\n';
}
