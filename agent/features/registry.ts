/**
 * The feature registry: every column a flow record has, declared once.
 *
 * - identity columns say which flow it is (not model inputs);
 * - metadata columns carry what the handshake shows (SNI, ALPN, TLS version,
 *   JA4; not model inputs: a model must work where the SNI is hidden);
 * - features are the model inputs, in this order.
 *
 * A model records the feature names it was trained on and `registryHash()`;
 * the agent refuses at startup a model that needs features not listed here.
 * Changing how an existing feature is computed must bump REGISTRY_VERSION, so
 * models trained on the old definition are recognised as such.
 */
import { createHash } from 'node:crypto';
import { directionalGroup, flowGroup } from './stats-defs.js';
import { sequenceGroup } from './sequence-defs.js';
import type { FeatureDef, FeatureGroup } from './types.js';

export type { FeatureDef, FeatureGroup };

export const REGISTRY_VERSION = 1;

/** Gap that separates active periods (CICFlowMeter's activity timeout). Fixed: it defines features. */
export const ACTIVITY_GAP_S = 5;

/** The feature families, in output order. */
export const GROUPS: readonly FeatureGroup[] = [directionalGroup, flowGroup(`${ACTIVITY_GAP_S} s`), sequenceGroup];

export const FEATURES: readonly FeatureDef[] = GROUPS.flatMap((g) => g.defs);

export const FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);

export interface ColumnDoc {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

export const IDENTITY_COLUMNS: readonly ColumnDoc[] = [
  { name: 'src_ip', unit: 'address', description: 'address of the side that opened the flow: its first sender, or the receiver of a TCP flow first seen at its SYN-ACK' },
  { name: 'src_port', unit: 'port', description: 'its transport port (0 for protocols without ports)' },
  { name: 'dst_ip', unit: 'address', description: 'address of the other side' },
  { name: 'dst_port', unit: 'port', description: 'its transport port' },
  { name: 'proto', unit: 'IANA number', description: 'transport protocol (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...)' },
  { name: 'vlan', unit: 'id', description: 'outer 802.1Q VLAN id (0 if untagged)' },
  { name: 'first_ts', unit: 'ISO 8601', description: 'time of the first packet (UTC, microseconds)' },
  { name: 'last_ts', unit: 'ISO 8601', description: 'time of the last packet' },
  { name: 'end_reason', unit: 'enum', description: 'why the flow ended: idle, active, end, forced, evicted' },
];

export const META_COLUMNS: readonly ColumnDoc[] = [
  { name: 'sni', unit: 'text', description: 'TLS/QUIC server name from the ClientHello (empty if none)' },
  { name: 'alpn', unit: 'text', description: 'ALPN protocols offered by the client, separated by ";" (the first 16: a longer list is cut)' },
  { name: 'tls_version', unit: 'text', description: 'negotiated TLS version where the ServerHello was seen, else the highest offered (QUIC negotiates only 1.3, so a QUIC hello offering 1.3 gives 1.3 without the ServerHello)' },
  { name: 'ja4', unit: 'text', description: 'JA4 client fingerprint (FoxIO)' },
];

/** All column names of an extracted flow row, in output order. */
export const ALL_COLUMNS: readonly string[] = [
  ...IDENTITY_COLUMNS.map((c) => c.name),
  ...META_COLUMNS.map((c) => c.name),
  ...FEATURE_NAMES,
];

let hash: string | undefined;

/** Identifies this registry's feature definitions: version, names, units and byte bases, in order. */
export function registryHash(): string {
  hash ??= createHash('sha256')
    .update(JSON.stringify([REGISTRY_VERSION, FEATURES.map((f) => [f.name, f.unit, f.basis])]))
    .digest('hex')
    .slice(0, 16);
  return hash;
}

/** Names a model needs that this registry does not compute (empty: the agent can serve it). */
export function missingFeatures(names: readonly string[]): string[] {
  const known = new Set(FEATURE_NAMES);
  return names.filter((n) => !known.has(n));
}
