import t from 'tap';
import { int, oneOf, parseSection, section, size, str, list, defaults } from '../../agent/lib/schema.js';

const sch = section('root', {
  mqtt: section('broker', {
    qos: oneOf([0, 1, 2] as const, { default: 1, doc: 'QoS' }),
    topic: str({ default: 'eta', doc: 'prefix', nonEmpty: true }),
  }),
  flows: section('flows', {
    max_flows: int({ default: 1000, min: 1, doc: 'cap' }),
    buffer: size({ default: 1024, doc: 'bytes' }),
    ifaces: list(str({ default: '', doc: 'iface' }), { default: ['lo'], doc: 'ifaces' }),
  }),
});

t.test('defaults fill missing keys', async (t) => {
  const issues: string[] = [];
  const v = parseSection(sch, { mqtt: { qos: 2 } }, '', issues);
  t.same(issues, []);
  t.equal(v.mqtt.qos, 2);
  t.equal(v.mqtt.topic, 'eta');
  t.same(v.flows, defaults(sch).flows);
});

t.test('messages are path-qualified and exact', async (t) => {
  const issues: string[] = [];
  parseSection(sch, { mqtt: { qos: 3, topic: '' }, flows: { max_flows: 0, buffer: '12 parsecs', ifaces: 'eth0' }, mqqt: {} }, '', issues);
  t.same(issues, [
    'mqqt is not a known option (did you mean mqtt?)',
    'mqtt.qos must be 0, 1 or 2 (got 3)',
    'mqtt.topic must not be empty',
    'flows.max_flows must be an integer >= 1 (got 0)',
    'flows.buffer must be a size in bytes such as 67108864 or "64MiB" (got "12 parsecs")',
    'flows.ifaces must be a list (got "eth0")',
  ]);
});

t.test('sizes accept units', async (t) => {
  const issues: string[] = [];
  const v = parseSection(sch, { flows: { buffer: '64MiB' } }, '', issues);
  t.equal(v.flows.buffer, 64 * 1024 * 1024);
});
