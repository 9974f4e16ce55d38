/**
 * The first-packets policy the C flow table runs for the handshake inspector
 * (agent/meta/native/hello_watch.c): JavaScript sees only the packets that can
 * start a hello, and C's list of QUIC versions and gQUIC headers is the one the
 * JavaScript readers use (quicVersion, looksLikeGquic), checked here over every
 * version they know and their neighbours.
 */
import t from 'tap';
import { WATCH_BEGIN } from '../../agent/flows/table.js';
import { looksLikeGquic } from '../../agent/meta/gquic-packet.js';
import { KNOWN_QUIC_WIRES, quicVersion } from '../../agent/meta/quic-keys.js';
import { eth, F, ipv4, tcp, udp } from '../helpers/packets.js';
import { rng } from '../helpers/fuzz.js';
import { meterWithSpy } from './spy-meter.js';
import { serverVersionInPlace } from '../../agent/meta/fast-tls.js';
import { versionName } from '../../agent/meta/hello.js';
import { clientHello, ext, records, serverHello } from './builder.js';

const meterWithFlows = meterWithSpy;

/** A 1,200-byte datagram opening with a long header of version `v` (what follows is noise). */
function longHeader(v: number, first = 0xc3): Buffer {
  const d = Buffer.alloc(1200, 0x5a);
  d[0] = first;
  d.writeUInt32BE(v >>> 0, 1);
  d[5] = 8;
  return d;
}

