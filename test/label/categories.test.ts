// Usage types from apps and categories (config/categories.yaml).
import t from 'tap';
import { DEFAULT_CATEGORIES } from '../../agent/commands/label.js';
import { loadCategories, parseCategories, usageType } from '../../agent/label/categories.js';

t.test('the shipped mapping: per-flow type, then app, then category', async (t) => {
  const m = await loadCategories(DEFAULT_CATEGORIES);
  t.equal(usageType(m, 'Zoom', 'Video'), 'voip', 'the app beats nDPI\'s category');
  t.equal(usageType(m, 'NetFlix', 'Video'), 'streaming');
  t.equal(usageType(m, 'TLS', 'Web'), 'browsing', 'an unlisted app goes by its category');
  t.equal(usageType(m, 'HTTP', 'Download'), 'file_transfer');
  t.equal(usageType(m, 'Viber', 'VoIP'), 'voip', 'a category that names a usage type is taken as it is');
  t.equal(usageType(m, 'whatsapp', ''), 'chat', 'app names are case-insensitive');
  t.equal(usageType(m, 'DNS', 'Network'), null, 'fits none of the five');
  t.equal(usageType(m, 'SOCKS', 'Web'), null, 'listed under none: its category does not apply');
  t.equal(usageType(m, 'Unknown', ''), null);
  t.equal(usageType(m, 'MyApp', '', 'voip'), 'voip', 'a rule\'s category beats everything');
});

t.test('mistakes are reported with their line numbers', async (t) => {
  const text = [
    'streaming:',                // 1
    '  apps: [YouTube, Twitch]', // 2
    'video:',                    // 3
    '  apps: [Vimeo]',           // 4
    'chat:',                     // 5
    '  apps: [youtube]',         // 6
    '  categoris: [Chat]',       // 7
    'voip: [SIP]',               // 8
  ].join('\n');
  const err = (() => {
    try {
      parseCategories(text, 'c.yaml');
    } catch (e) {
      return e as Error;
    }
    return undefined;
  })();
  t.match(err?.message, /c\.yaml:3: unknown usage type "video"/);
  t.match(err?.message, /c\.yaml:6: app "youtube" is already listed at line 2/);
  t.match(err?.message, /c\.yaml:7: unknown key "categoris" under "chat" \(did you mean "categories"\?\)/);
  t.match(err?.message, /c\.yaml:8: "voip" must be a mapping/);
});
