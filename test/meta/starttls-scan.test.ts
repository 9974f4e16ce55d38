/**
 * Flows on STARTTLS ports that begin in plaintext are scanned in C (hello_watch.c, SCANNING):
 * their packets are counted there until one may open a hello, and only then does the inspector
 * start. The metadata and error reports must be what an inspector fed every packet from the
 * flow's first payload on (what the flow plugin did before) finds, and its packet budget must
 * run out at the same packet: checked here on random sessions, and that a plaintext session
 * hands JavaScript no packet at all. So with flows opening with a 0x16 that opens no hello
 * record, and with flows whose first hello is a whole ServerHello (C keeps its version).
 */
import t from 'tap';
import { DEFAULT_METER } from '../../agent/flows/extract-file.js';
import { FlowMeter } from '../../agent/flows/meter.js';
import type { Packet } from '../../agent/flows/packet.js';
import { newFrame } from '../../agent/capture/types.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { MetaPlugin } from '../../agent/meta/flow-plugin.js';
import { Inspector } from '../../agent/meta/inspector.js';
import type { MetaLimits } from '../../agent/meta/index.js';
import { eth, F, ipv4, tcp } from '../helpers/packets.js';
import { rng } from '../helpers/fuzz.js';
import { clientHello, ext, records, serverHello } from './builder.js';

const PORTS = [25, 587, 110, 143, 21, 5222, 5269, 389, 3306, 5432];
const HELLO = records(clientHello({ ciphers: [0x1301, 0xc02f], extensions: [ext.sni('mail.example'), ext.supportedVersions([0x0304, 0x0303])] }));
const SERVER = records(serverHello({ supportedVersion: 0x0304 }));
/** A whole ServerHello that does not parse (its session id runs past the message): the reader reports it. */
const BAD_SERVER = Buffer.concat([SERVER.subarray(0, 43), Buffer.from([200]), SERVER.subarray(44)]);

class Counting extends MetaPlugin {
  handed = 0;
  override onPacket(slot: number, dir: number, p: Packet, action: number): void {
    this.handed++;
    super.onPacket(slot, dir, p, action);
  }
}

interface Seg {
  client: boolean;
  flags: number;
  seq: number;
  data: Buffer;
}

function run(limits: MetaLimits, sessions: ReadonlyArray<{ sport: number; dport: number; segs: readonly Seg[] }>): { flows: FlowRecord[]; errors: string[]; handed: number } {
  const flows: FlowRecord[] = [];
  const errors: string[] = [];
  const meter = new FlowMeter({ ...DEFAULT_METER, maxFlows: 4096, meta: undefined }, (r) => flows.push(r));
  const plugin = new Counting(4096, limits, (r) => errors.push(r));
  meter.useMeta(plugin);
  const f = newFrame();
  let ms = 0;
  for (const s of sessions) {
    for (const g of s.segs) {
      const [src, dst, sport, dport] = g.client ? ['10.3.0.1', '10.3.0.2', s.sport, s.dport] : ['10.3.0.2', '10.3.0.1', s.dport, s.sport];
      f.buf = eth(ipv4({ src, dst, proto: 6 }, tcp({ sport, dport, seq: g.seq, flags: g.flags }, g.data)));
      f.offset = 0;
      f.capLength = f.wireLength = f.buf.length;
      f.linkType = 1;
      f.ts = 1.7e15 + ms++ * 1000;
      meter.frame(f);
    }
  }
  meter.flush();
  return { flows, errors, handed: plugin.handed };
}

