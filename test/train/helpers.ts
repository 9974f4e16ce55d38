/** Shared test helpers: synthetic flow CSVs, a captured CommandIO, temp dirs. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { CommandIO } from '../../agent/commands/command.js';
import { Rng } from '../../agent/train/rng.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'eta-train-'));
}

export interface Synthetic {
  readonly header: string[];
  readonly rows: string[][];
}

/**
 * Flows in our own CSV layout: identity columns, metadata, numeric features,
 * label `app` and group `pcap`. With `separable`, feature f0 alone decides the
 * class (class k has f0 in [10k, 10k + 5)); the other features are noise.
 */
export function synthetic(opts: { rows: number; classes: number; features: number; seed: number; separable: boolean }): Synthetic {
  const rng = new Rng(opts.seed);
  const feats = Array.from({ length: opts.features }, (_, i) => `f${i}`);
  const header = ['src_ip', 'src_port', 'dst_ip', 'dst_port', 'proto', 'first_ts', 'sni', ...feats, 'pcap', 'app'];
  const rows: string[][] = [];
  for (let r = 0; r < opts.rows; r++) {
    const k = r % opts.classes;
    const values = feats.map((_, f) =>
      f === 0 && opts.separable ? (10 * k + rng.float() * 5).toFixed(3) : (rng.float() * 100).toFixed(2));
    rows.push([
      `10.0.${r >> 8}.${r & 255}`, String(1024 + rng.int(60000)), '192.0.2.1', '443', '6', String(1.7e9 + r),
      `host${k}.example`, ...values, `cap${r % 17}.pcap`, `app${k}`,
    ]);
  }
  return { header, rows };
}

/** Labels shuffled: same features, labels independent of them. */
export function shuffledLabels(s: Synthetic, seed: number): Synthetic {
  const rng = new Rng(seed);
  const labels = s.rows.map((r) => r[r.length - 1] as string);
  for (let i = labels.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [labels[i], labels[j]] = [labels[j] as string, labels[i] as string];
  }
  return { header: s.header, rows: s.rows.map((r, i) => [...r.slice(0, -1), labels[i] as string]) };
}

export function writeCsv(path: string, header: readonly string[], rows: readonly (readonly string[])[]): string {
  const q = (c: string): string => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
  writeFileSync(path, [header, ...rows].map((r) => r.map(q).join(',')).join('\n') + '\n');
  return path;
}

export interface CapturedIO extends CommandIO {
  out(): string;
  err(): string;
}

export function captureIO(): CapturedIO {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb): void {
        add(chunk.toString());
        cb();
      },
    });
  return {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    env: { SOURCE_DATE_EPOCH: '1700000000' },
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  };
}

/**
 * `eta-sensor train` as the tests run it when the model itself is not the point: a forest of 3
 * trees on 1 thread, every class kept. `args` names the data, label and output (and any other option).
 */
export async function quickTrain(args: readonly string[]): Promise<CapturedIO & { code: number }> {
  const { main } = await import('../../agent/cli.js');
  const io = captureIO();
  const code = await main(['train', ...args, '--trees', '3', '--threads', '1', '--min-class-flows', '1'], io);
  return { ...io, code };
}
