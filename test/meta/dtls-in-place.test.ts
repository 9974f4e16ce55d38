/**
 * DTLS read by the flow table (native/dtls_watch.c: a first datagram holding a whole ClientHello,
 * then the flow's datagrams until the ServerHello or the budget) against the JavaScript reader:
 * every flow goes through the flow meter and through a bare inspector fed only through onPacket,
 * and both must end with the same metadata and the same error reports (C's are counted when the
 * flow ends). Each case states whether C read the flow alone, so a fast path that never fires
 * fails too; random damage to the server's datagrams checks the walk beyond the cases written.
 */
import t from 'tap';
import type { MetaLimits } from '../../agent/meta/index.js';
import { compare as compareFlows, metered, type Datagram } from './udp-compare.js';
import { clientHelloBody, dtlsFragment, dtlsRecord, ext, serverHello } from './builder.js';
import type { Test } from 'tap';
import { meterWithSpy } from './spy-meter.js';
import { eth, ipv4, udp } from '../helpers/packets.js';

const LIMITS: MetaLimits = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };
const compare = (t: Test, flow: readonly Datagram[], limits = LIMITS): boolean => compareFlows(t, flow, limits);

const helloOpts = (cookie: Uint8Array) => ({
  version: 0xfefd,
  sessionId: 0,
  cookie,
  ciphers: [0xc02b, 0xc02f, 0xcca9],
  extensions: [ext.sni('turn.example.org'), ext.alpn(['webrtc', 'c-webrtc']), ext.raw(0x000e, Buffer.from([0, 2, 0, 1, 0])), ext.sigAlgs([0x0403])],
});
const BODY = clientHelloBody(helloOpts(Buffer.alloc(0)));
const BODY_COOKIE = clientHelloBody(helloOpts(Buffer.alloc(20, 0xcc)));
const SH_BODY = serverHello({ version: 0xfefd }).subarray(4);
const HVR = dtlsRecord(dtlsFragment(3, Buffer.concat([Buffer.from([0xfe, 0xff, 20]), Buffer.alloc(20, 0xcc)]), 0));
const CERT = dtlsFragment(11, Buffer.alloc(300, 0x30), 1);
const sh10 = serverHello({ version: 0xfeff }).subarray(4);

const hello = (body = BODY, version = 0xfefd): Buffer => dtlsRecord(dtlsFragment(1, body, 0), { version });
/** The server's flight: ServerHello and a Certificate, in one record or two. */
const flight = (sh = SH_BODY, oneRecord = false): Buffer => oneRecord
  ? dtlsRecord(Buffer.concat([dtlsFragment(2, sh, 0), CERT]), { seq: 1 })
  : Buffer.concat([dtlsRecord(dtlsFragment(2, sh, 0), { seq: 1 }), dtlsRecord(CERT, { seq: 2 })]);
const stun = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42]), Buffer.alloc(20, 9)]);

t.test('a whole ClientHello first, then the server flight: read by C', async (t) => {
  t.ok(compare(t, [[0, hello()], [1, flight()]]), 'read by C');
  t.ok(compare(t, [[0, hello()], [1, flight(SH_BODY, true)]]), 'ServerHello and Certificate in one record');
  t.ok(compare(t, [[0, stun], [1, stun], [0, hello()], [1, flight()]]), 'after STUN packets');
  t.ok(compare(t, [[0, hello()], [1, HVR], [0, hello(BODY_COOKIE)], [1, flight()]]), 'a HelloVerifyRequest round trip');
  t.ok(compare(t, [[0, hello()], [0, hello()], [1, stun], [1, flight()]]), 'the hello sent again');
  t.ok(compare(t, [[1, hello()], [0, flight()]]), 'from the other side');
  t.ok(compare(t, [[0, hello(BODY, 0xfeff)], [1, flight()]]), 'DTLS 1.0 record version');
  t.ok(compare(t, [[0, hello(BODY, 0x0100)], [1, flight()]]), "OpenSSL's pre-RFC 0x0100");
  const { meta } = metered([[0, hello()], [1, flight(serverHello({ version: 0xfeff }).subarray(4))]], LIMITS);
  t.equal(meta?.sni, 'turn.example.org');
  t.same(meta?.alpn, ['webrtc', 'c-webrtc']);
  t.equal(meta?.tlsVersion, 'dtls1.0', "the server's choice");
  t.equal((meta as { transport?: string } | null)?.transport, 'dtls');
  t.match(meta?.ja4, /^dd2d/);
});

