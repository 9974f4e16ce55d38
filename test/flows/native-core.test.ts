import t from 'tap';
import { newFrame } from '../../agent/capture/types.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { DEFAULT_METER } from '../../agent/flows/extract-file.js';
import { FlowMeter } from '../../agent/flows/meter.js';
import { fillPacket, flowCore } from '../../agent/flows/native-core.js';
import { Packet } from '../../agent/flows/packet.js';
import { allocColumns, type Columns } from '../../agent/flows/store.js';
import { eth, F, ipv4, tcp, udp } from '../helpers/packets.js';
import { clientHello, ext, records } from '../meta/builder.js';

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

t.test('fillPacket reads the view in the C order of its fields', async (t) => {
  const { viewFields, viewLength, viewSlot } = flowCore().layout;
  t.equal(viewFields.length, viewLength);
  t.equal(viewFields[viewSlot], 'slot');
  const view = new Float64Array(viewLength).map((_, i) => i + 1);
  const p = fillPacket(new Packet(), view, Buffer.alloc(0)) as unknown as Record<string, number>;
  viewFields.forEach((name, i) => {
    if (name !== 'slot') t.equal(p[name], i + 1, name);
  });
});

t.test('a consumer that throws at a flow end: the next flow in that slot does not inherit its handshake metadata', async (t) => {
  const ended: FlowRecord[] = [];
  let fail = true;
  const meter = new FlowMeter({ ...DEFAULT_METER, maxFlows: 1 }, (r: FlowRecord) => {
    if (fail) {
      fail = false;
      throw new Error('consumer failed');
    }
    ended.push(r);
  });
  const f = newFrame();
  const send = (data: Buffer, ms: number): void => {
    f.buf = data;
    f.capLength = f.wireLength = data.length;
    f.linkType = 1;
    f.ts = 1.7e15 + ms * 1000;
    meter.frame(f);
  };
  const seg = (sport: number, flags: number, seq: number, payload: Buffer = Buffer.alloc(0)): Buffer =>
    eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6 }, tcp({ sport, dport: 443, flags, seq }, payload)));
  const hello = records(clientHello({ ciphers: [0x1301], extensions: [ext.sni('a.example')] }));
  send(seg(1000, F.SYN, 10), 0);
  send(seg(1000, F.ACK | F.PSH, 11, hello), 1); // flow A: its hello is read
  t.throws(() => send(seg(2000, F.SYN, 50), 2), /consumer failed/, 'flow B evicts A (one slot); the consumer throws on A');
  send(seg(2000, F.ACK | F.PSH, 51, Buffer.from('GET / HTTP/1.1\r\n\r\n')), 3);
  meter.flush();
  t.equal(ended.length, 1);
  t.equal(ended[0]!.srcPort, 2000, 'flow B');
  t.equal(ended[0]!.meta, null, "B carries no metadata, not A's SNI");
});
