/**
 * A ClientHello split over TCP segments, reassembled by the C flow table while they come in
 * order (tls_split.c), against JavaScript's reader: 2,800 flows with the hello cut at random,
 * some disturbed (a segment repeated, two swapped, one lost, server data or a FIN before the
 * hello is whole, a small packet budget, a max_buffer at the hello's size, bytes changed, a
 * ServerHello selecting 1.2, one that does not parse or one split), each through the flow meter and through
 * an inspector fed every packet from the first hello byte on, as MetaPlugin fed them before.
 * Both must end with the same metadata and the same error reports; clean flows must not reach
 * JavaScript at all.
 */
import t from 'tap';
import { Inspector } from '../../agent/meta/inspector.js';
import { rng } from '../helpers/fuzz.js';
import { eth, F, ipv4, tcp } from '../helpers/packets.js';
import { clientHello, ext, records, serverHello } from './builder.js';
import { meterWithSpy } from './spy-meter.js';
import { WATCH_SPLIT_BACK } from '../../agent/flows/table.js';

type Seg = readonly [dir: 0 | 1, seq: number, flags: number, data: Buffer];

const CLIENT_ISN = 1000, SERVER_ISN = 50000;

/** A browser-sized hello (a post-quantum key share): over one MSS; with `share`, a key share of that size. */
function bigHello(r: () => number, i: number, share = 600 + Math.floor(r() * 1400)): Buffer {
  return records(clientHello({
    ciphers: [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f],
    extensions: [ext.raw(0x3a3a), ext.sni(`s${i}.example`), ext.alpn(['h2', 'http/1.1']), ext.supportedVersions([0x0304, 0x0303]),
      ext.sigAlgs([0x0403, 0x0804]), ext.raw(0x0033, Buffer.alloc(share, 7))],
  }));
}

/** The client's segments after the handshake, and what disturbs them (kind 0: clean). */
function flowSegments(r: () => number, hello: Buffer, kind: number): Seg[] {
  const cuts = [0];
  // The first segment holds at least the record and message headers (9 bytes), as every stack sends it.
  // and never all of it: a whole hello is read in place, by the rules of the path before the reader.
  while (cuts[cuts.length - 1]! < hello.length) {
    const first = cuts.length === 1;
    cuts.push(Math.min(first ? hello.length - 1 : hello.length, cuts[cuts.length - 1]! + (first ? 9 : 1) + Math.floor(r() * 1460)));
  }
  const segs: Seg[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    segs.push([0, CLIENT_ISN + 1 + cuts[k]!, F.ACK | F.PSH, hello.subarray(cuts[k]!, cuts[k + 1]!)]);
    if (r() < 0.5) segs.push([1, SERVER_ISN + 1, F.ACK, Buffer.alloc(0)]); // the server's ACK
  }
  const at = 1 + Math.floor(r() * Math.max(1, segs.length - 1));
  if (kind === 1 && segs.length > 1) segs.splice(at, 0, segs[at - 1]!); // a repeated segment
  if (kind === 2 && at >= 2) [segs[at], segs[at - 1]] = [segs[at - 1]!, segs[at]!]; // two swapped (the first stays first)
  if (kind === 3 && segs.length > 2) segs.splice(at, 1); // one lost
  if (kind === 4) segs.splice(at, 0, [1, SERVER_ISN + 1, F.ACK | F.PSH, Buffer.from('early')]);
  if (kind === 5) segs.splice(at, 0, [0, CLIENT_ISN + 1, F.ACK | F.FIN, Buffer.alloc(0)]);
  if (kind === 6) {
    const s = segs[at - 1]!;
    const data = Buffer.from(s[3]);
    data[Math.floor(r() * data.length)] = Math.floor(r() * 256);
    segs[at - 1] = [s[0], s[1], s[2], data];
  }
  segs.push([1, SERVER_ISN + 1, F.ACK | F.PSH, reply(r)]);
  return segs;
}

/** The server's first flight: a ServerHello selecting 1.3 or (legacy only) 1.2, one that does not parse, or one split over segments. */
function reply(r: () => number): Buffer {
  const pick = Math.floor(r() * 4);
  if (pick === 0) return records(serverHello({}));
  if (pick === 1) {
    const bad = records(serverHello({ supportedVersion: 0x0304 }));
    bad.writeUInt16BE(0x0400, 9 + 2 + 32 + 1 + 32 + 2 + 1); // an extensions length past the message
    return bad;
  }
  const whole = records(serverHello({ supportedVersion: 0x0304 }));
  return pick === 2 ? whole.subarray(0, 40) : whole;
}

