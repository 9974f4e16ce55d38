/** CSV replay's reader on its own: a replay stopped before its first row reads none. */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsvInput, readCsvRows, parseTs } from '../../agent/capture/csv-rows.js';

t.test('an input stopped before the first row (Ctrl-C while starting) reads no row', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-csv-rows-'));
  const csv = join(dir, 'rows.csv');
  writeFileSync(csv, 'a,b\n' + '1,2\n'.repeat(50_000));
  const seen: number[] = [];
  const stopped = new AbortController();
  stopped.abort();
  const r = await readCsvRows(await CsvInput.open(csv), ['a', 'b'], (rec) => void seen.push(rec.features[0]!), { badRows: 'skip', onBadRow: () => undefined }, stopped.signal);
  t.equal(r.rows, 0);
  t.equal(seen.length, 0, 'the 50,000 rows were not replayed');
  const all = await readCsvRows(await CsvInput.open(csv), ['a', 'b'], () => undefined, { badRows: 'skip', onBadRow: () => undefined });
  t.equal(all.rows, 50_000, 'without the signal, every row');
});

t.test('an identity cell that does not read is reported, and its row still replayed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-csv-rows-'));
  const csv = join(dir, 'rows.csv');
  writeFileSync(csv, [
    'src_ip,src_port,dst_ip,dst_port,proto,vlan,first_ts,last_ts,end_reason,a',
    '10.0.0.1,443,10.0.0.2,51000,6,0,2026-11-27T10:00:00.000001Z,2026-11-27T10:00:01.500000Z,idle,1',
    '10.0.0.1,http,10.0.0.2,70000,6,,yesterday,1764237601.5,finished,2',
    '10.0.0.1,-1,10.0.0.2,1.5,300,4096,,,,3',
    'not-an-ip,443, 2001:db8::1 ,51000,6,0,,,,4',
    '10.0.0.300,443,fe80::1%eth0,51000,6,0,,,,5',
  ].join('\n') + '\n');
  const bad: Array<[number, string, string]> = [];
  const recs: Array<{ srcIp: string; dstIp: string; srcPort: number; dstPort: number; proto: number; vlan: number; firstTs: number; lastTs: number; endReason: string; a: number }> = [];
  const r = await readCsvRows(await CsvInput.open(csv), ['a'], (rec) => void recs.push({ ...rec, a: rec.features[0]! }), {
    badRows: 'skip', onBadRow: () => t.fail('no feature cell is bad'), onBadIdentity: (line, column, value) => void bad.push([line, column, value]),
  });
  t.equal(r.rows, 5, 'every row replayed');
  t.equal(r.skipped, 0);
  t.match(recs[0], { srcPort: 443, dstPort: 51000, proto: 6, vlan: 0, firstTs: Date.parse('2026-11-27T10:00:00Z') * 1000 + 1, endReason: 'idle', a: 1 });
  t.match(recs[1], { srcPort: 0, dstPort: 0, vlan: 0, firstTs: 0, lastTs: 1764237601.5e6, endReason: 'forced', a: 2 }, 'unreadable cells are 0, forced; an empty VLAN is 0; seconds since the epoch read');
  t.match(recs[2], { srcPort: 0, dstPort: 0, proto: 0, vlan: 0, firstTs: 0, lastTs: 0, endReason: 'forced', a: 3 }, 'out of range is unreadable; empty cells are unknown');
  t.match(recs[0], { srcIp: '10.0.0.1', dstIp: '10.0.0.2' });
  t.match(recs[3], { srcIp: '', dstIp: '2001:db8::1', a: 4 }, 'an address that is not one is left out; spaces around one are not kept');
  t.match(recs[4], { srcIp: '', dstIp: 'fe80::1%eth0', a: 5 });
  t.same(bad, [
    [3, 'src_port', 'http'], [3, 'dst_port', '70000'], [3, 'first_ts', 'yesterday'], [3, 'end_reason', 'finished'],
    [4, 'src_port', '-1'], [4, 'dst_port', '1.5'], [4, 'proto', '300'], [4, 'vlan', '4096'],
    [5, 'src_ip', 'not-an-ip'], [6, 'src_ip', '10.0.0.300'],
  ], 'each unreadable cell once, by line and column; empty ones are not reported');
});

t.test('timestamp cells: epoch seconds, ISO 8601 with or without a zone, to the microsecond, whatever TZ', async (t) => {
  // Found by review: "12.5" was a date in 2001 (Date.parse), a time without a zone moved with the
  // machine's TZ, and +00:00 or a nanosecond fraction lost the microseconds.
  const base = Date.UTC(2026, 10, 25, 22, 30, 50) * 1000;
  t.equal(parseTs('12.5'), 12_500_000);
  t.equal(parseTs('1764109850.580835'), 1_764_109_850_580_835);
  t.equal(parseTs('2026-11-25T22:30:50.580835Z'), base + 580_835);
  t.equal(parseTs('2026-11-25 22:30:50.580835'), base + 580_835, 'no zone: UTC, as extract writes');
  t.equal(parseTs('2026-11-25T22:30:50.610670+00:00'), base + 610_670);
  t.equal(parseTs('2026-11-25T23:30:50.5+01:00'), base + 500_000);
  t.equal(parseTs('2026-11-25T22:30:50.580835123Z'), base + 580_835, 'nanoseconds cut to microseconds');
  for (const bad of ['', 'abc', 'Nov 25 2026', '2026-11-25']) t.ok(Number.isNaN(parseTs(bad)), JSON.stringify(bad));
});

t.test('a server name or ALPN that extract wrote after a formula guard reads back as it came (found by review)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-csv-rows-'));
  const csv = join(dir, 'rows.csv');
  writeFileSync(csv, ['sni,alpn,a', "'-ideo.example,'=x;h2,1", 'plain.example,h2,2'].join('\n') + '\n');
  const metas: unknown[] = [];
  await readCsvRows(await CsvInput.open(csv), ['a'], (rec) => void metas.push(rec.meta && { sni: rec.meta.sni, alpn: rec.meta.alpn }), { badRows: 'skip', onBadRow: () => undefined });
  t.same(metas, [{ sni: '-ideo.example', alpn: ['=x', 'h2'] }, { sni: 'plain.example', alpn: ['h2'] }]);
});

t.test('every SNI and ALPN text comes back from extract\'s CSV as it was, one that begins with \' too', async (t) => {
  // Found by review: "'-x" and "-x" were written as the same cell, so one of them came back changed.
  const { csvText } = await import('../../agent/features/format.js');
  const texts = ["'-x.example", '-x.example', "''a", "'a", '=1+1', "'=1+1", 'a.example', "a'b"];
  const dir = mkdtempSync(join(tmpdir(), 'eta-csv-rows-'));
  const csv = join(dir, 'rows.csv');
  writeFileSync(csv, ['sni,alpn,a', ...texts.map((x, i) => `${csvText(x)},${csvText(x)},${i}`)].join('\n') + '\n');
  const got: unknown[] = [];
  await readCsvRows(await CsvInput.open(csv), ['a'], (rec) => void got.push(rec.meta && [rec.meta.sni, rec.meta.alpn]), { badRows: 'skip', onBadRow: () => undefined });
  t.same(got, texts.map((x) => [x, [x]]));
});
