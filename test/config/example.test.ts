import t from 'tap';
import { readFileSync } from 'node:fs';
import { configSchema, defaultConfig, EXAMPLE_HEADER, loadConfig, validateConfig } from '../../agent/config.js';
import { exampleYaml } from '../../agent/lib/schema-doc.js';
import type { ConfigError } from '../../agent/errors.js';
import { inferWorkers } from '../../agent/infer/config.js';

const examplePath = new URL('../../../config/agent.example.yaml', import.meta.url).pathname;

t.test('the shipped example is the schema rendered, and it loads to the defaults', async (t) => {
  t.equal(readFileSync(examplePath, 'utf8'), exampleYaml(configSchema, EXAMPLE_HEADER), 'regenerate with: npm run docs');
  t.same(await loadConfig(examplePath), defaultConfig());
});

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    return (e as ConfigError).issues.slice();
  }
  return [];
}

t.test('path-qualified messages for every kind of mistake', async (t) => {
  t.same(issuesOf(() => validateConfig({ flows: { idle_timeout: -1, max_flows: 1.5, gtp: 'yes' }, capture: { interfaces: [] } })), [
    'capture.interfaces must have at least 1 item',
    'flows.idle_timeout must be a number > 0 (got -1)',
    'flows.max_flows must be an integer between 1 and 50000000 (got 1.5)',
    'flows.gtp must be true or false (got "yes")',
  ]);
  t.same(issuesOf(() => validateConfig({ flow: {} })), ['flow is not a known option (did you mean flows?)']);
  t.same(issuesOf(() => validateConfig({ log: { level: 'loud' } })), ['log.level must be fatal, error, warn, info, debug, trace or silent (got "loud")']);
});

t.test('environment variables override the file', async (t) => {
  const cfg = validateConfig({ log: { level: 'info' } }, { env: { ETA_LOG_LEVEL: 'debug' } });
  t.equal(cfg.log.level, 'debug');
  t.match(issuesOf(() => validateConfig({}, { env: { ETA_LOG_LEVEL: 'chatty' } })), [/log\.level \(from ETA_LOG_LEVEL\) must be/]);
});

t.test('--set wins over the environment (found by review: the environment won)', async (t) => {
  const cfg = validateConfig({ log: { level: 'info' } }, { env: { ETA_LOG_LEVEL: 'warn' }, sets: ['log.level=debug'] });
  t.equal(cfg.log.level, 'debug');
  const user = validateConfig({}, { env: { ETA_MQTT_USERNAME: 'alice' }, sets: ['publish.mqtt.username=bob'] });
  t.equal(user.publish.mqtt.username, 'bob');
  t.same(issuesOf(() => validateConfig({}, { env: { ETA_LOG_LEVEL: 'chatty' }, sets: ['log.level=debug'] })), [], 'a bad value --set replaces is not read');
});

t.test('an override into a document or section that is not a mapping: the schema\'s message, not a crash or a pass', async (t) => {
  // Found by review: a TypeError (exit 1, which systemd retries) for a whole file that is text, and
  // a scalar section replaced by {} and called valid.
  t.same(issuesOf(() => validateConfig('just text', { env: { ETA_MQTT_PASSWORD: 'x' } })), issuesOf(() => validateConfig('just text')));
  t.ok(issuesOf(() => validateConfig('just text', { env: { ETA_MQTT_PASSWORD: 'x' } })).length > 0);
  const scalar = issuesOf(() => validateConfig({ flows: 5 }, { sets: ['flows.idle_timeout=30'] }));
  t.same(scalar, issuesOf(() => validateConfig({ flows: 5 })), 'the section is still reported');
  t.ok(scalar.length > 0);
});

