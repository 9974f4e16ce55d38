/**
 * Timestamps in records and rows: both formatters (the string one for published records, the
 * byte one for extract's rows) against the definition, toISOString's seconds and six digits of
 * microseconds, over random times in and out of order, day and year edges, and times with no
 * four-digit year or no date at all.
 */
import t from 'tap';
import { isoMicros } from '../../agent/features/record.js';
import { AsciiBuffer } from '../../agent/lib/ascii-buffer.js';

function want(us: number): string {
  const sec = Math.floor(us / 1e6);
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toISOString().slice(0, 19)}.${String(Math.max(0, Math.min(999_999, Math.floor(us - sec * 1e6)))).padStart(6, '0')}Z`;
}

function viaBuffer(us: number): string {
  const a = new AsciiBuffer(4);
  a.isoMicros(us);
  return a.take().toString('latin1');
}

t.test('both formatters write what toISOString defines', async (t) => {
  const day = 86_400e6;
  const values = [0, 1, 999_999, 1e6, day - 1, day, 1.7e15, 1.7e15 + 0.5, 253_402_300_799_999_999 /* 9999-12-31T23:59:59.999999 */,
    253_402_300_800_000_000 /* year 10000 */, -1, -1e6, -day, -62_167_219_200e6 /* year 0 */, -62_167_219_200e6 - 1 /* year -1 */,
    8.64e18 /* the last valid millisecond */, 8.64e18 + 1e6, -8.64e18, -8.64e18 - 1e6, Number.MAX_SAFE_INTEGER, NaN, Infinity];
  let seed = 11;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  // Flows of one capture (same days, out of order), and times anywhere in 0000-9999 and beyond.
  for (let i = 0; i < 20_000; i++) values.push(1.6e15 + Math.floor(rnd() * 3 * day));
  for (let i = 0; i < 20_000; i++) values.push(Math.floor((rnd() * 2 - 1) * 3e17) + rnd());
  for (let i = 0; i < 2_000; i++) values.push((rnd() * 2 - 1) * 9e18);
  let bad = 0;
  for (const us of values) {
    const w = want(us);
    const s = isoMicros(us);
    const b = viaBuffer(us);
    if (s !== w || b !== w) {
      if (bad++ < 5) t.fail(`${us}: string ${s}, buffer ${b}, want ${w}`);
    }
  }
  t.equal(bad, 0, `${values.length} timestamps`);
  t.equal(isoMicros(1_764_109_850_580_835), '2025-11-25T22:30:50.580835Z');
  t.equal(viaBuffer(NaN), '', 'no date: nothing written');
  // Times a hair off a whole second still get six digits.
  for (const [tiny, text] of [[-1e-300, '1969-12-31T23:59:59.999999Z'], [-5e-324, '1970-01-01T00:00:00.000000Z']] as const) {
    t.equal(isoMicros(tiny), text, String(tiny));
    t.equal(viaBuffer(tiny), text);
  }
});

t.test('a published record holds null, not "", for a time no Date can hold (a corrupt capture timestamp)', async (t) => {
  const { scratchRecord } = await import('../../agent/features/record.js');
  const { toPublishRecord } = await import('../../agent/pipeline/record.js');
  const r = { ...scratchRecord(), firstTs: 9e18, lastTs: 1.7e15 };
  const flow = toPublishRecord(r, { kinds: [] }, 'gw')['flow'] as { first_ts: unknown; last_ts: unknown };
  t.equal(flow.first_ts, null);
  t.equal(flow.last_ts, '2023-11-14T22:13:20.000000Z');
});
