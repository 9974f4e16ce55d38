import { execFileSync, spawn } from 'node:child_process';
import t from 'tap';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_COLUMNS, FEATURE_NAMES } from '../../agent/features/registry.js';
import { BIN, cliEnv, runCli, runCliIntoFifo, untilIdle } from '../helpers/cli.js';
import { eth, F, ipv4, tcp, udp } from '../helpers/packets.js';
import { idb, otherBlock, pcapBytes, pcapngBytes, shb, type RawPacket } from '../../agent/capture/pcap-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'eta-extract-'));
const T0 = 1_700_000_000_000_000;
const packets: RawPacket[] = [
  { ts: T0, data: eth(ipv4({ src: '10.1.1.1', dst: '10.2.2.2', proto: 6 }, tcp({ sport: 40000, dport: 443, flags: F.SYN }))) },
  { ts: T0 + 1000, data: eth(ipv4({ src: '10.2.2.2', dst: '10.1.1.1', proto: 6 }, tcp({ sport: 443, dport: 40000, flags: F.SYN | F.ACK }))) },
  { ts: T0 + 2000, data: eth(ipv4({ src: '10.1.1.1', dst: '10.3.3.3', proto: 17 }, udp(5353, 53, Buffer.from('query')))) },
  { ts: T0 + 3000, data: Buffer.from('not a frame') },
];
const pcap = join(dir, 'small.pcap');
writeFileSync(pcap, pcapBytes(packets));

function parseCsv(text: string): Array<Record<string, string>> {
  const [head, ...rows] = text.trim().split('\n');
  const cols = head!.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i], v])));
}

t.test('CSV to a file: header, identity first, one row per flow, summary on stderr', async (t) => {
  const out = join(dir, 'flows.csv');
  const r = await runCli(['extract', pcap, '-o', out]);
  t.equal(r.code, 0, r.stderr);
  const text = readFileSync(out, 'utf8');
  t.equal(text.split('\n')[0], ALL_COLUMNS.join(','));
  const rows = parseCsv(text);
  t.equal(rows.length, 2);
  const tcpRow = rows.find((x) => x['proto'] === '6')!;
  t.same([tcpRow['src_ip'], tcpRow['src_port'], tcpRow['dst_ip'], tcpRow['dst_port'], tcpRow['end_reason']], ['10.1.1.1', '40000', '10.2.2.2', '443', 'forced']);
  t.equal(tcpRow['first_ts'], '2023-11-14T22:13:20.000000Z');
  t.equal(tcpRow['last_ts'], '2023-11-14T22:13:20.001000Z');
  t.same([tcpRow['src2dst_packets'], tcpRow['dst2src_packets'], tcpRow['bidirectional_duration_ms']], ['1', '1', '1']);
  t.match(r.stderr, /4 packets read, 3 in flows, 1 skipped \(truncated 1\)/);
  t.match(r.stderr, /2 flows written; ended by: forced 2/);
});

