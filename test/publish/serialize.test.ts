import t from 'tap';
import { createTelemetry } from '../../agent/events.js';
import { encodeLines, encodeRecords } from '../../agent/publish/serialize.js';
import { RAW_MEMBERS, type PublishRecord } from '../../agent/publish/types.js';

t.test('JSON lines: one line per record, the same bytes as JSON.stringify, multi-byte text included', async (t) => {
  const records = [
    { v: 1, flow: { src_ip: '10.0.0.1' }, tls: { sni: 'example.com' } },
    { v: 1, tls: { sni: 'bücher.example' } }, // 2-byte UTF-8
    { v: 1, tls: { sni: '例え.テスト' } }, // 3-byte UTF-8: more bytes than the ASCII-sized buffer holds
    { v: 1, note: '🙂'.repeat(50) }, // 4-byte UTF-8 (surrogate pairs)
    { v: 1, tls: null },
  ] as unknown as PublishRecord[];
  const out = encodeLines(records, createTelemetry());
  const expected = records.map((r) => JSON.stringify(r) + '\n').join('');
  t.equal(out.count, records.length);
  t.equal(out.failed, 0);
  t.equal(out.data.toString('utf8'), expected);
  t.equal(out.data.length, Buffer.byteLength(expected));
});

t.test('a record that cannot be serialized is counted and left out, the others written', async (t) => {
  const cyclic: Record<string, unknown> = { v: 1 };
  cyclic['self'] = cyclic;
  const out = encodeLines([{ v: 1, a: 'é' }, cyclic, { v: 1, b: 2 }] as unknown as PublishRecord[], createTelemetry());
  t.equal(out.count, 2);
  t.equal(out.failed, 1);
  t.equal(out.data.toString('utf8'), '{"v":1,"a":"é"}\n{"v":1,"b":2}\n');
});

t.test('members already serialized (the labels) are appended to the object, in lines and in payloads', async (t) => {
  const app = { label: 'Café ☕', confidence: 0.5, top: [['Café ☕', 0.5]] };
  const raw = (members: Record<string, unknown>): string => JSON.stringify(members).slice(1, -1);
  const records = [
    { v: 1, flow: { src_ip: '10.0.0.1' }, tls: null, [RAW_MEMBERS]: raw({ app, attribution: { label: 'chat' } }) },
    { v: 1, attribution: null, [RAW_MEMBERS]: raw({ app }) }, // a model that did not run is a plain member
    { v: 1, app: null, unlabeled: 'overload' }, // no raw members
    { [RAW_MEMBERS]: raw({ app }) }, // an object with nothing else: no comma before the members
    { v: 1, sni: '例え.テスト'.repeat(40), [RAW_MEMBERS]: raw({ app }) }, // grows the ASCII-sized buffer
  ] as unknown as PublishRecord[];
  const whole = [
    { v: 1, flow: { src_ip: '10.0.0.1' }, tls: null, app, attribution: { label: 'chat' } },
    { v: 1, attribution: null, app },
    { v: 1, app: null, unlabeled: 'overload' },
    { app },
    { v: 1, sni: '例え.テスト'.repeat(40), app },
  ];
  const lines = encodeLines(records, createTelemetry());
  t.equal(lines.failed, 0);
  t.equal(lines.data.toString('utf8'), whole.map((r) => JSON.stringify(r) + '\n').join(''));
  const payloads = encodeRecords(records, createTelemetry());
  t.same(payloads.payloads.map((b) => b.toString('utf8')), whole.map((r) => JSON.stringify(r)));
});
