/**
 * The one configuration schema of eta-sensor, assembled from the sections each
 * stage declares. It gives defaults, types, validation with path-qualified
 * messages, environment overrides for secrets, and the documented example file
 * (config/agent.example.yaml is rendered from it and checked by a test).
 * Loading reads the file and validates; it opens no sockets.
 */
import { readFile } from 'node:fs/promises';
import { captureSection } from './capture/config.js';
import { ConfigError, StartupError } from './errors.js';
import { readProblem } from './lib/fs-problem.js';
import { flowsSection } from './flows/config.js';
import { metaSection } from './meta/config.js';
import { closest, defaults, fields, num, oneOf, parseSection, section, type Infer } from './lib/schema.js';
import { inferSection } from './infer/config.js';
import { checkPublishConfig, publishSchema, SECRET_FIELDS } from './publish/config.js';

export const logSection = section('Logging (pino JSON lines; journald collects stdout).', {
  level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    default: 'info', env: 'ETA_LOG_LEVEL',
    doc: 'Minimum level logged. "info" is quiet: startup, shutdown and problems.',
  }),
});

export const serviceSection = section('The daemon itself.', {
  shutdown_timeout: num({
    default: 20, min: 1, max: 600,
    doc: 'Seconds SIGTERM may take: stop capture, end all flows, finish inference, publish, disconnect. Whatever is not delivered by then stays in the disk buffer.',
  }),
});

export const configSchema = section('eta-sensor configuration', {
  capture: captureSection,
  flows: flowsSection,
  meta: metaSection,
  infer: inferSection,
  publish: publishSchema,
  service: serviceSection,
  log: logSection,
});

export type AgentConfig = Infer<typeof configSchema>;

export function defaultConfig(): AgentConfig {
  return defaults(configSchema);
}

/**
 * Validate a parsed document plus overrides. `sets` are "dotted.key=value"
 * strings from the command line; environment variables named by a field's
 * `env` win over the file.
 */
export function validateConfig(doc: unknown, opts: { source?: string; sets?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): AgentConfig {
  const issues: string[] = [];
  const root = (doc ?? {}) as Record<string, unknown>;
  const all = fields(configSchema);
  const overrides: Array<[string, unknown]> = [];
  // The environment first, then --set: the command line wins over /etc/eta-sensor/env (it was the
  // other way round, and a --set of a key the env file also set was ignored: found by review).
  const sets = (opts.sets ?? []).map((set) => {
    const eq = set.indexOf('=');
    return { set, eq, key: (eq < 0 ? set : set.slice(0, eq)).trim() };
  });
  // A key --set gives is not read from the environment at all: a bad value there is not an error then.
  const setKeys = new Set(sets.map((s) => s.key));
  for (const [path, f] of all) {
    const v = f.env !== undefined && !setKeys.has(path) ? opts.env?.[f.env] : undefined;
    if (v !== undefined && v !== '') overrides.push([path, f.parseText(v, `${path} (from ${f.env})`, issues)]);
  }
  for (const { set, eq, key } of sets) {
    const f = all.find(([p]) => p === key);
    if (SECRET_FIELDS.includes(key)) {
      issues.push(`--set ${key}: secrets are not taken from the command line (other users see it in ps); use ${f?.[1].env ?? 'the environment'} or the matching *_file option`);
      continue;
    }
    if (eq < 0) {
      issues.push(`--set ${set}: no value; write --set ${key || 'KEY'}=VALUE`);
      continue;
    }
    if (!f) {
      const paths = all.map(([p]) => p);
      const inSection = paths.filter((p) => p.startsWith(`${key}.`));
      const hint = inSection.length > 0
        ? `${key} is a section: set one of its options, e.g. ${inSection[0]}=...`
        : `${key || '(empty key)'} is not a known option${nearest(key, paths)}`;
      issues.push(`--set ${set}: ${hint} (see config/agent.example.yaml)`);
      continue;
    }
    overrides.push([key, f[1].parseText(set.slice(eq + 1), key, issues)]);
  }
  // Overrides go into mappings only: a document or a section that is not one is left for the
  // schema to report (exit 2). Writing into it threw a TypeError (exit 1, which systemd retries),
  // or replaced a broken section with {} and called the file valid (found by review).
  const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  let merged: unknown = root;
  if (isMapping(root)) {
    merged = structuredClone(root);
    for (const [path, value] of overrides) setPath(merged as Record<string, unknown>, path, value);
  }
  const cfg = parseSection(configSchema, merged, '', issues);
  if (issues.length === 0) issues.push(...checkPublishConfig(cfg.publish, 'publish', opts.env));
  // A value from --set or the environment is checked as it is read and again with the whole
  // configuration: a mistake is listed once.
  if (issues.length > 0) throw new ConfigError([...new Set(issues)], opts.source);
  return cfg;
}

/** The configuration with every secret (SECRET_FIELDS) that is set shown as "***": for printing it. */
export function redactSecrets(cfg: AgentConfig): AgentConfig {
  const copy = structuredClone(cfg) as unknown as Record<string, unknown>;
  for (const path of SECRET_FIELDS) {
    const parts = path.split('.');
    const holder = parts.slice(0, -1).reduce<Record<string, unknown> | undefined>((o, k) => o?.[k] as Record<string, unknown> | undefined, copy);
    const key = parts[parts.length - 1]!;
    if (holder !== undefined && holder[key] !== undefined && holder[key] !== null && holder[key] !== '') holder[key] = '***';
  }
  return copy as unknown as AgentConfig;
}

function nearest(key: string, paths: readonly string[]): string {
  const c = closest(key, paths);
  return c ? ` (did you mean ${c}?)` : '';
}

/** Sets obj's value at a dotted path, making missing sections; a section that is there but not a mapping is left as it is. */
function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] === undefined || cur[p] === null) cur[p] = {};
    const next = cur[p];
    if (typeof next !== 'object' || Array.isArray(next)) return;
    cur = next as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

