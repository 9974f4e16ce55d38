// The held-out figures train records are what the model file does under onnxruntime (evaluate's), not the trainer's own prediction.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../agent/cli.js';
import { parseModelMeta } from '../../agent/train/model-meta.js';
import { NDPI_DIR, NDPI_PCAPS } from '../helpers/ndpi.js';
import { captureIO, tempDir } from './helpers.js';

// Captures whose flows, split row by row, gave a held-out row with two classes tied at 7 votes
// of 30: the trainer (float64 sums) and onnxruntime (float32) broke the tie differently, and
// train recorded accuracy 0.8806 where evaluate measured 0.8795 on the same rows (found by review).
const CAPTURES = ['1kxun.pcap', 'netflix.pcap', 'whatsapp.pcap', 'wechat.pcap', 'webex.pcap', 'tumblr.pcap', 'discord.pcap', 'teams.pcap', 'reddit.pcap', 'alexa-app.pcapng', 'gnutella.pcap'];
const LABELS = join(NDPI_DIR, 'labels.csv');
const missing = [LABELS, ...CAPTURES.map((c) => join(NDPI_PCAPS, c))].find((p) => !existsSync(p));

t.test('train records the held-out metrics evaluate measures on the same rows', { skip: missing ? `${missing} is absent` : false }, async (t) => {
  const dir = tempDir();
  const tables: string[][] = [];
  for (const c of [...CAPTURES].sort()) {
    const flows = join(dir, `${c}.csv`);
    const labelled = join(dir, `${c}.labelled.csv`);
    t.equal(await main(['extract', join(NDPI_PCAPS, c), '-o', flows, '--summary', 'none'], captureIO()), 0);
    t.equal(await main(['label', flows, '--labels', LABELS, '--pcap', c, '-o', labelled], captureIO()), 0);
    tables.push(readFileSync(labelled, 'utf8').trimEnd().split('\n'));
  }
  // One table, the captures in name order, a column `grp` dealing the rows into B and A in turn.
  const header = `${tables[0]![0]},grp`;
  const rows = tables.flatMap((lines) => lines.slice(1)).map((line, i) => `${line},${i % 2 === 0 ? 'B' : 'A'}`);
  const all = join(dir, 'all.csv');
  writeFileSync(all, [header, ...rows].join('\n') + '\n');
  const model = join(dir, 'm.onnx');
  const tr = captureIO();
  t.equal(await main(['train', '--data', all, '--label', 'app', '--out', model, '--group-by', 'grp', '--holdout', '0.5', '--trees', '30', '--threads', '1'], tr), 0, tr.err());
  const recorded = parseModelMeta(readFileSync(model), model).metrics as { accuracy: number; macro_f1: number } | null;
  t.ok(recorded, 'held-out metrics recorded');
  const scores: Array<{ accuracy: number; macro_f1: number }> = [];
  for (const g of ['A', 'B']) {
    const part = join(dir, `${g}.csv`);
    writeFileSync(part, [header, ...rows.filter((r) => r.endsWith(`,${g}`))].join('\n') + '\n');
    const ev = captureIO();
    t.equal(await main(['evaluate', '--model', model, '--data', part, '--json'], ev), 0, ev.err());
    scores.push(JSON.parse(ev.out()) as { accuracy: number; macro_f1: number });
  }
  const round = (v: number): number => Math.round(v * 1e4) / 1e4;
  // The held-out group is the one the model did not see: the lower score (the other is near 1).
  const heldOut = scores[0]!.accuracy < scores[1]!.accuracy ? scores[0]! : scores[1]!;
  t.same([round(recorded!.accuracy), round(recorded!.macro_f1)], [round(heldOut.accuracy), round(heldOut.macro_f1)]);
});
