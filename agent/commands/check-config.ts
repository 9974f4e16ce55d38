/** `eta-sensor check-config`: validate a configuration without starting anything. */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { liveCapture } from '../capture/live-capture.js';
import { interfaceLink } from '../capture/interface-link.js';
import { loadConfig, redactSecrets, type AgentConfig } from '../config.js';
import { folderProblem } from '../lib/make-dir.js';
import { ConfigError, StartupError } from '../errors.js';
import { mqttSettings } from '../publish/mqtt-options.js';
import { checkModelsOpen } from '../infer/models.js';
import { modelsFor } from '../service.js';
import { optBool, optString, optStrings, type Command } from './command.js';

/**
 * The files the configuration names, read and checked as `run` and `replay` would at startup:
 * the models (present, ONNX, with the features the flow meter computes), the MQTT password and
 * TLS files, and the folders the sinks write to. A configuration that passes here must not be
 * refused there for a file (the README's service steps run check-config, then start the unit).
 */
async function fileIssues(cfg: AgentConfig): Promise<string[]> {
  const issues: string[] = [];
  const note = (e: unknown): void => {
    if (!(e instanceof StartupError)) throw e;
    issues.push(e.hint ? `${e.message} (fix: ${e.hint})` : e.message);
  };
  await modelsFor(cfg).then(checkModelsOpen).catch(note);
  const p = cfg.publish;
  if (p.sink === 'mqtt') {
    try {
      mqttSettings(p);
    } catch (e) {
      note(e);
    }
    const problem = folderProblem(p.buffer.dir);
    if (problem) issues.push(`publish.buffer.dir: ${problem}`);
  }
  if (p.sink === 'file' && !isDir(dirname(p.file.path))) {
    issues.push(`publish.file.path: the folder of ${p.file.path} does not exist`);
  }
  return issues;
}

const isDir = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // missing, or a file in its path (ENOTDIR)
  }
};

export const command: Command = {
  name: 'check-config',
  summary: 'validate a configuration file without starting anything',
  usage: 'eta-sensor check-config [-c FILE] [--set KEY=VALUE] [--print]',
  description: `
Reads the YAML configuration (default: built-in defaults only), applies
environment overrides and --set values, and reports every mistake with its
dotted path, e.g. "publish.mqtt.qos must be 0, 1 or 2 (got 3)". The capture
filter is compiled by libpcap as \`run\` would, for the link type of each
configured interface (Ethernet, Linux cooked for \`any\` and PPP, raw IP for
tunnels; Ethernet for an interface this machine does not have). Host names in
it are resolved, as libpcap does. The files it names are read as \`run\` reads
them: the models (checked as at startup), MQTT password and TLS files, and the
folders the records go to. Opens no capture and no broker connection.
Exit code 0 when valid, 2 when not.`,
  positionals: [0, 0],
  options: {
    config: { type: 'string', short: 'c', arg: 'FILE', doc: 'the YAML configuration to check' },
    set: { type: 'string', multiple: true, arg: 'KEY=VALUE', doc: 'override one option, as `run` would' },
    print: { type: 'boolean', doc: 'print the effective configuration (defaults filled in) as JSON, secrets as "***"' },
  },
  async run(args, io) {
    const path = optString(args, 'config');
    const cfg = await loadConfig(path, { sets: optStrings(args, 'set'), env: io.env });
    // Not an error: a configuration may be checked on another machine than the gateway that runs
    // it. But said whatever the filter: a mistyped name passed silently, and under systemd `run`
    // then failed and restarted every few seconds (found by review).
    const links = new Map([...new Set(cfg.capture.interfaces)].map((iface) => [iface, interfaceLink(iface)]));
    for (const [iface, link] of links) {
      if (!link.known) io.stderr.write(`eta-sensor check-config: capture.interfaces: ${iface} is not an interface of this machine (or of a type not known here)${cfg.capture.filter === '' ? '' : '; capture.filter compiled for Ethernet'}\n`);
    }
    const filter = cfg.capture.filter;
    if (filter !== '') {
      let capture;
      try {
        capture = liveCapture();
      } catch (e) {
        // Validating a configuration for another machine should not need a capture build here.
        io.stderr.write(`eta-sensor check-config: capture.filter not compiled: ${(e as Error).message}\n`);
      }
      // For each interface's own link type: "vlan" or "ether host" compile for Ethernet and not
      // for the `any` device or a tunnel, and `run` would stop there.
      const issues: string[] = [];
      if (capture) for (const [iface, link] of links) {
        const error = capture.checkFilter(filter, link.dlt, cfg.capture.snaplen);
        if (error !== undefined) issues.push(`capture.filter: libpcap cannot compile "${filter}" for ${iface} (${link.name}): ${error}`);
      }
      if (issues.length > 0) throw new ConfigError(issues, path);
    }
    const missing = await fileIssues(cfg);
    if (missing.length > 0) throw new ConfigError(missing, path);
    // Secrets print as "***": the output goes to terminals, logs and bug reports. Found by review.
    if (optBool(args, 'print')) io.stdout.write(JSON.stringify(redactSecrets(cfg), null, 2) + '\n');
    else io.stdout.write(`${path ?? 'built-in defaults'}: configuration is valid\n`);
    return 0;
  },
};
