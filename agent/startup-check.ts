/**
 * What `run` would refuse at startup beyond the schema, checked without starting anything: the
 * capture filter compiled for each interface's link type, and the files and folders the
 * configuration names. check-config runs it, and so does a reload (SIGHUP): a reload used to
 * accept a filter libpcap cannot compile or an output that cannot be written, logged "takes effect
 * at the next restart", and that restart exited 2, which systemd does not retry (found by review).
 */
import { statSync } from 'node:fs';
import { liveCapture } from './capture/live-capture.js';
import { interfaceLink } from './capture/interface-link.js';
import type { AgentConfig } from './config.js';
import { StartupError } from './errors.js';
import { checkModelsOpen } from './infer/models.js';
import { fileProblem, folderProblem } from './lib/make-dir.js';
import { QOS2_BROKER_INFLIGHT } from './publish/config.js';
import { mqttSettings, unreadableFiles } from './publish/mqtt-options.js';
import { modelsFor } from './service.js';

export interface CheckOptions {
  /** Open the models as the workers would (a reload opens them anyway, in its workers). */
  readonly models: boolean;
  /** Said, not refused: an interface this machine does not have (the file may be for another), a filter not compiled here. */
  readonly warn: (message: string) => void;
}

/** Every problem found, each as a path-qualified message; empty when `run` would start. */
export async function startupIssues(cfg: AgentConfig, o: CheckOptions): Promise<string[]> {
  const issues = filterIssues(cfg, o.warn);
  const note = (e: unknown): void => {
    if (!(e instanceof StartupError)) throw e;
    issues.push(e.hint ? `${e.message} (fix: ${e.hint})` : e.message);
  };
  if (o.models) await modelsFor(cfg).then(checkModelsOpen).catch(note);
  const p = cfg.publish;
  if (p.sink === 'mqtt' && p.mqtt.qos === 2 && p.mqtt.max_inflight > QOS2_BROKER_INFLIGHT) {
    // Found by review: 100 in flight at QoS 2 against a default Mosquitto delivered nothing, the connection cycling.
    o.warn(`publish.mqtt.max_inflight ${p.mqtt.max_inflight} at qos 2 is above Mosquitto's default max_inflight_messages (${QOS2_BROKER_INFLIGHT}): `
      + `such a broker refuses the rest and closes the connection, and nothing is delivered; raise the broker's limit to ${p.mqtt.max_inflight} or set max_inflight to ${QOS2_BROKER_INFLIGHT} or less`);
  }
  if (p.sink === 'mqtt') {
    const unreadable = unreadableFiles(p);
    unreadable.forEach(note);
    try {
      if (unreadable.length === 0) mqttSettings(p);
    } catch (e) {
      note(e);
    }
    const problem = folderProblem(p.buffer.dir);
    if (problem) issues.push(`publish.buffer.dir: ${problem}`);
    // Secrets other users can read are said, not refused (found by review: a 0644 password file passed in silence).
    for (const [option, file] of [['publish.mqtt.password_file', p.mqtt.password_file], ['publish.mqtt.tls.key', p.mqtt.tls.key]] as const) {
      const mode = file === null ? 0 : modeOf(file);
      if ((mode & 0o044) !== 0) {
        o.warn(`${option} (${file}) can be read by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 it, owned by the agent's user `
          + '(under the unit\'s DynamicUser, give the password in /etc/eta-sensor/env instead, or with LoadCredential=)');
      }
    }
  }
  const problem = p.sink === 'file' ? fileProblem(p.file.path) : undefined;
  if (problem) issues.push(`publish.file.path: ${problem}`);
  return issues;
}

function filterIssues(cfg: AgentConfig, warn: (message: string) => void): string[] {
  // Said whatever the filter: a mistyped name passed silently, and under systemd `run` then
  // failed and restarted every few seconds (found by review).
  const links = new Map(cfg.capture.interfaces.map((iface) => [iface, interfaceLink(iface)]));
  const filter = cfg.capture.filter;
  for (const [iface, link] of links) {
    if (!link.known) warn(`capture.interfaces: ${iface} is not an interface of this machine (or of a type not known here)${filter === '' ? '' : '; capture.filter compiled for Ethernet'}`);
  }
  if (filter === '') return [];
  let capture;
  try {
    capture = liveCapture();
  } catch (e) {
    // Validating a configuration for another machine should not need a capture build here.
    warn(`capture.filter not compiled: ${(e as Error).message}`);
    return [];
  }
  // For each interface's own link type: "vlan" or "ether host" compile for Ethernet and not for
  // the `any` device or a tunnel, and `run` would stop there.
  const issues: string[] = [];
  for (const [iface, link] of links) {
    const error = capture.checkFilter(filter, link.dlt, cfg.capture.snaplen);
    if (error !== undefined) issues.push(`capture.filter: libpcap cannot compile "${filter}" for ${iface} (${link.name}): ${error}`);
  }
  return issues;
}

/** A file's permission bits, 0 when it cannot be read (reported as unreadable elsewhere). */
function modeOf(file: string): number {
  try {
    return statSync(file).mode;
  } catch {
    return 0;
  }
}
