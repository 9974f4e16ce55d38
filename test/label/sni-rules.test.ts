// SNI rules: pattern kinds, which rule wins, and rule files with mistakes.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SniMatcher } from '../../agent/label/sni-matcher.js';
import { parseSniRules } from '../../agent/label/sni-rules.js';

function matcher(yaml: string): SniMatcher {
  return new SniMatcher(parseSniRules(yaml, 'rules.yaml'));
}

function appOf(m: SniMatcher, sni: string): string | null {
  return m.match(sni)?.app ?? null;
}

t.test('exact, suffix, glob and regex patterns', async (t) => {
  const m = matcher(`
rules:
  - app: Exact
    sni: www.example.com
  - app: Suffix
    sni: .example.org
  - app: Glob
    sni: [cdn-?.example.net, "*.img.example.net", "**.deep.example.net"]
  - app: Regex
    sni: /^r[0-9]+---sn-[a-z0-9]+\\.googlevideo\\.com$/
`);
  t.equal(appOf(m, 'www.example.com'), 'Exact');
  t.equal(appOf(m, 'WWW.Example.COM.'), 'Exact', 'case and a trailing dot do not matter');
  t.equal(appOf(m, 'a.www.example.com'), null, 'exact is exact');
  t.equal(appOf(m, 'example.org'), 'Suffix', 'a suffix matches the name itself');
  t.equal(appOf(m, 'a.b.example.org'), 'Suffix');
  t.equal(appOf(m, 'badexample.org'), null, 'a suffix starts at a label boundary');
  t.equal(appOf(m, 'cdn-1.example.net'), 'Glob');
  t.equal(appOf(m, 'cdn-12.example.net'), null, '? is one character');
  t.equal(appOf(m, 'x.img.example.net'), 'Glob');
  t.equal(appOf(m, 'x.y.img.example.net'), null, '* stays within one label');
  t.equal(appOf(m, 'x.y.deep.example.net'), 'Glob', '** crosses labels');
  t.equal(appOf(m, 'r4---sn-abc123.googlevideo.com'), 'Regex');
  t.equal(appOf(m, 'r4---sn-abc123.googlevideo.com.evil.net'), null, 'an anchored regex is anchored');
  t.equal(appOf(m, ''), null);
});

const OVERLAP = `
rules:
  - app: AnyRegex
    sni: /netflix/
  - app: NetflixAll
    sni: .netflix.com
  - app: NetflixGlob
    sni: "*.api.netflix.com"
  - app: NetflixApi
    sni: .api.netflix.com
  - app: NetflixWww
    sni: www.netflix.com
`;

t.test('most specific wins, whatever the order of the rules', async (t) => {
  const m = matcher(OVERLAP);
  t.equal(appOf(m, 'www.netflix.com'), 'NetflixWww', 'an exact name beats every pattern');
  t.equal(appOf(m, 'a.api.netflix.com'), 'NetflixGlob', 'the glob and the longer suffix tie on literal characters: the earlier wins');
  t.equal(appOf(m, 'api.netflix.com'), 'NetflixApi', 'the glob needs a label before api');
  t.equal(appOf(m, 'x.netflix.com'), 'NetflixAll', 'a suffix beats a regex');
  t.equal(appOf(m, 'netflix.example'), 'AnyRegex');
  const reversed = matcher(`rules:\n${OVERLAP.split('\n  - ').slice(1).reverse().map((r) => `  - ${r.trimEnd()}`).join('\n')}\n`);
  for (const sni of ['www.netflix.com', 'api.netflix.com', 'x.netflix.com', 'netflix.example']) {
    t.equal(appOf(reversed, sni), appOf(m, sni), `${sni}: same answer with the rules reversed`);
  }
  t.equal(appOf(reversed, 'a.api.netflix.com'), 'NetflixApi', 'ties go to the earlier pattern');
});

