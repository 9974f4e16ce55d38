/**
 * Handshake metadata through the whole flow meter (decoders, tunnels, the
 * lazy inspector plugin) against nDPI on the shared captures: the SNI of
 * every TLS/QUIC/DTLS flow nDPI named, and the JA4 of TLS-over-TCP flows.
 * nDPI's JA4 departs from FoxIO's specification in documented ways (see
 * ndpi-ja4.test.ts); the raw identical share is reported, and the SNI share
 * must be at least 98%.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { extractFile } from '../../agent/flows/extract-file.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { findFlow, haveNdpi, loadNdpiResults, NDPI_PCAPS } from '../helpers/ndpi.js';

const NDPI_RULES = { idleTimeout: 1e9, activeTimeout: 1e9, tcpCloseGrace: 1e9, maxFlows: 65536 };

t.test('SNI and JA4 against nDPI', { skip: haveNdpi ? false : 'no ../shared/data/ndpi', timeout: 600_000 }, async (t) => {
  const results = loadNdpiResults().filter((r) => existsSync(join(NDPI_PCAPS, r.pcap)));
  const wanted = results.filter((r) => (r.sni && ['TLS', 'QUIC', 'DTLS'].includes(r.master)) || r.ja4);
  const byPcap = new Map<string, FlowRecord[]>();
  for (const pcap of new Set(wanted.map((r) => r.pcap))) byPcap.set(pcap, (await extractFile(join(NDPI_PCAPS, pcap), NDPI_RULES)).flows);
  let sniTotal = 0;
  let sniSame = 0;
  let ja4Total = 0;
  let ja4Same = 0;
  const sniDiff: string[] = [];
  for (const r of wanted) {
    const ours = findFlow(byPcap.get(r.pcap) ?? [], r.proto, r.a, r.ap, r.b, r.bp);
    if (r.sni && ['TLS', 'QUIC', 'DTLS'].includes(r.master)) {
      sniTotal++;
      if (ours?.meta?.sni === r.sni) sniSame++;
      else sniDiff.push(`${r.pcap} ${r.a}:${r.ap}-${r.b}:${r.bp} ndpi=${r.sni} ours=${ours ? ours.meta?.sni ?? '(none)' : '(no flow)'}`);
    }
    if (r.ja4 && r.proto === 6) {
      ja4Total++;
      if (ours?.meta?.ja4 === r.ja4) ja4Same++;
    }
  }
  const sniShare = sniSame / sniTotal;
  t.comment(`SNI identical: ${sniSame}/${sniTotal} = ${(sniShare * 100).toFixed(2)}% of nDPI's TLS/QUIC/DTLS flows with an SNI`);
  t.comment(`JA4 identical (TLS over TCP): ${ja4Same}/${ja4Total} = ${((ja4Same / ja4Total) * 100).toFixed(2)}% (nDPI departs from the spec; see ndpi-ja4.test.ts)`);
  for (const d of sniDiff.slice(0, 30)) t.comment(`SNI differs: ${d}`);
  t.ok(sniTotal > 700, `${sniTotal} flows compared`);
  t.ok(sniShare >= 0.98, `SNI share ${(sniShare * 100).toFixed(2)}% >= 98%`);
});
