/** What `eta-sensor label` did, as an object (--json) and as text. */
import type { LabelStats } from './labeler.js';
import type { FlowLabelIndex } from './flow-labels.js';
import type { SniRuleSet } from './sni-rules.js';
import type { LabelRunResult } from './run-label.js';

export interface LabelReport {
  readonly input: string;
  readonly output: string | null;
  readonly rows_read: number;
  readonly rows_written: number;
  readonly bad_rows: number;
  readonly bad_row_examples: readonly string[];
  readonly labeled: number;
  readonly unlabeled: Record<string, number>;
  readonly unlabeled_policy: 'drop' | 'unknown';
  readonly labels_file: null | {
    readonly path: string;
    readonly lines: number;
    readonly labeled: number;
    readonly packets_equal: number;
    readonly all_lines_agreed: number;
    readonly nearest_in_packets: number;
  };
  readonly sni_rules: null | {
    readonly path: string;
    readonly match: string;
    readonly labeled: number;
    readonly rules: ReadonlyArray<{ line: number; pattern: string; app: string; flows: number }>;
    readonly unlabeled_snis: ReadonlyArray<{ sni: string; flows: number }>;
    readonly unlabeled_distinct_snis: number;
  };
  readonly apps: Record<string, number>;
  /** Labels-file verdicts naming a protocol only, written as app "unknown". */
  readonly protocol_only: Record<string, number>;
  readonly categories: Record<string, number>;
  readonly no_category: number;
}

function sorted(m: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

export function buildReport(o: {
  input: string; output: string | null; stats: LabelStats; run: LabelRunResult; unlabeled: 'drop' | 'unknown';
  flows?: FlowLabelIndex; rules?: SniRuleSet; top: number;
}): LabelReport {
  const s = o.stats;
  const bySni = [...s.bySni.values()].reduce((a, b) => a + b, 0);
  const snis = [...s.unmatchedSnis].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    input: o.input, output: o.output, rows_read: o.run.rowsRead, rows_written: o.run.rowsWritten,
    bad_rows: o.run.badRows, bad_row_examples: o.run.examples,
    labeled: s.labeled,
    unlabeled: Object.fromEntries(Object.entries(s.unlabeled).filter(([, n]) => n > 0)),
    unlabeled_policy: o.unlabeled,
    labels_file: o.flows ? {
      path: o.flows.source, lines: o.flows.rows, labeled: s.labeled - bySni,
      packets_equal: s.byFlows.exact, all_lines_agreed: s.byFlows.agreed, nearest_in_packets: s.byFlows.nearest,
    } : null,
    sni_rules: o.rules ? {
      path: o.rules.source, match: o.rules.mode, labeled: bySni,
      rules: o.rules.rules.map((r) => ({ line: r.line, pattern: r.pattern, app: r.app, flows: s.bySni.get(r) ?? 0 })),
      unlabeled_snis: snis.slice(0, o.top).map(([sni, flows]) => ({ sni, flows })),
      unlabeled_distinct_snis: snis.length,
    } : null,
    apps: sorted(s.apps),
    protocol_only: sorted(s.protocolOnly),
    categories: sorted(s.categories),
    no_category: s.noCategory,
  };
}

const REASONS: Readonly<Record<string, string>> = {
  'no-match': 'no line of the labels file for the 5-tuple',
  ambiguous: 'lines of the labels file disagree',
  'not-encrypted': 'not encrypted (--encrypted-only)',
  'no-sni': 'no SNI',
  'sni-unmatched': 'SNI matched no rule',
};

export function reportText(r: LabelReport, dryRun: boolean): string {
  const n = (v: number): string => v.toLocaleString('en');
  const unl = Object.values(r.unlabeled).reduce((a, b) => a + b, 0);
  const lines = [
    `${n(r.rows_read)} flows read from ${r.input}: ${n(r.labeled)} labelled, ${n(unl)} unlabelled ` +
      `(${r.unlabeled_policy === 'drop' ? 'dropped' : 'kept as "unknown"'})` +
      (r.bad_rows ? `, ${n(r.bad_rows)} unreadable rows skipped` : ''),
    ...r.bad_row_examples.map((e) => `  e.g. ${e}`),
    ...Object.entries(r.unlabeled).map(([k, v]) => `  unlabelled, ${REASONS[k] ?? k}: ${n(v)}`),
  ];
  if (r.labels_file) {
    const f = r.labels_file;
    lines.push(`labels file ${f.path} (${n(f.lines)} lines): ${n(f.labeled)} flows labelled ` +
      `(${n(f.packets_equal)} with equal packet counts, ${n(f.all_lines_agreed)} where all lines of the 5-tuple agree, ` +
      `${n(f.nearest_in_packets)} by the nearest packet counts)`);
  }
  if (r.sni_rules) {
    const s = r.sni_rules;
    lines.push(`SNI rules ${s.path} (${s.match}, ${s.rules.length} patterns): ${n(s.labeled)} flows labelled`);
    const w = Math.max(5, ...s.rules.map((x) => n(x.flows).length));
    const pw = Math.min(40, Math.max(7, ...s.rules.map((x) => x.pattern.length)));
    lines.push(`  ${'flows'.padStart(w)}  line  ${'pattern'.padEnd(pw)}  app`);
    for (const x of s.rules) {
      lines.push(`  ${n(x.flows).padStart(w)}  ${String(x.line).padStart(4)}  ${x.pattern.padEnd(pw)}  ${x.app}${x.flows === 0 ? '  (matched nothing)' : ''}`);
    }
    if (s.unlabeled_snis.length > 0) {
      lines.push(`  unlabelled SNIs, top ${s.unlabeled_snis.length} of ${n(s.unlabeled_distinct_snis)}:`);
      for (const u of s.unlabeled_snis) lines.push(`  ${n(u.flows).padStart(w)}  ${u.sni}`);
    }
  }
  const top = (m: Record<string, number>): string => Object.entries(m).slice(0, 15).map(([k, v]) => `${k} ${n(v)}`).join(', ');
  if (r.labeled > 0) {
    lines.push(`apps (${Object.keys(r.apps).length}): ${top(r.apps)}${Object.keys(r.apps).length > 15 ? ', ...' : ''}`);
    if (Object.keys(r.protocol_only).length > 0) {
      lines.push(`  of which "unknown": verdicts naming a protocol, not an app (${top(r.protocol_only)}), as the shipped models are trained`);
    }
    lines.push(`usage types: ${top(r.categories) || 'none'}; ${n(r.no_category)} labelled flows fit none (left out of attribution training)`);
  }
  lines.push(dryRun ? 'dry run: nothing written' : `wrote ${n(r.rows_written)} rows to ${r.output ?? 'standard output'}`);
  return lines.join('\n') + '\n';
}
