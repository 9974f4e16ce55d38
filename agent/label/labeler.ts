/**
 * Gives a flow its labels: first from a labels file of flows (5-tuple join,
 * either orientation, per capture when known), then, for flows that file does
 * not label, from SNI rules; the usage type follows from the app and category
 * (categories.ts). Counts what each source did, for the report.
 *
 * Several lines of a labels file can share a 5-tuple (a port reused, a flow
 * split by a timeout). Their labels are used when they all agree; otherwise
 * the line whose packet counts equal the flow's (either orientation) wins,
 * else the line nearest in packets; a tie is "ambiguous" and not labelled.
 */
import { UNKNOWN } from '../train/split.js';
import { usageType, type CategoryMap, type UsageType } from './categories.js';
import type { FlowLabel, FlowLabelIndex } from './flow-labels.js';
import { SniMatcher } from './sni-matcher.js';
import { normalizeSni, type SniRule, type SniRuleSet } from './sni-rules.js';

export interface FlowKey {
  /** Capture name (basename) when known: the join is then made within that capture. */
  readonly pcap: string | undefined;
  readonly proto: number;
  /** Canonical addresses (see address.ts). */
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly sni: string;
  /** Packets src to dst and dst to src; NaN when the input does not say. */
  readonly pktsFwd: number;
  readonly pktsRev: number;
}

export type UnlabeledReason = 'no-match' | 'ambiguous' | 'not-encrypted' | 'no-sni' | 'sni-unmatched';

export type LabelOutcome =
  | {
      readonly labeled: true;
      readonly app: string;
      readonly category: UsageType | null;
      /** The rule that labelled the flow, or null. */
      readonly rule: SniRule | null;
      /** The labels-file line that labelled the flow, or null. */
      readonly line: FlowLabel | null;
    }
  | { readonly labeled: false; readonly reason: UnlabeledReason };

export interface LabelerOptions {
  readonly flows?: FlowLabelIndex;
  readonly rules?: SniRuleSet;
  readonly categories: CategoryMap;
  /** Leave unlabelled the flows the labels file marks as not encrypted. */
  readonly encryptedOnly?: boolean;
}

/** Distinct unlabelled SNIs remembered for the top-N list; beyond it they are only counted. */
const MAX_SNIS = 100_000;

/**
 * nDPI's verdicts that name a protocol, not an app ("TLS, app not identified"): a labels file's
 * flows with these are written with the app UNKNOWN, train's class for rare labels, as the
 * shipped models are trained (scripts/models/tables.ts). Kept as classes, they taught a model to
 * tell "TLS" from "HTTP" apart from the apps, and nDPI's "Unknown" became a class beside train's
 * "unknown" (found by review).
 */
export const PROTOCOL_ONLY_APPS: ReadonlySet<string> = new Set(['TLS', 'QUIC', 'DTLS', 'HTTP', 'Unknown']);

/** Whether a labels file's verdict names an app; one that does not (a protocol only, or nothing) is written as UNKNOWN. */
export function namesApp(app: string): boolean {
  return app !== '' && !PROTOCOL_ONLY_APPS.has(app);
}

export class LabelStats {
  flows = 0;
  labeled = 0;
  /** Labelled from the labels file: packet counts equal / all lines agreed / nearest in packets. */
  readonly byFlows = { exact: 0, agreed: 0, nearest: 0 };
  readonly bySni = new Map<SniRule, number>();
  readonly unlabeled: Record<UnlabeledReason, number> = { 'no-match': 0, ambiguous: 0, 'not-encrypted': 0, 'no-sni': 0, 'sni-unmatched': 0 };
  /** SNIs of flows left unlabelled, with their flow counts. */
  readonly unmatchedSnis = new Map<string, number>();
  unmatchedSniOverflow = 0;
  readonly apps = new Map<string, number>();
  /** Flows of the labels file whose verdict named a protocol only (PROTOCOL_ONLY_APPS), by verdict: written as UNKNOWN. */
  readonly protocolOnly = new Map<string, number>();
  readonly categories = new Map<string, number>();
  /** Labelled flows whose app fits none of the usage types. */
  noCategory = 0;
}

export class Labeler {
  readonly stats = new LabelStats();
  private readonly matcher: SniMatcher | null;

