/**
 * A UDP flow through the flow meter (C's fast paths, then JavaScript's reader for what C leaves)
 * and through a bare inspector fed only through onPacket: the tests of C's in-place readers
 * (quic-in-place, gquic-in-place) want the same metadata and reports from both.
 */
import type { Test } from 'tap';
import type { FlowMeta } from '../../agent/features/record.js';
import { Inspector } from '../../agent/meta/inspector.js';
import type { MetaLimits } from '../../agent/meta/index.js';
import { meterWithSpy } from './spy-meter.js';
import { eth, ipv4, udp } from '../helpers/packets.js';

export type Datagram = readonly [dir: 0 | 1, bytes: Buffer];

let port = 20000;

/**
 * The flow through the flow meter: its metadata, error reports, and whether C read it all (no
 * packet reached JavaScript; with `keptNeedsMeta`, and kept a hello: QUIC's tests count a flow C
 * passed over as not read).
 */
export function metered(flow: readonly Datagram[], limits: MetaLimits, keptNeedsMeta = false): { meta: FlowMeta | null; errors: string[]; kept: boolean } {
  const { spy, send, finish, flows, errors } = meterWithSpy(64, limits);
  const sport = ++port;
  flow.forEach(([dir, p], i) => {
    const ends = dir === 0 ? { src: '10.5.0.1', dst: '10.5.0.2' } : { src: '10.5.0.2', dst: '10.5.0.1' };
    send(i, eth(ipv4({ ...ends, proto: 17 }, dir === 0 ? udp(sport, 443, p) : udp(443, sport, p))));
  });
  finish();
  const meta = flows[0]?.meta ?? null;
  return { meta, errors, kept: spy.seen.length === 0 && (meta !== null || !keptNeedsMeta) };
}

/** Run the flow both ways; returns whether C read it without JavaScript (metered's `kept`). */
export function compare(t: Test, flow: readonly Datagram[], limits: MetaLimits, keptNeedsMeta = false): boolean {
  const refErrors: string[] = [];
  const ref = new Inspector(limits, (r) => refErrors.push(r));
  for (const [dir, p] of flow) ref.onPacket(dir, 17, p, 0, 0);
  ref.flowEnded();
  const r = ref.result();
  const found = r.sni !== null || r.ja4 !== null || r.tlsVersion !== null || r.alpn.length > 0;
  const got = metered(flow, limits, keptNeedsMeta);
  t.same(got.meta, found ? r : null, 'same metadata');
  // In any order: C counts a flow's reports when it ends, reason by reason (flow-plugin.ts reportBits).
  t.same([...got.errors].sort(), [...refErrors].sort(), 'same error reports');
  return got.kept;
}