t.test('flows without a hello hand JavaScript nothing; a ClientHello start is handed on once', async (t) => {
  const { spy, send, finish } = meterWithSpy();
  let ms = 0;
  // 20 DNS-like UDP flows (half with the high bit set in their first byte), 5 packets each.
  for (let i = 0; i < 20; i++) {
    for (let k = 0; k < 5; k++) {
      const q = Buffer.alloc(40, 0x11);
      q[0] = i % 2 ? 0x85 : 0x12;
      send(ms++, eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.53', proto: 17 }, udp(40000 + i, 53, q))));
    }
  }
  // Plain HTTP over TCP, with its handshake.
  const up = (seq: number, flags: number, data?: Buffer): Buffer => eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.80', proto: 6 }, tcp({ sport: 41000, dport: 80, seq, flags }, data)));
  send(ms++, up(99, F.SYN));
  send(ms++, up(100, F.ACK | F.PSH, Buffer.from('GET / HTTP/1.1\r\n\r\n')));
  t.equal(spy.seen.length, 0, 'no packet of 101 reached JavaScript');
  // A TLS handshake record on TCP opening a hello longer than the record (one over several records,
  // which C leaves to the reader): handed on as the start of a hello.
  const hs = Buffer.from([0x16, 3, 1, 0, 4, 1, 0, 0, 10]);
  const tls = (seq: number, flags: number, data?: Buffer): Buffer => eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.43', proto: 6 }, tcp({ sport: 41001, dport: 443, seq, flags }, data)));
  send(ms++, tls(499, F.SYN));
  send(ms++, tls(500, F.ACK | F.PSH, hs));
  t.same(spy.seen.map((s) => [s.action, s.first]), [[WATCH_BEGIN, 0x16]]);
  finish();
});

t.test("C's QUIC and gQUIC version checks are the JavaScript readers' (every known version and its neighbours)", async (t) => {
  const known = [0x00000001, 0x6b3343cf, 0xfaceb001, 0xfaceb002, 0xfaceb00e, 0x51303530, 0x54303530, 0x54303531];
  const versions = new Set<number>([0, 2, 0x6b3343ce, 0x6b3343d0, 0xfaceb000, 0xfaceb003, 0xfaceb00d, 0xfaceb00f,
    0x51303436, 0x51303433, 0x51303531, 0x54303532, 0x5430354f, 0x0a0a0a0a]);
  for (const v of known) versions.add(v);
  for (let d = 0; d <= 0x30; d++) versions.add(0xff000000 + d);
  const { spy, send, finish } = meterWithSpy();
  let port = 20000;
  const want: number[] = [];
  for (const v of versions) {
    for (const first of [0xc3, 0xd0, 0x09]) {
      const d = longHeader(v, first);
      // Q024-Q043's public header puts the version at byte 9: try that layout too.
      if (first === 0x09) d.writeUInt32BE(v >>> 0, 9);
      const p = ++port;
      const starts = ((first & 0x80) !== 0 && quicVersion(v >>> 0) !== null) || looksLikeGquic(d);
      if (starts) want.push(p);
      send(port, eth(ipv4({ src: '10.1.0.1', dst: '10.1.0.2', proto: 17 }, udp(p, 443, d))));
    }
  }
  // DTLS handshake records (0xfeXX and 0x0100) start one; a 6-byte datagram is too short to.
  for (const d of [Buffer.from([0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0x16, 0x01, 0x00, 0, 0, 0, 0]), Buffer.from([0x16, 0xfe, 0xfd, 0, 0, 0])]) {
    const p = ++port;
    if (d.length >= 7) want.push(p);
    send(port, eth(ipv4({ src: '10.1.0.1', dst: '10.1.0.2', proto: 17 }, udp(p, 443, d))));
  }
  const begun = spy.seen.filter((s) => s.action === WATCH_BEGIN).map((s) => s.sport);
  t.same(begun, want, `${want.length} of ${versions.size * 3 + 3} datagrams can start a hello, as the JavaScript checks say`);
  t.ok(want.length > 20, 'the set covers both sides');
  const byNum = (a: number, b: number): number => a - b;
  t.same([...versions].filter((v) => quicVersion(v >>> 0) !== null).sort(byNum), [...KNOWN_QUIC_WIRES].sort(byNum), 'KNOWN_QUIC_WIRES lists every version quicVersion reads');
  finish();
});

t.test("the ServerHello after a ClientHello read in place is read in C as serverVersionInPlace reads it (1,500 mutated hellos)", async (t) => {
  const hello = records(clientHello({ ciphers: [0x1301, 0xc02f], extensions: [ext.sni('a.example'), ext.supportedVersions([0x0304, 0x0303])] }));
  const offered = '1.3';
  const bases = [records(serverHello({ supportedVersion: 0x0304 })), records(serverHello({})), records(serverHello({ version: 0x0302 }))];
  const r = rng(7);
  const { send, finish, flows } = meterWithFlows();
  const want = new Map<number, string>();
  let port = 30000;
  for (let i = 0; i < 1500; i++) {
    const reply = Buffer.from(bases[i % bases.length]!);
    const edits = i % 4; // some untouched, some with 1-3 byte changes
    for (let k = 0; k < edits; k++) reply[Math.floor(r() * reply.length)] = Math.floor(r() * 256);
    const cut = i % 5 === 4 ? Math.floor(r() * reply.length) : reply.length;
    const server = reply.subarray(0, Math.max(1, cut));
    const v = serverVersionInPlace(server, 0, server.length);
    const sport = ++port;
    want.set(sport, typeof v === 'number' ? versionName(v) : offered);
    const up = (seq: number, flags: number, data?: Buffer): Buffer => eth(ipv4({ src: '10.2.0.1', dst: '10.2.0.2', proto: 6 }, tcp({ sport, dport: 443, seq, flags }, data)));
    const down = (seq: number, flags: number, data?: Buffer): Buffer => eth(ipv4({ src: '10.2.0.2', dst: '10.2.0.1', proto: 6 }, tcp({ sport: 443, dport: sport, seq, flags }, data)));
    send(port, up(99, F.SYN));
    send(port, down(499, F.SYN | F.ACK));
    send(port, up(100, F.ACK | F.PSH, hello));
    send(port, up(100 + hello.length, F.ACK)); // the client's next packet: not the server's, skipped
    send(port, down(500, F.ACK | F.PSH, Buffer.from(server)));
  }
  finish();
  let same = 0;
  for (const f of flows) if (f.meta?.tlsVersion === want.get(f.srcPort)) same++;
  t.equal(flows.length, 1500);
  t.equal(same, 1500, 'every flow reports the version serverVersionInPlace gives (or the offered one when it gives none)');
  t.ok([...want.values()].filter((v) => v !== offered).length > 300, 'the mutations leave many ServerHellos readable');
});

t.test('after a ClientHello read in place, server bytes that open no TLS record are passed over for the ServerHello, under the budget', async (t) => {
  // nDPI's heuristic_tcp_ack_payload.pcap: the server's ACK carries six zero bytes (Ethernet padding
  // counted in the IP length), then the ServerHello comes at the same sequence number.
  const hello = records(clientHello({ ciphers: [0x1301, 0xc02f], extensions: [ext.sni('a.example'), ext.supportedVersions([0x0304, 0x0303])] }));
  const tls12 = records(serverHello({ version: 0x0303, cipher: 0xc02f }), 16384, 0x0303);
  const maxPackets = 12; // meta.max_packets' default
  const { send, finish, flows } = meterWithFlows();
  const junkBefore = new Map([[40001, 1], [40002, maxPackets - 2], [40003, maxPackets - 1]]);
  for (const [sport, junk] of junkBefore) {
    const up = (seq: number, flags: number, data?: Buffer): Buffer => eth(ipv4({ src: '10.4.0.1', dst: '10.4.0.2', proto: 6 }, tcp({ sport, dport: 443, seq, flags }, data)));
    const down = (seq: number, flags: number, data?: Buffer): Buffer => eth(ipv4({ src: '10.4.0.2', dst: '10.4.0.1', proto: 6 }, tcp({ sport: 443, dport: sport, seq, flags }, data)));
    send(sport, up(99, F.SYN));
    send(sport, down(499, F.SYN | F.ACK));
    send(sport, up(100, F.ACK | F.PSH, hello));
    for (let k = 0; k < junk; k++) send(sport, down(500, F.ACK, Buffer.alloc(6)));
    send(sport, down(500, F.ACK | F.PSH, tls12));
  }
  finish();
  const version = (sport: number): string | null | undefined => flows.find((f) => f.srcPort === sport)?.meta?.tlsVersion;
  t.equal(version(40001), '1.2', 'six zero bytes before the ServerHello: the version it selected, not the highest offered');
  t.equal(version(40002), '1.2', 'the hello and the bytes passed over within max_packets payload packets: the ServerHello is read');
  t.equal(version(40003), '1.3', 'the budget spent on them (as the inspector would spend it): the offered version is kept');
});
