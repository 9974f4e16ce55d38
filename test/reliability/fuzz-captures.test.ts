/**
 * Hostile captures never crash or hang the flow meter: mutated copies of the
 * project's sample and of generated captures (pcap and pcapng, several link
 * types) are read to the end or to a clean error, with memory bounded. CI runs
 * a bounded number of iterations; `node dist/scripts/fuzz.js <n>` runs more.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcapBytes, pcapngBytes } from '../../agent/capture/pcap-writer.js';
import { extractFile } from '../../agent/flows/extract-file.js';
import { mutate, rng } from '../helpers/fuzz.js';
import { eth, F, frag6, ipv4, ipv6, tcp, udp } from '../helpers/packets.js';

const SAMPLE = new URL('../../../samples/lo-sessions.pcap', import.meta.url).pathname;
const ITERATIONS = Number(process.env['ETA_FUZZ_ITERATIONS'] ?? 1000);

function corpus(): Buffer[] {
  const T = 1.7e15;
  const pkts = [
    eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6 }, tcp({ sport: 1, dport: 443, flags: F.SYN })), { vlans: [7] }),
    eth(ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nh: 17, ext: [[0, Buffer.alloc(6)], [44, frag6(0, true, 5)]] }, udp(5, 6, Buffer.alloc(80)))),
    eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 9, mf: true }, udp(53, 5353, Buffer.alloc(200)))),
    eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 9, fragOffset: 208 }, Buffer.alloc(100))),
    eth(ipv4({ src: '10.1.1.1', dst: '10.2.2.2', proto: 17 }, udp(2152, 2152, Buffer.concat([Buffer.from([0x30, 0xff, 0, 48, 0, 0, 0, 1]),
      ipv4({ src: '100.64.0.1', dst: '8.8.8.8', proto: 6 }, tcp({ sport: 9, dport: 80 }))])))),
  ].map((data, i) => ({ ts: T + i * 1000, data }));
  return [
    readFileSync(SAMPLE),
    pcapBytes(pkts),
    pcapBytes(pkts, { bigEndian: true, nanoseconds: true }),
    pcapngBytes([{ linkType: 1 }, { linkType: 101, tsresol: 9 }], [...pkts, { ts: T, data: pkts[0]!.data.subarray(14), iface: 1 }]),
  ];
}

t.test(`${ITERATIONS} mutated captures: no crash, no hang, bounded memory`, { timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-fuzz-'));
  const seeds = corpus();
  const r = rng(Number(process.env['ETA_FUZZ_SEED'] ?? 20261125));
  const rss0 = process.memoryUsage().rss;
  let errors = 0;
  let flows = 0;
  const path = join(dir, 'mutant.pcap');
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(seeds[i % seeds.length]!, r);
    writeFileSync(path, input);
    const started = Date.now();
    try {
      const res = await extractFile(path, { maxFlows: 4096 });
      flows += res.flows.length;
      if (res.end.reason === 'error') errors++;
    } catch (e) {
      // Only a startup error is allowed: an input that is not a capture at all (its magic number was hit).
      if ((e as { code?: string }).code !== 'E_INPUT') {
        writeFileSync(join(dir, `crash-${i}.pcap`), input);
        t.fail(`iteration ${i}: ${(e as Error).stack}`);
      }
    }
    if (Date.now() - started > 5000) t.fail(`iteration ${i} took ${Date.now() - started} ms`);
  }
  const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
  t.comment(`${ITERATIONS} mutants: ${errors} ended with a reported capture error, ${flows} flows read`);
  t.ok(grown < 300, `memory grew ${grown.toFixed(0)} MiB`);
});
