/**
 * Flow assembly against an independent reference on real traffic: nDPI's
 * per-flow packet counts for the shared captures. Also proves every capture
 * (including the deliberately broken fuzz-*.pcap) is read without a crash.
 *
 * nDPI's reader keeps one flow per 5-tuple for a whole capture (no idle,
 * active or TCP-end splitting), so this comparison runs with those rules
 * switched off; everything else is the default.
 */
import t from 'tap';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractFile } from '../../agent/flows/extract-file.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { haveNdpi, loadNdpiLabels, matchCapture, NDPI_PCAPS, type MatchResult, type NdpiFlow } from '../helpers/ndpi.js';

const NDPI_RULES = { idleTimeout: 1e9, activeTimeout: 1e9, tcpCloseGrace: 1e9, maxFlows: 65536 };

t.test('every shared capture is read without a crash, and flows match nDPI', { skip: haveNdpi ? false : 'no ../shared/data/ndpi', timeout: 600_000 }, async (t) => {
  const labels = loadNdpiLabels();
  const byPcap = new Map<string, NdpiFlow[]>();
  for (const l of labels) byPcap.set(l.pcap, [...(byPcap.get(l.pcap) ?? []), l]);
  const files = readdirSync(NDPI_PCAPS).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort();
  const res: MatchResult = { total: 0, matched: 0, missing: [], differing: [] };
  const damaged: string[] = [];
  let slowest = { file: '', ms: 0 };
  for (const file of files) {
    const started = Date.now();
    let flows: FlowRecord[];
    try {
      const r = await extractFile(join(NDPI_PCAPS, file), NDPI_RULES);
      flows = r.flows;
      if (r.end.reason === 'error') damaged.push(`${file}: ${r.end.message}`);
    } catch (e) {
      t.fail(`${file}: ${(e as Error).message}`);
      continue;
    }
    const ms = Date.now() - started;
    if (ms > slowest.ms) slowest = { file, ms };
    const ndpi = byPcap.get(file);
    if (ndpi) matchCapture(ndpi, flows, res);
  }
  const share = res.matched / res.total;
  t.comment(`${files.length} captures read; ${damaged.length} end with a reported error: ${damaged.join('; ')}`);
  t.comment(`slowest capture: ${slowest.file} in ${slowest.ms} ms`);
  t.comment(`nDPI flows matched exactly (packets per direction): ${res.matched}/${res.total} = ${(share * 100).toFixed(2)}%; ` +
    `${res.missing.length} not found, ${res.differing.length} with other counts`);
  const report = join(process.env['TMPDIR'] ?? '/tmp', 'eta-ndpi-mismatch.json');
  writeFileSync(report, JSON.stringify(res, null, 1));
  t.comment(`differences written to ${report}`);
  t.ok(files.length >= 500, `read ${files.length} captures`);
  t.ok(share >= 0.97, `match share ${(share * 100).toFixed(2)}% >= 97%`);
});