t.test('split ClientHellos: C and the JavaScript reader agree on every flow (2,800 flows)', async (t) => {
  const r = rng(5);
  let checked = 0, same = 0, clean = 0, cleanInC = 0, found = 0, handedBack = 0;
  const reasons = new Set<string>();
  // Batches of flows per budget: the meter's limits are fixed per meter.
  // Budgets of 2, 3 and 8 packets; then max_buffer 2,048 with hellos of 2,030 to 2,060 bytes, around its edge.
  for (const [maxPackets, maxBuffer] of [[2, 16384], [3, 16384], [8, 16384], [8, 2048]] as const) {
    const limits = { enabled: true, max_packets: maxPackets, max_buffer: maxBuffer, max_reassembling: 4096 };
    const { spy, send, finish, flows, flowErrors } = meterWithSpy(4096, limits);
    const want = new Map<number, { meta: string; errors: string[] }>();
    const clientSegments = new Map<number, number>();
    let ms = 0;
    for (let i = 0; i < 700; i++) {
      const sport = 30000 + i;
      const kind = i % 3 === 0 ? 0 : Math.floor(r() * 7);
      const hello = maxBuffer < 16384 ? bigHello(r, i, 0) : bigHello(r, i);
      const segs = flowSegments(r, maxBuffer < 16384 ? bigHello(r, i, 2030 - hello.length + Math.floor(r() * 30)) : hello, kind);
      const pkt = ([dir, seq, flags, data]: Seg): Buffer => (dir === 0
        ? eth(ipv4({ src: '10.6.0.1', dst: '10.6.0.2', proto: 6 }, tcp({ sport, dport: 443, seq, ack: SERVER_ISN + 1, flags }, data)))
        : eth(ipv4({ src: '10.6.0.2', dst: '10.6.0.1', proto: 6 }, tcp({ sport: 443, dport: sport, seq, ack: CLIENT_ISN + 1, flags }, data))));
      send(ms++, pkt([0, CLIENT_ISN, F.SYN, Buffer.alloc(0)]));
      send(ms++, pkt([1, SERVER_ISN, F.SYN | F.ACK, Buffer.alloc(0)]));
      send(ms++, pkt([0, CLIENT_ISN + 1, F.ACK, Buffer.alloc(0)]));
      for (const s of segs) send(ms++, pkt(s));
      clientSegments.set(sport, segs.filter(([dir, , , data]) => dir === 0 && data.length > 0).length);
      // The reference: an inspector fed every packet from the first hello byte on.
      const refErrors: string[] = [];
      const ref = new Inspector(limits, (e) => refErrors.push(e));
      for (const [dir, seq, flags, data] of segs) ref.onPacket(dir, 6, data, seq, flags);
      ref.flowEnded();
      const m = ref.result();
      const any = m.sni !== null || m.ja4 !== null || m.tlsVersion !== null || m.alpn.length > 0;
      want.set(sport, { meta: JSON.stringify(any ? m : null), errors: refErrors.map((e) => `${sport}:${e}`) });
    }
    const handed = new Set(spy.seen.map((s) => s.sport));
    const errorsSeen = flowErrors.length;
    finish();
    const atEnd = new Set(flowErrors.slice(errorsSeen).map((e) => e.split(':')[1]));
    t.ok(atEnd.size === 0 || (atEnd.size === 1 && atEnd.has('hello-incomplete')), 'at the flows\' end only hellos not whole are reported');
    // Each flow's own reports, as the reader made them.
    const refAll = [...want.values()].flatMap((w) => w.errors).sort();
    t.same([...flowErrors].sort(), refAll, `budget ${maxPackets}, max_buffer ${maxBuffer}: the same error reports, flow by flow`);
    handedBack += spy.seen.filter((x) => x.action === WATCH_SPLIT_BACK).length;
    for (const e of flowErrors) reasons.add(e.split(':')[1]!);
    for (const f of flows) {
      const w = want.get(f.srcPort)!;
      checked++;
      if (JSON.stringify(f.meta) === w.meta) same++;
      if (f.meta !== null) found++;
      // Clean, and within the budget: a hello over more than 8 segments is the reader's (it ends the inspection).
      if ((f.srcPort - 30000) % 3 === 0 && maxPackets === 8 && maxBuffer === 16384 && (clientSegments.get(f.srcPort) ?? 99) <= maxPackets) {
        clean++;
        if (!handed.has(f.srcPort)) cleanInC++;
      }
    }
  }
  t.equal(same, checked, `every flow's metadata is the reader's (${checked} flows)`);
  t.equal(cleanInC, clean, `every clean flow under the default budget was read in C (${clean})`);
  t.ok(found > checked / 3, `many flows found a hello (${found})`);
  t.ok(handedBack > 100, `C handed many flows back to the reader (${handedBack})`);
  t.same([...reasons].sort(), ['hello-incomplete', 'reassembly-overflow', 'tls-malformed'], 'the disturbed flows raise each report the reader makes for TLS');
});