/** What an inspector fed every packet from the session's first payload on finds (null: nothing). */
function reference(limits: MetaLimits, segs: readonly Seg[], errors: string[]): unknown {
  const insp = new Inspector(limits, (r) => errors.push(r));
  const firstClient = segs[0]!.client;
  const start = segs.findIndex((g) => g.data.length > 0);
  if (start < 0) return null;
  // A client's first payload that only begins a hello record's header (under 6 bytes), at ISN + 1
  // after its SYN, goes to the reader with the SYN replayed, to be placed at the stream's start
  // (hello_watch.c; found by review: hellos split after byte 1 to 5 were lost).
  const first = segs[start]!;
  const d = first.data;
  const prefix = d.length < 6 && d[0] === 0x16 && (d.length < 2 || d[1] === 3) && (d.length < 3 || d[2]! <= 4);
  if (segs[0]!.flags === F.SYN && first.client === segs[0]!.client && first.seq === segs[0]!.seq + 1 && prefix) insp.onPacket(0, 6, Buffer.alloc(0), segs[0]!.seq, F.SYN);
  for (const g of segs.slice(start)) {
    if (insp.onPacket(g.client === firstClient ? 0 : 1, 6, g.data, g.seq, g.flags)) break;
  }
  insp.flowEnded();
  const m = insp.result();
  return m.sni !== null || m.ja4 !== null || m.tlsVersion !== null || m.alpn.length > 0 ? m : null;
}

/** A first payload whose first byte is 0x16 but that opens no ClientHello or ServerHello record. */
function bogus16(r: () => number): Buffer {
  const k = r();
  if (k < 0.3) return Buffer.from([0x16, 0x00, 0x84, 0x00, Math.floor(r() * 256), 0x88, 1, 2, 3]); // another protocol
  if (k < 0.55) return Buffer.concat([Buffer.from([0x16, 3, 3, 0, 7, 0x0b]), Buffer.alloc(6, 1)]); // a Certificate first
  if (k < 0.8) return Buffer.from([0x16, 3, 1, 0, 4].slice(0, 1 + Math.floor(r() * 4))); // a few bytes
  return Buffer.from([0x16, 3, 9, 0, 4, 1, 0, 0, 0]); // a minor version past TLS 1.3
}

/** A ServerHello as the flow's first hello record: whole (C keeps its version), or one C leaves to JavaScript. */
function serverHelloFirst(r: () => number): Buffer {
  const k = r();
  const sh = records(serverHello({ supportedVersion: [0x0304, 0x0303, 0x7f1c][Math.floor(r() * 3)]! }));
  if (k < 0.7) return sh;
  if (k < 0.8) return sh.subarray(0, 6 + Math.floor(r() * (sh.length - 7))); // not all here
  if (k < 0.9) return Buffer.concat([sh.subarray(0, 43), Buffer.from([200]), sh.subarray(44)]); // a session id past the end
  return records(serverHello({ supportedVersion: 0x0304 }), 20); // the message spans records
}

type Opening = 'plaintext' | 'bogus' | 'server';

/**
 * A random session: on a STARTTLS port opening in plaintext, on any port opening with a 0x16 that
 * opens no hello record (`bogus`), or with a ServerHello (`server`); all are scanned in C from
 * that payload on (a ServerHello when C reads it whole).
 */
function randomSession(r: () => number, sport: number, opening: Opening = 'plaintext'): { sport: number; dport: number; segs: Seg[] } {
  const bogus = opening !== 'plaintext';
  const dport = bogus ? [443, 8443, 4433, 10443][Math.floor(r() * 4)]! : PORTS[Math.floor(r() * PORTS.length)]!;
  const segs: Seg[] = [];
  let cseq = 1000;
  let sseq = 9000;
  if (r() < 0.7) {
    segs.push({ client: true, flags: F.SYN, seq: cseq - 1, data: Buffer.alloc(0) });
    segs.push({ client: false, flags: F.SYN | F.ACK, seq: sseq - 1, data: Buffer.alloc(0) });
  }
  // The first payload is plaintext (else the flow is not scanned but begun as before).
  const banner = opening === 'server' ? serverHelloFirst(r) : bogus ? bogus16(r) : Buffer.from('220 mail.example ESMTP\r\n');
  const serverFirst = r() < 0.5;
  segs.push({ client: !serverFirst, flags: F.ACK | F.PSH, seq: serverFirst ? sseq : cseq, data: banner });
  if (serverFirst) sseq += banner.length;
  else cseq += banner.length;
  const n = 2 + Math.floor(r() * 40);
  for (let i = 0; i < n; i++) {
    const client = r() < 0.5;
    const k = r();
    let data: Buffer = Buffer.alloc(0);
    let flags: number = F.ACK;
    if (k < 0.35) data = Buffer.from(`LINE ${i} ${'x'.repeat(Math.floor(r() * 30))}\r\n`);
    else if (k < 0.45) data = client ? HELLO : SERVER;
    else if (k < 0.5) data = client ? SERVER : HELLO; // roles the other way round
    else if (k < 0.55) data = Buffer.from([0x16, Math.floor(r() * 5), 3, 0, 0, 1, 0]); // 0x16 but maybe not a record
    else if (k < 0.58) {
      flags = client ? F.SYN : F.SYN | F.ACK; // a SYN again
    } else if (k < 0.62) data = Buffer.from(HELLO.subarray(0, 1 + Math.floor(r() * (HELLO.length - 1))));
    else if (k < 0.65) data = client ? HELLO : BAD_SERVER;
    if (data.length > 0) flags |= F.PSH;
    const seq = client ? cseq : sseq;
    segs.push({ client, flags, seq, data });
    if (client) cseq += data.length;
    else sseq += data.length;
  }
  return { sport, dport, segs };
}