t.test('the budget: without a ServerHello the highest offered stays, as the reader ends', async (t) => {
  for (const max of [1, 2, 3, 8]) {
    const flow: Datagram[] = [[0, hello()], [1, stun], [0, stun], [1, stun], [1, flight()]];
    t.ok(compare(t, flow, { ...LIMITS, max_packets: max }), `max_packets ${max}`);
  }
  t.equal(metered([[0, hello()], [1, stun], [1, flight()]], { ...LIMITS, max_packets: 2 }).meta?.tlsVersion, 'dtls1.2');
});

t.test("the server's datagrams: what the reader reports, C reports when the flow ends", async (t) => {
  const sh = dtlsRecord(dtlsFragment(2, SH_BODY, 0), { seq: 1 });
  const longRecord = Buffer.from(dtlsRecord(CERT, { seq: 2 }));
  longRecord.writeUInt16BE(400, 11); // the record's length runs past the datagram
  t.ok(compare(t, [[0, hello()], [1, longRecord], [1, flight()]]), 'a record past the datagram: dtls-malformed');
  const badFragment = Buffer.from(dtlsRecord(CERT, { seq: 2 }));
  badFragment.writeUIntBE(0xffff, 13 + 9, 3); // fragment length past the record
  t.ok(compare(t, [[0, hello()], [1, badFragment], [1, flight()]]), 'a fragment past its record: dtls-malformed');
  t.ok(compare(t, [[0, hello()], [1, dtlsRecord(dtlsFragment(2, SH_BODY.subarray(0, 20), 0))], [1, flight()]]), 'a ServerHello that does not parse: tls-malformed, then the good one');
  t.ok(compare(t, [[0, hello()], [1, Buffer.concat([sh, longRecord])]]), 'the ServerHello and a bad record after it: both');
  t.ok(compare(t, [[0, hello()], [1, Buffer.concat([longRecord, longRecord])]], { ...LIMITS, max_packets: 2 }), 'reported once per flow');
  t.ok(compare(t, [[0, hello()], [1, flight()], [1, longRecord]]), 'nothing after the ServerHello is read');
  const fragmentedSh = Buffer.concat([dtlsRecord(dtlsFragment(2, sh10, 0, 0, 60)), dtlsRecord(dtlsFragment(2, sh10, 0, 60))]);
  t.ok(compare(t, [[0, hello()], [1, fragmentedSh]]), 'a fragmented ServerHello is not read');
  t.equal(metered([[0, hello()], [1, fragmentedSh]], LIMITS).meta?.tlsVersion, 'dtls1.2');
  // sh10 chooses DTLS 1.0 where the hello's highest is 1.2, so that reading it would show.
  t.ok(compare(t, [[0, hello()], [1, dtlsRecord(dtlsFragment(2, sh10, 0), { epoch: 1 })]]), 'epoch 1 is not read');
  t.equal(metered([[0, hello()], [1, dtlsRecord(dtlsFragment(2, sh10, 0), { epoch: 1 })]], LIMITS).meta?.tlsVersion, 'dtls1.2');
  t.equal(metered([[0, hello()], [1, dtlsRecord(dtlsFragment(2, sh10, 0))]], LIMITS).meta?.tlsVersion, 'dtls1.0', 'epoch 0 is');
  t.ok(compare(t, [[0, hello()], [1, Buffer.concat([Buffer.from([0x2f, 0x12, 0x34]), sh])]]), 'a DTLS 1.3 ciphertext header ends the walk');
  const { errors } = metered([[0, hello()], [1, longRecord], [1, flight()]], LIMITS);
  t.same(errors, ['dtls-malformed'], 'counted by the plugin');
  const twice = metered([[0, hello()], [1, longRecord], [1, badFragment], [1, longRecord], [1, flight()]], LIMITS);
  t.same(twice.errors, ['dtls-malformed'], 'the same reason in three datagrams: once');
  t.ok(compare(t, [[0, hello()], [1, longRecord], [1, dtlsRecord(dtlsFragment(2, SH_BODY.subarray(0, 20), 0))], [1, flight()]]), 'two reasons in one flow');
  t.same(metered([[0, hello()], [1, longRecord], [1, dtlsRecord(dtlsFragment(2, SH_BODY.subarray(0, 20), 0))]], LIMITS).errors.sort(), ['dtls-malformed', 'tls-malformed']);
});

