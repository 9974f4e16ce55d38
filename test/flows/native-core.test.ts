import t from 'tap';
import { newFrame } from '../../agent/capture/types.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { DEFAULT_METER } from '../../agent/flows/extract-file.js';
import { FlowMeter } from '../../agent/flows/meter.js';
import { flowCore } from '../../agent/flows/native-core.js';
import { allocColumns, type Columns } from '../../agent/flows/store.js';
import { eth, ipv4, udp } from '../helpers/packets.js';

const dgram = (sport: number): Buffer => eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }, udp(sport, 53, Buffer.alloc(20))));

t.test('a consumer that throws: the error reaches the caller, no flow is lost or ended twice', async (t) => {
  const seen: number[] = [];
  let throwOn = 2;
  const meter = new FlowMeter({ ...DEFAULT_METER, maxFlows: 2, meta: undefined }, (r: FlowRecord) => {
    seen.push(r.srcPort);
    if (seen.length === throwOn) throw new Error('consumer failed');
  });
  const f = newFrame();
  const send = (sport: number, ms: number): void => {
    f.buf = dgram(sport);
    f.capLength = f.wireLength = f.buf.length;
    f.linkType = 1;
    f.ts = 1.7e15 + ms * 1000;
    meter.frame(f);
  };
  send(1, 0);
  send(2, 1);
  send(3, 2); // evicts 1
  t.throws(() => send(4, 3), /consumer failed/, 'evicting 2 throws in the consumer');
  throwOn = -1;
  send(5, 4); // the table still works: evicts 3 or 4
  meter.flush();
  const st = meter.stats();
  t.equal(st.flowsCreated, seen.length, 'every flow created was handed over once');
  t.same([...seen].sort((a, b) => a - b), [...new Set(seen)].sort((a, b) => a - b), 'none twice');
  t.equal(st.flowsActive, 0);
});

t.test('the native table checks the columns it is given', async (t) => {
  const cols = allocColumns(8);
  const bad = { ...cols, pkts: new Float64Array(16) } as unknown as Columns;
  const core = flowCore();
  const make = (c: Columns): unknown => core.create(c, new Float64Array(core.layout.statsLength), new Float64Array(core.layout.viewLength),
    null, [8, 120, 1800, 2, 1, 0], () => undefined);
  t.throws(() => make(bad), /pkts is not a typed array of the expected type and length 16/);
  t.throws(() => make(allocColumns(4)), /hash is not a typed array of the expected type and length 8/, 'columns of another capacity');
  t.ok(make(cols), 'the right columns are taken');
});