t.test('scanned sessions find what the inspector alone finds, with the same reports (2,100 random sessions)', async (t) => {
  const openings: readonly Opening[] = ['plaintext', 'bogus', 'server'];
  const cases = openings.flatMap((opening) => [12, 3, 1].map((max) => ({ enabled: true, max_packets: max, max_buffer: 16384, max_reassembling: 4096, opening })))
    .filter((c) => c.max_packets > 1 || c.opening === 'server');
  const about: Record<Opening, string> = {
    plaintext: 'STARTTLS ports opening in plaintext', bogus: 'opening with a 0x16 that is not a hello record', server: 'opening with a ServerHello',
  };
  for (const { opening, ...limits } of cases) {
    t.comment(`${about[opening]}, max_packets ${limits.max_packets}`);
    const r = rng(limits.max_packets + openings.indexOf(opening) * 100);
    const sessions = Array.from({ length: 300 }, (_, i) => randomSession(r, 30000 + i, opening));
    const got = run(limits, sessions);
    const wantErrors: string[] = [];
    const want = sessions.map((s) => reference(limits, s.segs, wantErrors));
    t.equal(got.flows.length, sessions.length);
    let same = 0;
    for (const f of got.flows) {
      const i = Math.max(f.srcPort, f.dstPort) - 30000; // the client's port; the other is a STARTTLS port
      if (JSON.stringify(f.meta) === JSON.stringify(want[i])) same++;
      else t.fail(`session ${i}: ${JSON.stringify(f.meta)} != ${JSON.stringify(want[i])}`);
    }
    t.equal(same, sessions.length, `max_packets ${limits.max_packets}: every session's metadata is the inspector's`);
    t.same(got.errors.sort(), wantErrors.sort(), `the same error reports (${wantErrors.length})`);
    const found = want.filter((m) => m !== null).length;
    t.ok(found > 30 && found < 300, `${found} sessions carry a hello the inspector reads`);
  }
});

t.test('a plaintext session on a STARTTLS port hands JavaScript no packet', async (t) => {
  const segs: Seg[] = [{ client: true, flags: F.SYN, seq: 99, data: Buffer.alloc(0) }, { client: false, flags: F.SYN | F.ACK, seq: 499, data: Buffer.alloc(0) }];
  let cseq = 100;
  let sseq = 500;
  for (let i = 0; i < 30; i++) {
    const line = Buffer.from(`line ${i}\r\n`);
    const client = i % 2 === 1;
    segs.push({ client, flags: F.ACK | F.PSH, seq: client ? cseq : sseq, data: line });
    if (client) cseq += line.length;
    else sseq += line.length;
  }
  const got = run({ enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 }, [{ sport: 40000, dport: 25, segs }]);
  t.equal(got.handed, 0);
  t.equal(got.flows[0]!.meta, null);
  // STARTTLS: the hello after the plaintext is handed on (and read), the plaintext before it is not.
  const tls = [...segs.slice(0, 6), { client: true, flags: F.ACK | F.PSH, seq: cseq, data: HELLO }];
  const got2 = run({ enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 }, [{ sport: 40001, dport: 25, segs: tls }]);
  t.equal(got2.handed, 0, 'nor the hello after it, read in C (tls_resume.c)');
  t.equal(got2.flows[0]!.meta?.sni, 'mail.example');
});