t.test("a slot that held a flow with C's reports starts clean for the next flow", async (t) => {
  // One slot: each new flow evicts the last, whose reports are counted then, and only then.
  const { send, finish, flows, errors } = meterWithSpy(1, LIMITS);
  const long = Buffer.from(dtlsRecord(CERT, { seq: 2 }));
  long.writeUInt16BE(400, 11);
  const flow = (port: number, datagrams: readonly Datagram[], at: number): void => datagrams.forEach(([dir, p], i) => {
    const ends = dir === 0 ? { src: '10.9.0.1', dst: '10.9.0.2' } : { src: '10.9.0.2', dst: '10.9.0.1' };
    send(at + i, eth(ipv4({ ...ends, proto: 17 }, dir === 0 ? udp(port, 4433, p) : udp(4433, port, p))));
  });
  flow(5001, [[0, hello()], [1, long]], 0);
  flow(5002, [[0, hello()], [1, flight()]], 10);
  flow(5003, [[0, hello()], [1, Buffer.alloc(40, 0x55)]], 20); // (STUN's bytes 1-2 could read as version 0x0100)
  finish();
  t.equal(flows.length, 3);
  t.same(errors, ['dtls-malformed'], "the first flow's report, counted once");
  t.same(flows.map((f) => f.meta?.tlsVersion), ['dtls1.2', 'dtls1.2', 'dtls1.2']);
});

t.test('anything else in the first datagram is left to the reader', async (t) => {
  const half = BODY.length >> 1;
  t.notOk(compare(t, [[0, dtlsRecord(dtlsFragment(1, BODY, 0, 0, half))], [0, dtlsRecord(dtlsFragment(1, BODY, 0, half), { seq: 1 })], [1, flight()]]), 'a fragmented hello');
  t.notOk(compare(t, [[0, dtlsRecord(dtlsFragment(1, BODY.subarray(0, 30), 0))], [1, flight()]]), 'a hello that does not parse');
  const long = Buffer.from(dtlsRecord(CERT, { seq: 2 }));
  long.writeUInt16BE(400, 11);
  t.notOk(compare(t, [[0, Buffer.concat([hello(), long])], [1, flight()]]), 'a bad record after the hello');
  t.notOk(compare(t, [[0, Buffer.concat([hello(), dtlsRecord(dtlsFragment(2, SH_BODY, 0))])]]), 'a ServerHello with it');
  t.notOk(compare(t, [[1, flight()], [0, hello()]]), 'the server first');
  t.notOk(compare(t, [[0, HVR], [1, hello(BODY_COOKIE)]]), 'no ClientHello in the first DTLS datagram');
});

t.test('random damage to the server side reads the same in C and in the reader (400 flows)', async (t) => {
  let seed = 7;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  let kept = 0;
  for (let i = 0; i < 400; i++) {
    const flow: Datagram[] = [[0, hello()]];
    for (let k = 0, n = 1 + rand(4); k < n; k++) {
      const d = Buffer.from([flight(rand(2) === 0 ? SH_BODY : sh10, rand(2) === 0), HVR, stun, hello(BODY_COOKIE)][rand(4)]!);
      for (let f = rand(4); f > 0; f--) d[rand(d.length)] = rand(256);
      flow.push([rand(3) === 0 ? 0 : 1, rand(5) === 0 ? d.subarray(0, rand(d.length) + 1) : d]);
    }
    if (compareFlows(t, flow, { ...LIMITS, max_packets: 1 + rand(6) })) kept++;
  }
  t.equal(kept, 400, 'C read every one (their first datagram is a whole hello)');
});
