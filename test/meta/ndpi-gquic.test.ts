/**
 * Google QUIC against nDPI on its captures (shared data, skipped when absent): every flow
 * nDPI printed with a Google QUIC version ("QUIC ver: Q0xx" or "T05x") is replayed through
 * the inspector (the config's default limits). Where nDPI found an SNI ours must be the
 * same; where it found none ours must be none too; the version must be the one nDPI saw.
 * This is what proves the salts of Q050/T050/T051, the null-encryption hash of Q024-Q046
 * and the header layouts on real traffic, not only on packets the tests built.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inspector } from '../../agent/meta/inspector.js';
import { flowKey, normAddr, packets } from './pcap-lite.js';
import { NDPI_DIR } from '../helpers/ndpi.js';

const DATA = NDPI_DIR;
const LIMITS = { enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 };

interface Want {
  sni: string | null;
  version: string;
}

/** nDPI's gQUIC flows of one result file, by flow key. */
function wanted(text: string): Map<string, Want> {
  const out = new Map<string, Want>();
  for (const line of text.split('\n')) {
    const m = /^\s*\d+\s+UDP (\S+):(\d+) <?-> (\S+):(\d+) .*\[QUIC ver: ([QT]0\d\d)\]/.exec(line);
    if (!m) continue;
    const key = flowKey(17, normAddr(m[1]!), Number(m[2]), normAddr(m[3]!), Number(m[4]));
    out.set(key, { sni: /\[Hostname\/SNI: ([^\]]*)\]/.exec(line)?.[1] ?? null, version: m[5]! });
  }
  return out;
}

t.test('gQUIC SNI and version agree with nDPI on every Google QUIC flow of its captures', { skip: existsSync(join(DATA, 'result')) ? false : `${DATA} is absent` }, async (t) => {
  const perCapture: string[] = [];
  const differ: string[] = [];
  let withSni = 0;
  let sameSni = 0;
  let flowsSeen = 0;
  for (const out of readdirSync(join(DATA, 'result')).sort()) {
    const want = wanted(readFileSync(join(DATA, 'result', out), 'utf8'));
    const pcap = join(DATA, 'pcap', out.replace(/\.out$/, ''));
    if (want.size === 0 || !existsSync(pcap)) continue;
    const flows = new Map<string, { insp: Inspector; first: string; done: boolean; errors: string[] }>();
    for (const p of packets(pcap)) {
      if (p.proto !== 17) continue;
      const key = flowKey(17, normAddr(p.src), p.sport, normAddr(p.dst), p.dport);
      if (!want.has(key)) continue;
      const src = `${normAddr(p.src)}#${p.sport}`;
      let fl = flows.get(key);
      if (fl === undefined) {
        const errors: string[] = [];
        flows.set(key, (fl = { insp: new Inspector(LIMITS, (r) => errors.push(r)), first: src, done: false, errors }));
      }
      if (!fl.done) fl.done = fl.insp.onPacket(src === fl.first ? 0 : 1, 17, p.payload, 0, 0);
    }
    let n = 0;
    let same = 0;
    for (const [key, w] of want) {
      flowsSeen++;
      const r = flows.get(key)?.insp.result();
      const ours = r?.sni ?? null;
      if (w.sni !== null) {
        withSni++;
        n++;
      }
      const ok = ours === w.sni && (w.sni === null || r?.quicVersion === w.version);
      if (ok && w.sni !== null) {
        sameSni++;
        same++;
      }
      if (!ok) differ.push(`${out} ${key} ${w.version}: nDPI ${w.sni} ours ${ours} (${r?.quicVersion ?? 'no version'}; ${flows.get(key)?.errors.join(',') ?? 'no packets'})`);
    }
    perCapture.push(`${out.replace(/\.out$/, '')} ${[...new Set([...want.values()].map((w) => w.version))].join('/')}: ${same}/${n}`);
  }
  t.comment(`per capture (same SNI / nDPI flows with an SNI): ${perCapture.join('; ')}`);
  t.comment(`${sameSni}/${withSni} SNIs identical over ${flowsSeen} gQUIC flows`);
  t.ok(withSni >= 24, `${withSni} nDPI gQUIC flows with an SNI`);
  t.same(differ, [], 'every gQUIC flow: same SNI (or none) and the same version');
});