t.test('a session opening with a 0x16 that is no hello record hands JavaScript no packet until a hello', async (t) => {
  const other = Buffer.from([0x16, 0x00, 0x84, 0x00, 0xaa, 0x88, 1, 2, 3]);
  const segs: Seg[] = [{ client: true, flags: F.SYN, seq: 99, data: Buffer.alloc(0) }, { client: false, flags: F.SYN | F.ACK, seq: 499, data: Buffer.alloc(0) }];
  let cseq = 100;
  let sseq = 500;
  for (let i = 0; i < 10; i++) {
    const client = i % 2 === 0;
    segs.push({ client, flags: F.ACK | F.PSH, seq: client ? cseq : sseq, data: other });
    if (client) cseq += other.length;
    else sseq += other.length;
  }
  const got = run({ enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 }, [{ sport: 40000, dport: 443, segs }]);
  t.equal(got.handed, 0, 'none of its 12 packets');
  t.equal(got.flows[0]!.meta, null);
  t.same(got.errors, []);
  // Within the budget, a ClientHello after them is handed on and read, as the inspector alone reads it.
  const tls = [...segs.slice(0, 6), { client: true, flags: F.ACK | F.PSH, seq: 100 + 2 * other.length, data: HELLO }];
  const got2 = run({ enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 }, [{ sport: 40001, dport: 443, segs: tls }]);
  t.equal(got2.handed, 0, 'read in C');
  t.equal(got2.flows[0]!.meta?.sni, 'mail.example');
});

t.test('a session opening with a whole ServerHello hands JavaScript no packet until a ClientHello, and reports its version', async (t) => {
  const segs: Seg[] = [{ client: false, flags: F.ACK | F.PSH, seq: 500, data: SERVER }];
  let sseq = 500 + SERVER.length;
  for (let i = 0; i < 6; i++) {
    const data = Buffer.from(`application data ${i}`);
    segs.push({ client: i % 2 === 0, flags: F.ACK | F.PSH, seq: i % 2 === 0 ? 100 + i : sseq, data });
    if (i % 2 === 1) sseq += data.length;
  }
  const got = run({ enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 }, [{ sport: 40000, dport: 443, segs }]);
  t.equal(got.handed, 0, 'none of its 7 packets');
  t.equal(JSON.stringify(got.flows[0]!.meta), JSON.stringify(reference({ enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 }, segs, [])));
  t.equal(got.flows[0]!.meta?.tlsVersion, '1.3');
  t.equal(got.flows[0]!.meta?.ja4, null);
  // A ClientHello from the client afterwards is handed on and read, with the ServerHello's version kept.
  const late = [...segs, { client: true, flags: F.ACK | F.PSH, seq: 200, data: HELLO }];
  const got2 = run({ enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 }, [{ sport: 40001, dport: 443, segs: late }]);
  t.equal(got2.handed, 1);
  t.equal(JSON.stringify(got2.flows[0]!.meta), JSON.stringify(reference({ enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 }, late, [])));
  t.equal(got2.flows[0]!.meta?.sni, 'mail.example');
});

