/** `eta-sensor check-config`: validate a configuration without starting anything. */
import { loadConfig, redactSecrets } from '../config.js';
import { ConfigError } from '../errors.js';
import { startupIssues } from '../startup-check.js';
import { optBool, optString, optStrings, type Command } from './command.js';

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
file or folder the records go to (writable by the user running the check; a
reload runs the same checks as the service's user). Opens no capture and no broker connection.
Exit code 0 when valid, 2 when not.`,
  positionals: [0, 0],
  options: {
    config: { type: 'string', short: 'c', arg: 'FILE', doc: 'the YAML configuration to check' },
    set: { type: 'string', multiple: true, arg: 'KEY=VALUE', doc: 'override one option, as `run` would' },
    print: { type: 'boolean', doc: 'print the effective configuration (defaults filled in) as JSON, secrets as "***"' },
  },
  async run(args, io) {
    const path = optString(args, 'config');
    const cfg = await loadConfig(path, { sets: optStrings(args, 'set'), env: io.env }).catch((e: unknown) => {
      throw e instanceof ConfigError ? new ConfigError(e.issues, path, true) : e;
    });
    // Warnings are not errors: a configuration may be checked on another machine than the gateway that runs it.
    const issues = await startupIssues(cfg, { models: true, warn: (m) => io.stderr.write(`eta-sensor check-config: ${m}\n`) });
    if (issues.length > 0) throw new ConfigError(issues, path, true);
    // Secrets print as "***": the output goes to terminals, logs and bug reports. Found by review.
    if (optBool(args, 'print')) io.stdout.write(JSON.stringify(redactSecrets(cfg), null, 2) + '\n');
    else io.stdout.write(`${path ?? 'built-in defaults'}: configuration is valid\n`);
    return 0;
  },
};
