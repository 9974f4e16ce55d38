/**
 * The labelled flows of the shared nDPI captures: every capture extracted
 * with nDPI's flow boundaries (no idle or active timeout, no close grace:
 * 98% of nDPI's flows then match ours exactly), each flow joined with its
 * line of labels.csv within its own capture (`eta-sensor label`'s join).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowRecord } from '../../agent/features/record.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { DEFAULT_METER, extractFile } from '../../agent/flows/extract-file.js';
import { canonicalAddress } from '../../agent/label/address.js';
import { loadCategories, type UsageType } from '../../agent/label/categories.js';
import { loadFlowLabels } from '../../agent/label/flow-labels.js';
import { Labeler, type LabelStats } from '../../agent/label/labeler.js';

/** ../shared/data/ndpi seen from the repository root. */
export const NDPI_DIR = new URL('../../../../shared/data/ndpi/', import.meta.url).pathname;
export const CATEGORIES = new URL('../../../config/categories.yaml', import.meta.url).pathname;

export interface LabeledFlow {
  readonly pcap: string;
  /** nDPI's app (the `app` column). */
  readonly app: string;
  /** nDPI's category. */
  readonly ndpiCategory: string;
  /** Usage type from config/categories.yaml, or null when the flow fits none. */
  readonly usage: UsageType | null;
  readonly encrypted: boolean;
  readonly sni: string;
  readonly features: Float64Array;
}

export interface NdpiData {
  readonly flows: LabeledFlow[];
  readonly captures: number;
  /** Captures the reader gave up on (damaged on purpose, e.g. fuzz-*). */
  readonly failed: string[];
  readonly extracted: number;
  readonly stats: LabelStats;
  readonly labelLines: number;
}

/** Timeouts long enough never to split a flow: nDPI's reader has no idle or active timeout. */
export const NDPI_FLOW_RULES = { idleTimeout: 1e9, activeTimeout: 1e9, tcpCloseGrace: 1e9 };

export function haveNdpiData(dir = NDPI_DIR): boolean {
  return existsSync(join(dir, 'labels.csv')) && existsSync(join(dir, 'pcap'));
}

export async function loadNdpiFlows(dir = NDPI_DIR, onCapture?: (done: number, total: number) => void): Promise<NdpiData> {
  const index = await loadFlowLabels(join(dir, 'labels.csv'));
  const labeler = new Labeler({ flows: index, categories: await loadCategories(CATEGORIES) });
  const files = readdirSync(join(dir, 'pcap')).filter((f) => /\.(pcap|pcapng|cap)$/i.test(f)).sort();
  const flows: LabeledFlow[] = [];
  const failed: string[] = [];
  const pk = [FEATURE_NAMES.indexOf('src2dst_packets'), FEATURE_NAMES.indexOf('dst2src_packets')] as const;
  let extracted = 0;
  for (const [i, file] of files.entries()) {
    onCapture?.(i, files.length);
    let recs: FlowRecord[];
    try {
      recs = (await extractFile(join(dir, 'pcap', file), { ...DEFAULT_METER, ...NDPI_FLOW_RULES })).flows;
    } catch {
      failed.push(file);
      continue;
    }
    extracted += recs.length;
    for (const r of recs) {
      const srcIp = canonicalAddress(r.srcIp);
      const dstIp = canonicalAddress(r.dstIp);
      if (srcIp === null || dstIp === null) continue;
      const res = labeler.label({
        pcap: file, proto: r.proto, srcIp, srcPort: r.srcPort, dstIp, dstPort: r.dstPort, sni: r.meta?.sni ?? '',
        pktsFwd: r.features[pk[0]] as number, pktsRev: r.features[pk[1]] as number,
      });
      if (!res.labeled || res.line === null) continue;
      flows.push({
        pcap: file, app: res.app, ndpiCategory: res.line.category, usage: res.category,
        encrypted: res.line.encrypted === true, sni: r.meta?.sni ?? '', features: r.features,
      });
    }
  }
  return { flows, captures: files.length, failed, extracted, stats: labeler.stats, labelLines: index.rows };
}