t.test('a hello read in C after the scan: the ServerHello after it, malformed ones and the budget, as the inspector reads them', async (t) => {
  const start: Seg[] = [{ client: true, flags: F.SYN, seq: 99, data: Buffer.alloc(0) }, { client: false, flags: F.SYN | F.ACK, seq: 499, data: Buffer.alloc(0) }];
  const line = Buffer.from('220 ready\r\n');
  const session = (after: ReadonlyArray<readonly [client: boolean, data: Buffer]>): Seg[] => {
    const segs: Seg[] = [...start, { client: false, flags: F.ACK | F.PSH, seq: 500, data: line }, { client: true, flags: F.ACK | F.PSH, seq: 100, data: HELLO }];
    let cseq = 100 + HELLO.length;
    let sseq = 500 + line.length;
    for (const [client, data] of after) {
      segs.push({ client, flags: data.length > 0 ? F.ACK | F.PSH : F.ACK, seq: client ? cseq : sseq, data });
      if (client) cseq += data.length;
      else sseq += data.length;
    }
    return segs;
  };
  const none = Buffer.alloc(0);
  const cases: Array<[string, Array<readonly [boolean, Buffer]>, number]> = [
    ['the ServerHello next', [[false, SERVER]], 12],
    ['a malformed ServerHello, then a good one', [[false, BAD_SERVER], [true, none], [false, SERVER]], 12],
    ['the same ServerHello from the client is not read', [[true, SERVER], [false, line], [false, SERVER]], 12],
    ['a split ServerHello keeps the offered version', [[false, SERVER.subarray(0, 20)], [false, SERVER.subarray(20)]], 12],
    ['the budget runs out before the ServerHello', [[true, none], [false, line], [false, SERVER]], 4],
    ['the budget runs out at the hello', [[false, SERVER]], 2],
    ['acks count a quarter', [[true, none], [true, none], [true, none], [true, none], [false, SERVER]], 3],
  ];
  for (const [what, after, max] of cases) {
    const limits = { enabled: true, max_packets: max, max_buffer: 16384, max_reassembling: 4096 };
    const segs = session(after);
    const wantErrors: string[] = [];
    const want = reference(limits, segs, wantErrors);
    const got = run(limits, [{ sport: 41000, dport: 25, segs }]);
    t.equal(JSON.stringify(got.flows[0]!.meta), JSON.stringify(want), what);
    t.same(got.errors, wantErrors, `${what}: the same reports`);
    t.equal(got.handed, 0, `${what}: no packet handed to JavaScript`);
  }
  // Beyond the cases above: who sends the hello, max_buffer's edge, bytes after the record, and
  // records past tls-tcp.ts's MAX_RECORD; each as the inspector reads it, C or not.
  const big = (n: number): Buffer => clientHello({ ciphers: [0x1301], extensions: [ext.sni('big.example'), ext.raw(0x0015, Buffer.alloc(n)), ext.supportedVersions([0x0304])] });
  const more: Array<[string, Seg[], MetaLimits]> = [];
  const base: Seg[] = [...start, { client: false, flags: F.ACK | F.PSH, seq: 500, data: line }];
  more.push(['the responder sends the ClientHello', [...base, { client: false, flags: F.ACK | F.PSH, seq: 500 + line.length, data: HELLO },
    { client: true, flags: F.ACK | F.PSH, seq: 100, data: SERVER }], { enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 }]);
  for (const slack of [-6, -5, -4, 0]) {
    more.push([`max_buffer ${slack} from the hello record's size`, session([[false, SERVER]]), { enabled: true, max_packets: 12, max_buffer: HELLO.length + slack, max_reassembling: 4096 }]);
  }
  more.push(['bytes after the hello record', [...base, { client: true, flags: F.ACK | F.PSH, seq: 100, data: Buffer.concat([HELLO, Buffer.from([0x17, 3, 3, 0, 2, 1, 2])]) },
    { client: false, flags: F.ACK | F.PSH, seq: 500 + line.length, data: SERVER }], { enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 }]);
  for (const n of [16000, 18200, 18500]) {
    const rec = records(big(n), 65535);
    more.push([`one record of ${rec.length - 5} bytes`, [...base, { client: true, flags: F.ACK | F.PSH, seq: 100, data: rec },
      { client: false, flags: F.ACK | F.PSH, seq: 500 + line.length, data: SERVER }], { enabled: true, max_packets: 12, max_buffer: 65536, max_reassembling: 4096 }]);
  }
  for (const [what, segs, limits] of more) {
    const wantErrors: string[] = [];
    const want = reference(limits, segs, wantErrors);
    const got = run(limits, [{ sport: 41000, dport: 25, segs }]);
    t.equal(JSON.stringify(got.flows[0]!.meta), JSON.stringify(want), what);
    t.same(got.errors, wantErrors, `${what}: the same reports (${wantErrors.join(', ') || 'none'})`);
  }
});
