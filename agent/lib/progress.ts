/**
 * A one-line progress display for long work on a terminal (stderr). It draws
 * at most every 200 ms and only when the stream is a TTY, so piping output
 * or running under systemd shows nothing.
 */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): boolean;
}

export class Progress {
  private last = 0;
  private readonly started = Date.now();
  private shown = false;

  constructor(
    private readonly out: ProgressStream,
    private readonly enabled = out.isTTY === true,
  ) {}

  /**
   * Whether update() would draw now. Callers on a per-chunk path check it before gathering the
   * figures to show: reading counters thousands of times per second for nothing cost 3% of extract.
   */
  due(): boolean {
    return this.enabled && Date.now() - this.last >= 200;
  }

  /** `fraction` in 0..1 when known (gives the bar and the ETA); `text` follows the bar. */
  update(fraction: number | undefined, text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < 200) return;
    this.last = now;
    const elapsed = (now - this.started) / 1000;
    let line = '';
    if (fraction !== undefined && Number.isFinite(fraction)) {
      const f = Math.min(1, Math.max(0, fraction));
      const width = 24;
      const fill = Math.round(f * width);
      const eta = f > 0.01 ? elapsed / f - elapsed : NaN;
      line = `[${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${(f * 100).toFixed(0).padStart(3)}% `;
      line += `${text}  ${formatSeconds(elapsed)} elapsed${Number.isFinite(eta) ? `, ETA ${formatSeconds(eta)}` : ''}`;
    } else {
      line = `${text}  ${formatSeconds(elapsed)} elapsed`;
    }
    const cols = this.columns();
    this.out.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length + 2))}`);
    this.shown = true;
  }

  /** Clear the line so the summary starts clean. */
  done(): void {
    if (this.enabled && this.shown) this.out.write(`\r${' '.repeat(this.columns() - 1)}\r`);
  }

  /**
   * The terminal's width, 100 when it does not say: a pseudo-terminal without a window size
   * (script(1), some CI runners) reports 0 columns, which ended extract, replay and evaluate with
   * "Invalid count value: -1" (found by review).
   */
  private columns(): number {
    const c = this.out.columns;
    return c !== undefined && Number.isFinite(c) && c >= 2 ? c : 100;
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** 1234567 → "1.23M" */
export function compact(n: number): string {
  if (n < 1e3) return String(Math.round(n));
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 2 : 1)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}