  constructor(private readonly o: LabelerOptions) {
    this.matcher = o.rules ? new SniMatcher(o.rules) : null;
  }

  label(f: FlowKey): LabelOutcome {
    const s = this.stats;
    s.flows++;
    let reason: UnlabeledReason = 'no-match';
    if (this.o.flows) {
      const found = this.fromFlows(f);
      if (typeof found !== 'string') {
        if (this.o.encryptedOnly && found.label.encrypted === false) return this.miss('not-encrypted');
        // Counted by how it matched only once kept (found by review: --encrypted-only's breakdown
        // counted the cleartext flows it then left out).
        s.byFlows[found.by]++;
        const hit = found.label;
        const category = usageType(this.o.categories, hit.app, hit.category);
        // An empty app names no app either (found by review: written as app "", a class train then skipped).
        if (namesApp(hit.app)) return this.hit(hit.app, category, null, hit);
        const verdict = hit.app || '(empty)';
        s.protocolOnly.set(verdict, (s.protocolOnly.get(verdict) ?? 0) + 1);
        return this.hit(UNKNOWN, category, null, hit);
      }
      reason = found;
    }
    if (this.matcher) {
      const sni = normalizeSni(f.sni);
      if (sni === '') return this.miss(this.o.flows ? reason : 'no-sni');
      const rule = this.matcher.match(sni);
      if (rule) {
        s.bySni.set(rule, (s.bySni.get(rule) ?? 0) + 1);
        return this.hit(rule.app, usageType(this.o.categories, rule.app, '', rule.category), rule, null);
      }
      if (s.unmatchedSnis.has(sni) || s.unmatchedSnis.size < MAX_SNIS) s.unmatchedSnis.set(sni, (s.unmatchedSnis.get(sni) ?? 0) + 1);
      else s.unmatchedSniOverflow++;
      return this.miss(this.o.flows ? reason : 'sni-unmatched');
    }
    return this.miss(reason);
  }

  private hit(app: string, category: UsageType | null, rule: SniRule | null, line: FlowLabel | null): LabelOutcome {
    const s = this.stats;
    s.labeled++;
    s.apps.set(app, (s.apps.get(app) ?? 0) + 1);
    if (category) s.categories.set(category, (s.categories.get(category) ?? 0) + 1);
    else s.noCategory++;
    return { labeled: true, app, category, rule, line };
  }

  private miss(reason: UnlabeledReason): LabelOutcome {
    this.stats.unlabeled[reason]++;
    return { labeled: false, reason };
  }

  /** The labels file's line for the flow, and how it was told apart from the others on its 5-tuple. */
  private fromFlows(f: FlowKey): { label: FlowLabel; by: keyof LabelStats['byFlows'] } | 'no-match' | 'ambiguous' {
    const cands = this.o.flows!.lookup(f.pcap, f.proto, f.srcIp, f.srcPort, f.dstIp, f.dstPort);
    if (cands.length === 0) return 'no-match';
    const agree = (xs: ReadonlyArray<{ label: FlowLabel }>): boolean =>
      xs.every((c) => c.label.app === xs[0]!.label.app && c.label.category === xs[0]!.label.category);
    // Packets in the flow's orientation: a reversed line counts its s2c as our src to dst.
    const gap = (c: { label: FlowLabel; reversed: boolean }): number => {
      const [a, b] = c.reversed ? [c.label.s2cPkts, c.label.c2sPkts] : [c.label.c2sPkts, c.label.s2cPkts];
      return Math.abs(a - f.pktsFwd) + Math.abs(b - f.pktsRev);
    };
    const exact = cands.filter((c) => gap(c) === 0);
    if (exact.length > 0 && agree(exact)) return { label: exact[0]!.label, by: 'exact' };
    if (agree(cands)) return { label: cands[0]!.label, by: 'agreed' };
    if (exact.length > 0) return 'ambiguous';
    const gaps = cands.map(gap);
    const min = Math.min(...gaps);
    const nearest = cands.filter((_, i) => gaps[i] === min);
    if (!Number.isFinite(min) || !agree(nearest)) return 'ambiguous';
    return { label: nearest[0]!.label, by: 'nearest' };
  }
}
