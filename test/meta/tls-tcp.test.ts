/**
 * TLS over TCP: ClientHello reassembly across segments and records, in and out of order,
 * ServerHello version, plaintext prefixes, bounds and malformed input.
 */
import t from 'tap';
import { createInspector, type HandshakeInspector, type MetaLimits } from '../../agent/meta/index.js';
import {
  ACK, clientHello, cut, ext, PSH_ACK, records, serverHello, SYN, tcpFlow, type Pkt,
} from './builder.js';

const LIMITS: MetaLimits = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };

function run(pkts: readonly Pkt[], limits: MetaLimits = LIMITS): { insp: HandshakeInspector; errors: string[]; doneAt: number } {
  const errors: string[] = [];
  const insp = createInspector(limits, (r) => errors.push(r));
  let doneAt = -1;
  pkts.forEach((p, i) => {
    if (doneAt >= 0) return;
    if (insp.onPacket(p.dir, p.proto, p.payload, p.seq ?? 0, p.flags ?? 0)) doneAt = i;
  });
  return { insp, errors, doneAt };
}

const CHROME_LIKE = {
  ciphers: [0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
  extensions: [
    ext.raw(0x2a2a),
    ext.sni('www.example.com'),
    ext.raw(0x0017),
    ext.raw(0xff01, Buffer.from([0])),
    ext.raw(0x000a, Buffer.from([0, 4, 0, 0x1d, 0, 0x17])),
    ext.alpn(['h2', 'http/1.1']),
    ext.sigAlgs([0x0403, 0x0804, 0x0401]),
    // A post-quantum key share makes the hello ~1.8 KB: it will not fit one segment.
    ext.raw(0x0033, Buffer.alloc(1250, 7)),
    ext.supportedVersions([0x3a3a, 0x0304, 0x0303]),
  ],
};
const HELLO13 = records(clientHello(CHROME_LIKE));
const TLS12 = records(
  clientHello({ ciphers: [0xc02f, 0xc030, 0x009c], extensions: [ext.sni('legacy.example'), ext.sigAlgs([0x0401])] }),
);

t.test('TLS 1.3 hello in one segment, then the ServerHello: done, negotiated 1.3', async (t) => {
  const { insp, errors, doneAt } = run(tcpFlow([HELLO13], [records(serverHello({ supportedVersion: 0x0304 }), 16384, 0x0303)]));
  const m = insp.result();
  t.equal(m.sni, 'www.example.com');
  t.same(m.alpn, ['h2', 'http/1.1']);
  t.equal(m.tlsVersion, '1.3');
  t.equal(m.transport, 'tls');
  t.match(m.ja4, /^t13d1508h2_[0-9a-f]{12}_[0-9a-f]{12}$/);
  t.equal(doneAt, 4, 'done on the ServerHello');
  t.same(errors, []);
  t.equal(insp.retainedBytes(), 0);
});

t.test('TLS 1.2: version from the ServerHello; without it, the highest offered', async (t) => {
  const withServer = run(tcpFlow([TLS12], [records(serverHello({ version: 0x0303 }))]));
  t.equal(withServer.insp.result().tlsVersion, '1.2');
  t.match(withServer.insp.result().ja4, /^t12d030200_/);
  const clientOnly = run(tcpFlow([TLS12]));
  t.equal(clientOnly.insp.result().tlsVersion, '1.2');
  t.equal(clientOnly.doneAt, -1, 'still waiting for the ServerHello');
  // A 1.3-capable client whose server picks 1.2: the negotiated version wins.
  const downgraded = run(tcpFlow([HELLO13], [records(serverHello({ version: 0x0303 }))]));
  t.equal(downgraded.insp.result().tlsVersion, '1.2');
  t.match(downgraded.insp.result().ja4, /^t13/, 'JA4 keeps what the client offered');
});

t.test('hello split over 2 and 3 segments, in order and out of order, with a retransmission', async (t) => {
  const want = run(tcpFlow([HELLO13])).insp.result();
  t.ok(want.ja4);
  const two = cut(HELLO13, [700]);
  const three = cut(HELLO13, [3, 900]); // the first cut splits the record header itself
  for (const [name, segs, order] of [
    ['2 in order', two, [0, 1]],
    ['3 in order', three, [0, 1, 2]],
    ['3 reversed', three, [2, 1, 0]],
    ['3 shuffled', three, [1, 2, 0]],
  ] as const) {
    const flow = tcpFlow(segs);
    const data = flow.slice(3);
    const reordered = [...flow.slice(0, 3), ...order.map((i) => data[i]!)];
    const r = run(reordered);
    t.same(r.insp.result(), want, name);
    t.same(r.errors, [], name);
  }
  // Retransmission: a segment repeated, and one overlapping two others.
  const flow = tcpFlow(three);
  const overlap: Pkt = { ...flow[4]!, payload: HELLO13.subarray(2, 1200), seq: 1001 + 2 };
  const r = run([...flow.slice(0, 4), flow[3]!, overlap, flow[5]!]);
  t.same(r.insp.result(), want, 'retransmitted and overlapping segments');
});

t.test('a hello spanning two TLS records and three segments', async (t) => {
  const msg = clientHello(CHROME_LIKE);
  const recs = records(msg, 1000);
  const r = run(tcpFlow(cut(recs, [500, 1100])));
  t.equal(r.insp.result().ja4, run(tcpFlow([HELLO13])).insp.result().ja4);
  t.same(r.errors, []);
});

t.test('without the SYN: in-order hello found; roles taken from who sends it', async (t) => {
  const segs = cut(HELLO13, [600]);
  const mid: Pkt[] = [
    { dir: 0, proto: 6, payload: segs[0]!, seq: 4000000000, flags: PSH_ACK },
    { dir: 0, proto: 6, payload: segs[1]!, seq: (4000000000 + 600) >>> 0, flags: PSH_ACK }, // wraps past 2^32
  ];
  t.equal(run(mid).insp.result().sni, 'www.example.com', 'sequence wrap');
  // The capture started with the server's packets: dir 0 is the server.
  const flipped: Pkt[] = [
    { dir: 0, proto: 6, payload: Buffer.alloc(0), seq: 9, flags: ACK },
    { dir: 1, proto: 6, payload: HELLO13, seq: 77, flags: PSH_ACK },
    { dir: 0, proto: 6, payload: records(serverHello({ supportedVersion: 0x0304 })), seq: 10, flags: PSH_ACK },
  ];
  const r = run(flipped);
  t.equal(r.insp.result().tlsVersion, '1.3');
  t.equal(r.doneAt, 2);
});

t.test('STARTTLS-style plaintext before the hello, and plain HTTP', async (t) => {
  const r = run(tcpFlow([Buffer.from('a1 STARTTLS\r\n'), HELLO13], [Buffer.from('* OK ready\r\n')]));
  t.equal(r.insp.result().sni, 'www.example.com');
  const http = run(tcpFlow([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], [Buffer.from('HTTP/1.1 200 OK\r\n\r\n')]));
  t.same(http.insp.result(), { sni: null, alpn: [], tlsVersion: null, ja4: null, transport: null });
  t.same(http.errors, []);
  t.equal(http.insp.retainedBytes(), 0);
});

t.test('packet budget: gives up after max_packets payload packets, counting a partial hello', async (t) => {
  const limits = { ...LIMITS, max_packets: 3 };
  const segs = cut(HELLO13, [200, 400, 600, 800]);
  const r = run(tcpFlow(segs), limits);
  t.equal(r.doneAt, 5, 'third payload packet ends it');
  t.same(r.errors, ['hello-incomplete']);
  t.equal(r.insp.result().ja4, null);
  t.equal(r.insp.retainedBytes(), 0, 'buffer freed');
  // Pure ACKs are cheap but bounded too.
  const acks: Pkt[] = Array.from({ length: 50 }, () => ({ dir: 0, proto: 6, payload: Buffer.alloc(0), seq: 1, flags: ACK }));
  t.equal(run(acks, limits).doneAt, 11, '4 x max_packets control packets');
});

t.test('a hello larger than max_buffer is counted as reassembly-overflow and skipped', async (t) => {
  const limits = { ...LIMITS, max_buffer: 1024, max_reassembling: 4096 };
  const r = run(tcpFlow(cut(HELLO13, [700, 1400])), limits);
  t.same(r.errors, ['reassembly-overflow']);
  t.equal(r.doneAt, 3, 'gives up at once');
  t.equal(r.insp.result().ja4, null);
});

t.test('truncated and malformed hellos are counted, never thrown', async (t) => {
  // Message length says more than the record holds and the stream ends: incomplete at budget.
  const truncated = run(tcpFlow([HELLO13.subarray(0, 300)], []), { ...LIMITS, max_packets: 1 });
  t.same(truncated.errors, ['hello-incomplete']);
  // Lengths inside the hello that do not add up.
  const bad = Buffer.from(HELLO13);
  bad.writeUInt16BE(0xfff0, 9 + 2 + 32 + 1 + 32); // cipher_suites length
  const r = run(tcpFlow([bad]));
  t.same(r.errors, ['tls-malformed']);
  t.equal(r.doneAt, 3);
  // A record that is not a handshake after a handshake-looking start.
  const notHs = Buffer.concat([records(Buffer.from([1, 0, 0, 40])), Buffer.from([23, 3, 3, 0, 5, 1, 2, 3, 4, 5])]);
  t.same(run(tcpFlow([notHs])).errors, ['tls-malformed']);
  // A zero-length record.
  t.same(run(tcpFlow([Buffer.from([22, 3, 1, 0, 0, 1])])).errors, ['tls-malformed']);
});

t.test('data on the SYN (TCP Fast Open) and a disabled section', async (t) => {
  const tfo: Pkt[] = [
    { dir: 0, proto: 6, payload: HELLO13, seq: 700, flags: SYN },
    { dir: 1, proto: 6, payload: Buffer.alloc(0), seq: 1, flags: SYN | ACK },
  ];
  t.equal(run(tfo).insp.result().sni, 'www.example.com');
  const off = createInspector({ ...LIMITS, enabled: false }, () => {});
  t.equal(off.onPacket(0, 6, HELLO13, 1, PSH_ACK), true);
  t.equal(off.result().ja4, null);
});
