/**
 * Feature vectors are reused once their record is published (features/feature-rows.ts): a
 * replay with both models, in batches of 7 and at most 100 flows waiting (more than a chunk of
 * 64 rows), of 3,000 flows that end one after another while others wait for inference. Had a
 * row been given back before its record was published (checked: released at submit, this test
 * fails), a later record would carry another flow's (or zeroed) packet and byte counts.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePcap, type RawPacket } from '../../agent/capture/pcap-writer.js';
import { runCli } from '../helpers/cli.js';
import { tinyModelArgs } from '../helpers/models.js';
import { eth, ipv4, udp } from '../helpers/packets.js';

const FLOWS = 3000;
const packetsOf = (i: number): number => (i % 13) + 1;
const payloadOf = (i: number): number => i % 97;

t.test('every record keeps its own flow\'s counts while rows are reused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-rows-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const packets: RawPacket[] = [];
  const start = 1_700_000_000_000_000; // µs
  for (let i = 0; i < FLOWS; i++) {
    const frame = eth(ipv4({ src: '10.1.0.1', dst: '10.2.0.2', proto: 17 }, udp(10_000 + i, 53, Buffer.alloc(payloadOf(i), 1))));
    // Flow i starts 5 ms after flow i - 1; with a 1 s idle timeout, flows end all along the replay.
    for (let k = 0; k < packetsOf(i); k++) packets.push({ ts: start + i * 5000 + k * 100, data: frame });
  }
  packets.sort((a, b) => a.ts - b.ts);
  const pcap = join(dir, 'flows.pcap');
  writePcap(pcap, packets);
  const r = await runCli(['replay', pcap, ...(await tinyModelArgs(dir)), '--set', 'infer.batch_size=7', '--set', 'infer.max_queue=100', '--set', 'flows.idle_timeout=1']);
  t.equal(r.code, 0, r.stderr);
  const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { flow: { src_port: number; packets: number[]; bytes: number[] }; app: unknown });
  t.equal(recs.length, FLOWS);
  const wrong = recs.filter((x) => {
    const i = x.flow.src_port - 10_000;
    return x.flow.packets[0] !== packetsOf(i) || x.flow.bytes[0] !== packetsOf(i) * (20 + 8 + payloadOf(i)) || x.app === null;
  });
  t.same(wrong.slice(0, 3), [], `records with counts not their flow's: ${wrong.length}`);
});