t.test('JSONL to stdout, pcapng input', async (t) => {
  const ng = join(dir, 'small.pcapng');
  writeFileSync(ng, pcapngBytes([{ linkType: 1 }], packets));
  const r = await runCli(['extract', ng, '--format', 'jsonl', '--summary', 'none']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(rows.length, 2);
  t.same(Object.keys(rows[0]!), ALL_COLUMNS);
  t.equal(typeof rows[0]![FEATURE_NAMES[0]!], 'number');
});

t.test('-o FILE.JSONL writes JSON lines, whatever the case of the extension (it wrote CSV: found by review)', async (t) => {
  const ng = join(dir, 'small-upper.pcapng');
  writeFileSync(ng, pcapngBytes([{ linkType: 1 }], packets));
  const out = join(dir, 'ROWS.JSONL');
  const r = await runCli(['extract', ng, '-o', out, '--summary', 'none']);
  t.equal(r.code, 0, r.stderr);
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(rows.length, 2);
});

t.test('-q says nothing on standard error, as replay -q (found by review: extract had no -q)', async (t) => {
  const out = join(dir, 'quiet.csv');
  const r = await runCli(['extract', pcap, '-o', out, '-q']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  t.equal(parseCsv(readFileSync(out, 'utf8')).length, 2);
});

t.test('a pcapng of Simple Packet Blocks: the summary says its packets had no timestamp (found by review: flows dated 1970, no word)', async (t) => {
  const spb = (data: Buffer): Buffer => {
    const body = Buffer.alloc(4 + Math.ceil(data.length / 4) * 4);
    body.writeUInt32LE(data.length, 0);
    data.copy(body, 4);
    return otherBlock(3, body);
  };
  const ng = join(dir, 'spb.pcapng');
  writeFileSync(ng, Buffer.concat([shb(), idb({ linkType: 1 }), ...packets.map((p) => spb(p.data))]));
  const r = await runCli(['extract', ng, '-o', join(dir, 'spb.csv')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, new RegExp(`\\n {2}${packets.length} packets carried no timestamp \\(pcapng Simple Packet Blocks\\).*not real\\n`));
  const replay = await runCli(['replay', ng, '-o', '/dev/null', '--set', 'infer.app.path=null', '--set', 'infer.attribution.path=null']);
  t.match(replay.stderr, /; \d+ packets carried no timestamp \(pcapng Simple Packet Blocks\)/);
});

t.test('standard input with -', async (t) => {
  const r = await runCli(['extract', '-', '--summary', 'json'], { input: readFileSync(pcap) });
  t.equal(r.code, 0, r.stderr);
  t.equal(parseCsv(r.stdout).length, 2);
  const summary = JSON.parse(r.stderr) as { packets: number; rows: number; seconds: number; cpuSeconds: number };
  t.same([summary.packets, summary.rows], [3, 2]);
  // The process's CPU time, all threads: at least the start-up of Node and the writer thread.
  t.ok(summary.cpuSeconds > 0.01 && summary.cpuSeconds < 60, `cpuSeconds ${summary.cpuSeconds}`);
});

t.test('a truncated capture: flows before the damage written, file and offset named, exit 1', async (t) => {
  const whole = pcapBytes(packets.slice(0, 3));
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, whole.length - 3)); // inside the UDP payload: its headers survive
  const out = join(dir, 'cut.csv');
  const r = await runCli(['extract', cut, '-o', out]);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`${cut.replace(/[.]/g, '\\.')}: truncated capture.*at byte offset \\d+`));
  t.match(r.stderr, /\n {2}fix: the rest of the file cannot be read: if it was cut short .*copy it whole again/, 'a fix named (found by review: none was)');
  const rows = parseCsv(readFileSync(out, 'utf8'));
  t.equal(rows.length, 2, 'the TCP flow and the (cut) UDP flow are both written');
});

t.test('settings from --set and a config file; mistakes are named', async (t) => {
  const slow: RawPacket[] = [
    { ts: T0, data: packets[2]!.data },
    { ts: T0 + 40e6, data: packets[2]!.data },
  ];
  const p = join(dir, 'slow.pcap');
  writeFileSync(p, pcapBytes(slow));
  const split = await runCli(['extract', p, '--set', 'flows.idle_timeout=30', '--summary', 'none']);
  t.same(parseCsv(split.stdout).map((r) => r['end_reason']), ['idle', 'forced']);
  const cfg = join(dir, 'cfg.yaml');
  writeFileSync(cfg, 'flows:\n  idle_timeout: 60\n');
  const kept = await runCli(['extract', p, '-c', cfg, '--summary', 'none']);
  t.equal(parseCsv(kept.stdout).length, 1);
  const bad = await runCli(['extract', p, '--set', 'flows.idle_timout=5']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /flows\.idle_timout is not a known option/);
  const badValue = await runCli(['extract', p, '--set', 'flows.max_flows=0']);
  t.equal(badValue.code, 2);
  t.match(badValue.stderr, /flows\.max_flows must be an integer between 1 and 50000000 \(got 0\)/);
});

t.test('usage errors exit 2 with a pointer to --help', async (t) => {
  const none = await runCli(['extract']);
  t.equal(none.code, 2);
  t.match(none.stderr, /missing argument/);
  const missing = await runCli(['extract', join(dir, 'nope.pcap')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /cannot open capture .*nope\.pcap: no such file/);
  const fmt = await runCli(['extract', pcap, '--format', 'xml']);
  t.equal(fmt.code, 2);
  t.match(fmt.stderr, /--format must be csv or jsonl/);
});

t.test('Ctrl-C while standard input is open but idle: the flows so far are written and extract exits at once', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'eta-idle-')), 'flows.csv');
  const child = spawn(process.execPath, [BIN, 'extract', '-', '-o', out, '--summary', 'none'], { env: cliEnv(), stdio: ['pipe', 'ignore', 'pipe'] });
  // Written whole (the callback: all of it is in the pipe, so extract has read all but its last
  // 64 KB) and the pipe stays open, as a live tcpdump's would; then extract reads and waits.
  await new Promise<void>((resolve, reject) => child.stdin.write(readFileSync('samples/lo-sessions.pcap'), (e) => (e ? reject(e) : resolve())));
  await untilIdle(child.pid!);
  const sent = Date.now();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const took = Date.now() - sent;
  child.stdin.destroy();
  t.equal(code, 130);
  t.ok(took < 5000, `exited ${took} ms after SIGINT (it used to wait for the pipe to end)`);
  t.equal(readFileSync(out, 'utf8').trim().split('\n').length, 8, 'header and the 7 flows read before');
});

