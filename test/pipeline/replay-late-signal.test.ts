/**
 * A Ctrl-C that comes after replay has read all of its input: it stops nothing (every flow is
 * still published), so replay neither says it stopped early nor exits 130.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcapBytes, type RawPacket } from '../../agent/capture/pcap-writer.js';
import { BIN, cliEnv } from '../helpers/cli.js';
import { eth, ipv4, udp } from '../helpers/packets.js';

t.test('Ctrl-C after the input ended: all published, exit 0, no "stopped" claim', async (t) => {
  // Found by review: 1,000,000 flows published, then "stopped before the end of the input
  // (signal)" and status 130; a script retrying after that appends them all again.
  const dir = mkdtempSync(join(tmpdir(), 'eta-late-signal-'));
  const T0 = 1_700_000_000_000_000;
  // One-packet flows, all alive at the end of the input: no record is written before it ends,
  // and labelling them all (the shipped models) takes seconds after it.
  const packets: RawPacket[] = Array.from({ length: 150_000 }, (_, i) => ({
    ts: T0 + i,
    data: eth(ipv4({ src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, dst: '192.0.2.1', proto: 17 }, udp(1024 + (i % 50_000), 53, Buffer.from('q')))),
  }));
  const capture = join(dir, 'many.pcap');
  writeFileSync(capture, pcapBytes(packets));
  const out = join(dir, 'out.jsonl');
  const child = spawn(process.execPath, [BIN, 'replay', capture, '-o', out], { env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((r) => child.on('close', r));
  const size = (): number => { try { return statSync(out).size; } catch { return 0; } };
  for (let i = 0; i < 600 && size() === 0; i++) await new Promise((r) => setTimeout(r, 25));
  t.ok(size() > 0, 'records being written: the input has ended');
  child.kill('SIGINT');
  t.equal(await closed, 0, err);
  t.notMatch(err, /stopped before the end of the input/);
  t.match(err, /150,000 flows published/);
  t.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 150_000, 'every flow in the file');
});
