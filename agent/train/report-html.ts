/**
 * Self-contained HTML evaluation report: summary, an SVG confusion matrix and
 * the per-class table. No scripts, no external assets: it opens anywhere.
 *
 * Readability with 100+ classes: classes are ordered by support (largest
 * first, `unknown` last) so the mass sits top-left; each cell's colour is its
 * share of the true class's row (so small classes are as visible as big ones);
 * cell size shrinks with the class count down to a floor and the picture
 * scrolls instead; every non-empty cell has a <title> tooltip with counts;
 * guide lines every 10 classes help follow rows and columns.
 */
import type { Metrics } from './metrics.js';

export interface ReportInfo {
  readonly title: string;
  /** Key/value lines shown above the matrix (model, data, threshold...). */
  readonly facts: ReadonlyArray<readonly [string, string]>;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** White to dark blue; v in [0, 1]. */
function colour(v: number): string {
  const t = Math.sqrt(Math.max(0, Math.min(1, v))); // sqrt: small confusions stay visible
  const r = Math.round(247 - t * (247 - 8));
  const g = Math.round(251 - t * (251 - 48));
  const b = Math.round(255 - t * (255 - 107));
  return `rgb(${r},${g},${b})`;
}

export function classOrder(m: Metrics): number[] {
  const support = m.labels.map((l) => m.per_class[l]?.support ?? 0);
  return m.labels
    .map((_, i) => i)
    .sort((a, b) => {
      const ua = m.labels[a] === 'unknown' ? 1 : 0;
      const ub = m.labels[b] === 'unknown' ? 1 : 0;
      if (ua !== ub) return ua - ub;
      return (support[b] as number) - (support[a] as number) || ((m.labels[a] as string) < (m.labels[b] as string) ? -1 : 1);
    });
}

export function confusionSvg(m: Metrics): string {
  const order = classOrder(m);
  const L = order.length;
  const cell = Math.max(9, Math.min(28, Math.floor(900 / Math.max(1, L))));
  const font = Math.min(12, cell - 1);
  const maxLabel = Math.max(4, ...m.labels.map((l) => Math.min(l.length, 28)));
  const margin = Math.ceil(maxLabel * font * 0.62) + 10;
  const size = L * cell;
  const W = margin + size + 20;
  const H = margin + size + 20;
  const short = (s: string): string => (s.length > 28 ? `${s.slice(0, 27)}…` : s);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="${font}">`,
    `<rect x="${margin}" y="${margin}" width="${size}" height="${size}" fill="#fff" stroke="#999"/>`,
  ];
  order.forEach((ti, row) => {
    const rowVals = m.confusion[ti] as number[];
    const total = rowVals.reduce((a, b) => a + b, 0);
    order.forEach((pi, col) => {
      const n = rowVals[pi] as number;
      if (n === 0) return;
      const share = total > 0 ? n / total : 0;
      const x = margin + col * cell;
      const y = margin + row * cell;
      const stroke = ti === pi ? ' stroke="#c00" stroke-width="0.6"' : '';
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${colour(share)}"${stroke}>` +
          `<title>${esc(m.labels[ti] as string)} → ${esc(m.labels[pi] as string)}: ${n} of ${total} (${(share * 100).toFixed(1)}%)</title></rect>`,
      );
    });
  });
  for (let k = 10; k < L; k += 10) {
    const p = margin + k * cell;
    parts.push(`<line x1="${margin}" y1="${p}" x2="${margin + size}" y2="${p}" stroke="#ccc" stroke-width="0.5"/>`);
    parts.push(`<line x1="${p}" y1="${margin}" x2="${p}" y2="${margin + size}" stroke="#ccc" stroke-width="0.5"/>`);
  }
  order.forEach((li, k) => {
    const label = esc(short(m.labels[li] as string));
    const c = k * cell + cell / 2 + font * 0.35;
    parts.push(`<text x="${margin - 4}" y="${margin + c}" text-anchor="end">${label}</text>`);
    const x = margin + k * cell + cell / 2 + font * 0.35;
    parts.push(`<text transform="translate(${x},${margin - 4}) rotate(-90)">${label}</text>`);
  });
  parts.push(`<text x="${margin + size / 2}" y="${H - 4}" text-anchor="middle" font-size="12">predicted → (rows: true class, colour: share of the row)</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

export function reportHtml(m: Metrics, info: ReportInfo): string {
  const f = (v: number): string => v.toFixed(4);
  const order = classOrder(m);
  const bar = (v: number): string =>
    `<span class="bar" style="width:${Math.round(v * 60)}px"></span> ${f(v)}`;
  const rows = order.map((i) => {
    const l = m.labels[i] as string;
    const c = m.per_class[l] ?? { precision: 0, recall: 0, f1: 0, support: 0 };
    const name = l === m.abstention ? `${esc(l)} (rows under the threshold: no class, not in macro-F1)` : esc(l);
    return `<tr><td>${name}</td><td class="n">${c.support}</td><td>${bar(c.precision)}</td><td>${bar(c.recall)}</td><td>${bar(c.f1)}</td></tr>`;
  });
  const facts = info.facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)}</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{padding:2px 8px;text-align:left;font-size:13px}
.facts th{color:#555;font-weight:normal}
.classes tr:nth-child(even){background:#f4f6f8}
.classes td.n{text-align:right}
.bar{display:inline-block;height:9px;background:#3a6ea5;vertical-align:middle}
.big{font-size:20px;margin-right:2em}
.matrix{overflow:auto;max-width:100%;border:1px solid #ddd}
</style></head><body>
<h1>${esc(info.title)}</h1>
<p><span class="big">accuracy ${f(m.accuracy)}</span><span class="big">macro-F1 ${f(m.macro_f1)}</span>
<span class="big">weighted-F1 ${f(m.weighted_f1)}</span><span class="big">unknown ${(m.unknown_share * 100).toFixed(1)}%</span></p>
<table class="facts">${facts}<tr><th>rows</th><td>${m.rows}</td></tr><tr><th>classes</th><td>${m.averaged}</td></tr></table>
<h2>Confusion matrix</h2>
<p>Rows are true classes, columns predictions, both ordered by support; hover a cell for counts. The diagonal is outlined in red.</p>
<div class="matrix">${confusionSvg(m)}</div>
<h2>Per class</h2>
<table class="classes"><tr><th>class</th><th>support</th><th>precision</th><th>recall</th><th>F1</th></tr>
${rows.join('\n')}
</table>
</body></html>
`;
}