/** Read and validate a YAML file (or only defaults and overrides when `path` is undefined). */
export async function loadConfig(path: string | undefined, opts: { sets?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Promise<AgentConfig> {
  if (path === undefined) return validateConfig({}, opts);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const p = readProblem(path, e, 'give the path of a YAML file (-c); config/agent.example.yaml documents every option');
    throw new StartupError('E_CONFIG', `cannot read configuration ${path}: ${p.why}`, p.fix);
  }
  // Imported here, not at the top: loading the yaml package takes 70-120 ms, which every command
  // paid at start even without a configuration file (extract on a small capture, --help).
  const { parse: parseYaml, YAMLParseError } = await import('yaml');
  let doc: unknown;
  try {
    // prettyErrors off: the message is the problem alone, where the default ends its first line
    // with "at line 3, column 1:" and the excerpt below, of which only the colon was shown.
    doc = parseYaml(text, { prettyErrors: false });
  } catch (e) {
    const pos = e instanceof YAMLParseError ? e.pos[0] : undefined;
    // An error found only at the end of the text (a quote or bracket never closed) has no line of
    // its own: "line 8" of a 7-line file pointed nowhere (found by review).
    const atEnd = pos !== undefined && text.slice(pos).trim() === '';
    const before = pos === undefined ? [] : text.slice(0, pos).split('\n');
    const line = pos === undefined || atEnd ? undefined : before.length;
    const lineText = line === undefined ? undefined : text.split('\n')[line - 1];
    const where = atEnd ? ' at the end of the file' : line === undefined ? '' : ` at line ${line}, column ${before[before.length - 1]!.length + 1}`;
    // A line that may hold a secret is not quoted: messages reach terminals and the journal (found by review).
    const shown = lineText === undefined || lineText.trim() === '' || /password|secret|:\/\/[^/\s]*@/i.test(lineText) ? '' : ` (line ${line} is ${JSON.stringify(lineText.slice(0, 80))})`;
    // A key given twice (two `flows:` sections) is no indentation mistake (found by review).
    const dup = e instanceof YAMLParseError && e.code === 'DUPLICATE_KEY';
    throw new StartupError('E_CONFIG', `invalid configuration in ${path}: YAML syntax error${where}: ${(e as Error).message.split('\n')[0]}${shown}`,
      dup ? 'give each key once: merge the two sections (or drop one of the two lines)'
        : 'correct the YAML there: indent with spaces, not tabs; close each [ { and quote; put a space after each "key:"');
  }
  return validateConfig(doc, { ...opts, source: path });
}

export const EXAMPLE_HEADER = `eta-sensor configuration: every option, with its default and what it does.
Generated from the schema in agent/config.ts (npm run docs); a test keeps it in step.
Validate a file with: eta-sensor check-config -c <file>`;