t.test('priority beats specificity; "first" takes the earliest pattern', async (t) => {
  const p = matcher(`
rules:
  - app: Broad
    priority: 10
    sni: .netflix.com
  - app: Narrow
    sni: www.netflix.com
`);
  t.equal(appOf(p, 'www.netflix.com'), 'Broad');
  const f = matcher(`match: first\n${OVERLAP}`);
  t.equal(appOf(f, 'www.netflix.com'), 'AnyRegex');
  t.equal(appOf(f, 'api.netflix.com'), 'AnyRegex');
  t.equal(f.mode, 'first');
});

t.test('mistakes are reported with their line numbers, all at once', async (t) => {
  const text = [
    'match: best',                  // 1
    'rules:',                       // 2
    '  - app: A',                   // 3
    '    sni: [a.com, "bad name"]', // 4
    '  - app: B',                   // 5
    '    snis: b.com',              // 6
    '  - app: C',                   // 7
    '    category: video',          // 8
    '    sni: /([a-z]/',            // 9
    '  - app: D',                   // 10
    '    sni: A.com',               // 11
    '  - sni: e.com',               // 12
    '  - app: F',                   // 13
    '    priority: high',           // 14
    '    sni: "*.f..com"',          // 15
  ].join('\n');
  let err: Error | undefined;
  try {
    parseSniRules(text, 'r.yaml');
  } catch (e) {
    err = e as Error;
  }
  t.ok(err, 'refused');
  const msg = err?.message ?? '';
  t.match(msg, /r\.yaml:1: "match" must be most-specific or first \(got "best"\)/);
  t.match(msg, /r\.yaml:4: invalid server name "bad name"/);
  t.match(msg, /r\.yaml:6: unknown key "snis" \(did you mean "sni"\?\)/);
  t.match(msg, /r\.yaml:5: the rule has no "sni" pattern/);
  t.match(msg, /r\.yaml:8: "category" must be one of streaming, file_transfer, voip, browsing, chat \(got "video"\)/);
  t.match(msg, /r\.yaml:9: invalid regular expression/);
  t.match(msg, /r\.yaml:11: pattern "A\.com" is already used at line 4/);
  t.match(msg, /r\.yaml:12: the rule has no "app"/);
  t.match(msg, /r\.yaml:14: "priority" must be an integer/);
  t.match(msg, /r\.yaml:15: invalid glob/);
  t.equal((err as { code?: string }).code, 'E_CONFIG');
});

t.test('YAML syntax errors and wrong shapes name the line', async (t) => {
  t.throws(() => parseSniRules('rules:\n  - app: A\n    sni: [a.com\n', 'r.yaml'), /r\.yaml:\d+: /);
  t.throws(() => parseSniRules('rules:\n  - app: A\n    app: B\n    sni: a.com\n', 'r.yaml'), /r\.yaml:3: Map keys must be unique/);
  t.throws(() => parseSniRules('rules: a.com\n', 'r.yaml'), /r\.yaml:1: "rules" must be a list/);
  t.throws(() => parseSniRules('- app: A\n', 'r.yaml'), /r\.yaml:1: expected a mapping with "rules"/);
  t.throws(() => parseSniRules('rule:\n  - app: A\n', 'r.yaml'), /unknown key "rule" \(did you mean "rules"\?\)/);
  t.throws(() => parseSniRules('rules:\n  - app: A\n    sni: []\n', 'r.yaml'), /r\.yaml:3: an "sni" pattern is an empty list/);
});

t.test('the shipped example is valid and means what its comments say', async (t) => {
  const path = fileURLToPath(new URL('../../../config/sni-rules.example.yaml', import.meta.url));
  const m = new SniMatcher(parseSniRules(readFileSync(path, 'utf8'), path));
  t.equal(appOf(m, 'upload.youtube.com'), 'YouTubeUpload');
  t.equal(appOf(m, 'www.youtube.com'), 'YouTube');
  t.equal(appOf(m, 'g.whatsapp.net'), 'WhatsApp');
  t.equal(appOf(m, 'media.fmad3-1.fna.whatsapp.net'), 'WhatsAppFiles', 'the glob has more literal characters than the suffix');
  t.equal(m.match('x.zoom.us')?.category, 'voip');
});