t.test('-o - is standard output, not a file named "-" (extract, replay)', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'eta-dash-'));
  const ex = await runCli(['extract', pcap, '-o', '-', '--summary', 'none'], { cwd });
  t.equal(ex.code, 0, ex.stderr);
  t.match(ex.stdout, /^src_ip,src_port,/);
  const rp = await runCli(['replay', pcap, '-o', '-', '-q', '--set', 'infer.app.path=null', '--set', 'infer.attribution.path=null'], { cwd });
  t.equal(rp.code, 0, rp.stderr);
  t.match(rp.stdout, /^\{"v":1,/);
  t.notOk(existsSync(join(cwd, '-')), 'no file named "-"');
});

t.test('standard input: memory stays flat however much is read', async (t) => {
  // Found by review: each read from a pipe left its chunk reachable (a Promise.race on one
  // promise for the whole input), and `tcpdump -w - | eta-sensor extract -` grew by every byte:
  // 4 GB of RSS for 4 GB of input. Here 300 MB of empty records: about 140 MB now, 430 before.
  const child = spawn(process.execPath, [BIN, 'extract', '-', '-o', '/dev/null', '--summary', 'json'], { env: cliEnv(), stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.write(pcapBytes([]));
  const zeros = Buffer.alloc(1 << 20);
  for (let i = 0; i < 300; i++) if (!child.stdin.write(zeros)) await new Promise((r) => child.stdin.once('drain', r));
  child.stdin.end();
  t.equal(await new Promise<number | null>((r) => child.on('close', r)), 0, err);
  const s = JSON.parse(err.trim().split('\n').pop()!) as { frames: number; maxRssKiB: number };
  t.equal(s.frames, 300 * (1 << 20) / 16, 'every 16-byte empty record read');
  t.ok(s.maxRssKiB < 250_000, `peak RSS ${s.maxRssKiB} KiB`);
});

t.test('-o to a named pipe: waits for a reader without blocking, Ctrl-C ends the wait, a reader gets the rows', async (t) => {
  // Found by review: open() of the pipe blocked the thread; Ctrl-C and SIGTERM did nothing, and
  // once a reader came the whole extract ran and exited 0.
  const fifo = join(dir, 'rows.fifo');
  execFileSync('mkfifo', [fifo]);
  const child = spawn(process.execPath, [BIN, 'extract', pcap, '-o', fifo], { env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((r) => child.on('close', r));
  await untilIdle(child.pid!);
  const at = Date.now();
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  t.equal(await closed, 130, err);
  clearTimeout(timer);
  t.ok(Date.now() - at < 5000, `ended ${Date.now() - at} ms after Ctrl-C`);
  const { r, got } = await runCliIntoFifo(['extract', pcap, '-o', fifo, '--summary', 'none'], fifo);
  t.equal(r.code, 0, r.stderr);
  t.equal(parseCsv(got).length, 2, 'the reader got the rows');
});

t.test('-o a file: replaced only when extract ends, so a run killed midway leaves it as it was', async (t) => {
  // Found by review: the file was emptied at the start; a run killed (or out of memory) left a
  // CSV cut short that looked whole.
  const out = join(dir, 'kept.csv');
  writeFileSync(out, 'precious\n');
  const input = join(dir, 'slow.fifo');
  execFileSync('mkfifo', [input]);
  const child = spawn(process.execPath, [BIN, 'extract', input, '-o', out], { env: cliEnv(), stdio: ['ignore', 'ignore', 'ignore'] });
  const closed = new Promise((r) => child.on('close', r));
  const feed = createWriteStream(input);
  feed.write(pcapBytes(packets)); // the capture's packets, and the pipe left open: extract waits for more
  // Named <file>.tmp-<pid>-<random> (lib/output-file.ts: no one can plant a link under it ahead).
  const mine = (): string[] => readdirSync(dir).filter((f) => f.startsWith(`kept.csv.tmp-${child.pid}-`));
  for (let i = 0; i < 200 && mine().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  t.equal(mine().length, 1, 'rows go to a file beside it');
  const tmp = mine()[0]!;
  child.kill('SIGKILL');
  await closed;
  feed.destroy();
  t.equal(readFileSync(out, 'utf8'), 'precious\n', 'the old file is untouched');
  const r = await runCli(['extract', pcap, '-o', out, '--summary', 'none']);
  t.equal(r.code, 0, r.stderr);
  t.equal(parseCsv(readFileSync(out, 'utf8')).length, 2, 'a whole run replaces it');
  t.same(readdirSync(dir).filter((f) => f.startsWith('kept.csv.tmp-')), [tmp], 'and leaves no file beside it (the killed run\'s stays)');
});