t.test('YAML syntax errors name the line', async (t) => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const p = join(mkdtempSync(join(tmpdir(), 'eta-cfg-')), 'bad.yaml');
  writeFileSync(p, 'flows:\n  idle_timeout: [1,\n');
  await t.rejects(loadConfig(p), { code: 'E_CONFIG', message: /YAML syntax error at the end of the file: / });
  // The problem and the line as written, not the parser's "at line 2, column 1:" cut before its excerpt.
  writeFileSync(p, 'flows:\n\tidle_timeout: 5\n');
  await t.rejects(loadConfig(p), {
    code: 'E_CONFIG',
    message: `invalid configuration in ${p}: YAML syntax error at line 2, column 1: Tabs are not allowed as indentation (line 2 is "\\tidle_timeout: 5")`,
    hint: /^correct the YAML there: indent with spaces, not tabs/,
  });
  writeFileSync(p, 'flows:\n  idle_timeout:5\n  max_flows: 3\n');
  await t.rejects(loadConfig(p), { message: /YAML syntax error at line 2, column 3: Implicit keys need to be on a single line \(line 2 is "  idle_timeout:5"\)$/ });
  // A quote never closed is found at the end of the text: no line number past the last line.
  writeFileSync(p, 'publish:\n  mqtt:\n    url: "mqtt://127.0.0.1\n    qos: 1\n');
  await t.rejects(loadConfig(p), { message: /YAML syntax error at the end of the file: Missing closing "quote$/ });
  // A section given twice: the fix is to merge them, not indentation (found by review).
  writeFileSync(p, 'flows:\n  idle_timeout: 10\nflows:\n  active_timeout: 100\n');
  await t.rejects(loadConfig(p), {
    message: `invalid configuration in ${p}: YAML syntax error at line 3, column 1: Map keys must be unique (line 3 is "flows:")`,
    hint: 'give each key once: merge the two sections (or drop one of the two lines)',
  });
});

t.test('agent sections: exact messages for infer, publish and service mistakes', async (t) => {
  t.same(issuesOf(() => validateConfig({
    infer: { workers: -1, app: { threshold: 1.5 }, batch_size: 'many' },
    publish: { mqtt: { qos: 3 }, buffer: { overflow: 'drop-all' } },
    service: { shutdown_timeout: 0 },
  })), [
    'infer.app.threshold must be a number >= 0 and <= 1 (got 1.5)',
    'infer.workers must be an integer between 0 and 64 (got -1)',
    'infer.batch_size must be an integer between 1 and 65536 (got "many")',
    'publish.mqtt.qos must be 0, 1 or 2 (got 3)',
    'publish.buffer.overflow must be drop-oldest or drop-newest (got "drop-all")',
    'service.shutdown_timeout must be a number >= 1 and <= 600 (got 0)',
  ]);
});

t.test('secrets are refused on the command line and taken from the environment', async (t) => {
  t.same(issuesOf(() => validateConfig({}, { sets: ['publish.mqtt.password=hunter2'] })), [
    '--set publish.mqtt.password: secrets are not taken from the command line (other users see it in ps); use ETA_MQTT_PASSWORD or the matching *_file option',
  ]);
  t.equal(validateConfig({}, { env: { ETA_MQTT_PASSWORD: 's3cret' } }).publish.mqtt.password, 's3cret');
});

t.test('--set mistakes: a missing value, a section, a typo', async (t) => {
  t.same(issuesOf(() => validateConfig({}, { sets: ['flows.idle_timeout', 'flows=3', 'flows.idle_timout=3', 'nonsense.key=1'] })), [
    '--set flows.idle_timeout: no value; write --set flows.idle_timeout=VALUE',
    '--set flows=3: flows is a section: set one of its options, e.g. flows.idle_timeout=... (see config/agent.example.yaml)',
    '--set flows.idle_timout=3: flows.idle_timout is not a known option (did you mean flows.idle_timeout?) (see config/agent.example.yaml)',
    '--set nonsense.key=1: nonsense.key is not a known option (see config/agent.example.yaml)',
  ]);
});

t.test('with no broker configured, records go to stdout', async (t) => {
  t.equal(defaultConfig().publish.sink, 'stdout');
});

t.test('infer.workers 0 (the default): one worker per core beyond the first, at least one', async (t) => {
  t.equal(validateConfig({}).infer.workers, 0);
  t.equal(inferWorkers(0, 2), 1);
  t.equal(inferWorkers(0, 1), 1, 'a single core still gets a worker');
  t.equal(inferWorkers(0, 8), 7);
  t.equal(inferWorkers(3, 8), 3, 'a number set is taken as it is');
  t.equal(inferWorkers(0, 128), 64, 'at most the schema\'s 64');
});

t.test('a list given on the command line may be written as YAML writes one', async (t) => {
  // Found by review: `--set capture.interfaces=[]` was one interface named "[]", valid to
  // check-config, and `[lo,eth0]` two named "[lo" and "eth0]".
  t.same(issuesOf(() => validateConfig({}, { sets: ['capture.interfaces=[]'] })), ['capture.interfaces must have at least 1 item']);
  t.same(validateConfig({}, { sets: ['capture.interfaces=[lo, "eth0", \'eth1\']'] }).capture.interfaces, ['lo', 'eth0', 'eth1']);
  t.same(validateConfig({}, { sets: ['capture.interfaces=lo,eth0'] }).capture.interfaces, ['lo', 'eth0']);
  // And a bracket not closed is no list (found by review: `[lo, eth0` became "[lo" and "eth0", with a warning only).
  t.same(issuesOf(() => validateConfig({}, { sets: ['capture.interfaces=[lo, eth0'] })), ['capture.interfaces must be a list (got "[lo, eth0")']);
  t.same(issuesOf(() => validateConfig({}, { sets: ['capture.interfaces=lo]'] })), ['capture.interfaces must be a list (got "lo]")']);
});

t.test('an interface listed twice and sizes past what the consumer takes are refused', async (t) => {
  // Found by review: `lo,lo` opened two handles and counted every packet twice in its flow, and
  // a 3GiB capture buffer wrapped in libpcap's int to 3 MiB, silently.
  t.same(issuesOf(() => validateConfig({}, { sets: ['capture.interfaces=lo,eth0,lo'] })), ['capture.interfaces lists "lo" more than once']);
  t.same(issuesOf(() => validateConfig({}, { sets: ['capture.buffer_size=3GiB'] })),
    ['capture.buffer_size must be a size in bytes such as 67108864 or "64MiB" between 1048576 and 2147483647 (got "3GiB")']);
  t.equal(validateConfig({}, { sets: ['capture.buffer_size=2047MiB'] }).capture.buffer_size, 2047 * 1024 ** 2);
  t.match(issuesOf(() => validateConfig({}, { sets: ['publish.mqtt.max_packet_size=1GiB'] })), [/max_packet_size must be .* between 1024 and 268435455/]);
});

t.test('null given with --set is null, as in YAML: refused for a text, unset for an optional path', async (t) => {
  // Found by review: --set publish.mqtt.client_id=null made the client id the text "null".
  t.same(issuesOf(() => validateConfig({}, { sets: ['publish.mqtt.client_id=null'] })), ['publish.mqtt.client_id must be a string (got null)']);
  t.equal(validateConfig({}, { sets: ['infer.app.path=null'] }).infer.app.path, null);
});
