/**
 * Which rule labels a server name.
 *
 * most-specific (the default): an exact name beats every pattern; among
 * suffixes and globs the one with more literal characters wins
 * (".api.netflix.com" beats ".netflix.com", "api*.netflix.com" beats
 * "*.netflix.com"); regular expressions come after all of them. A rule's
 * `priority` (default 0) comes before all of that: higher wins. Equal
 * candidates go to the pattern earlier in the file.
 * first: the pattern earliest in the file that matches, whatever its kind.
 *
 * Cost per name: one map lookup per label for exact and suffix rules, then
 * one test per glob and regular expression.
 */
import { normalizeSni, type MatchMode, type SniRule, type SniRuleSet } from './sni-rules.js';

const TIER: Readonly<Record<SniRule['kind'], number>> = { exact: 3, suffix: 2, glob: 2, regex: 1 };

/** True when `a` should be chosen over `b` in most-specific mode. */
function moreSpecific(a: SniRule, b: SniRule): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (TIER[a.kind] !== TIER[b.kind]) return TIER[a.kind] > TIER[b.kind];
  if (a.weight !== b.weight) return a.weight > b.weight;
  return a.order < b.order;
}

export class SniMatcher {
  private readonly exact = new Map<string, SniRule>();
  private readonly suffix = new Map<string, SniRule>();
  private readonly scanned: SniRule[];
  readonly mode: MatchMode;

  constructor(readonly set: SniRuleSet) {
    this.mode = set.mode;
    for (const r of set.rules) {
      if (r.kind === 'exact') this.exact.set(r.key, r);
      else if (r.kind === 'suffix') this.suffix.set(r.key, r);
    }
    this.scanned = set.rules.filter((r) => r.kind === 'glob' || r.kind === 'regex');
  }

  /** The rule that labels this SNI, or null. */
  match(sni: string): SniRule | null {
    const name = normalizeSni(sni);
    if (name === '') return null;
    let best: SniRule | null = null;
    const consider = (r: SniRule | undefined): void => {
      if (r === undefined) return;
      if (best === null || (this.mode === 'first' ? r.order < best.order : moreSpecific(r, best))) best = r;
    };
    consider(this.exact.get(name));
    for (let at = 0; at >= 0; at = name.indexOf('.', at + 1)) {
      consider(this.suffix.get(at === 0 ? name : name.slice(at + 1)));
      if (at === 0 && !name.includes('.')) break;
    }
    for (const r of this.scanned) if ((r.re as RegExp).test(name)) consider(r);
    return best;
  }
}
