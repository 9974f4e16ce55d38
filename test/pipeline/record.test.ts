// The published record's label members come in the record's order (app, then attribution),
// whichever models ran: the workers' JSON is appended after the object's own members.
import t from 'tap';
import { createTelemetry } from '../../agent/events.js';
import { scratchRecord } from '../../agent/features/record.js';
import { toPublishRecord } from '../../agent/pipeline/record.js';
import { encodeLines, encodeRecords } from '../../agent/publish/serialize.js';
import type { ClassifyResult } from '../../agent/infer/types.js';

const app = { label: 'Zoom', confidence: 0.9, top: [['Zoom', 0.9]] };
const attribution = { label: 'voip', confidence: 0.8, top: [['voip', 0.8]] };
/** The members as the workers write them: `"app":{...}`, comma-joined, no braces. */
const members = (m: Record<string, unknown>): string => JSON.stringify(m).slice(1, -1);

/** The record's members after flow and tls, as a line and as an MQTT payload. */
function labelPart(result: ClassifyResult): string[] {
  const rec = toPublishRecord(scratchRecord(), result, 'gw');
  const tel = createTelemetry();
  const line = encodeLines([rec], tel).data.toString('utf8').trimEnd();
  const payload = encodeRecords([rec], tel).payloads[0]!.toString('utf8');
  return [line, payload].map((s) => s.slice(s.indexOf(',"tls":null') + ',"tls":null'.length));
}

t.test('both models: their members as the workers wrote them', async (t) => {
  const want = `,${members({ app, attribution })}}`;
  t.same(labelPart({ json: members({ app, attribution }), kinds: ['app', 'attribution'] }), [want, want]);
});

t.test('the app model alone: attribution null after app', async (t) => {
  const want = `,${members({ app, attribution: null })}}`;
  t.same(labelPart({ json: members({ app }), kinds: ['app'] }), [want, want]);
});

t.test('the attribution model alone: app null before attribution', async (t) => {
  const want = `,${members({ app: null, attribution })}}`;
  t.same(labelPart({ json: members({ attribution }), kinds: ['attribution'] }), [want, want]);
});

t.test('no labels (no model, or unlabeled): both null, then the reason', async (t) => {
  t.same(labelPart({ kinds: [] }), [',"app":null,"attribution":null}', ',"app":null,"attribution":null}']);
  t.same(labelPart({ kinds: [], unlabeled: 'overload' }), [',"app":null,"attribution":null,"unlabeled":"overload"}', ',"app":null,"attribution":null,"unlabeled":"overload"}']);
});
