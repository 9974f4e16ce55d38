/**
 * DTLS: ClientHello SNI and JA4 ('d'), fragments across records and datagrams, the
 * HelloVerifyRequest round trip, the ServerHello version, malformed records.
 */
import t from 'tap';
import { createInspector, type HandshakeInspector } from '../../agent/meta/index.js';
import { clientHelloBody, dtlsFragment, dtlsRecord, ext, serverHello } from './builder.js';

const LIMITS = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };

function inspector(): { insp: HandshakeInspector; errors: string[] } {
  const errors: string[] = [];
  return { insp: createInspector(LIMITS, (r) => errors.push(r)), errors };
}

const helloOpts = (cookie: Uint8Array) => ({
  version: 0xfefd,
  sessionId: 0,
  cookie,
  ciphers: [0xc02b, 0xc02f, 0xcca9],
  extensions: [ext.sni('turn.example.org'), ext.raw(0x000e, Buffer.from([0, 2, 0, 1, 0])), ext.raw(0x0017), ext.sigAlgs([0x0403])],
});
const BODY = clientHelloBody(helloOpts(Buffer.alloc(0)));
const BODY_COOKIE = clientHelloBody(helloOpts(Buffer.alloc(20, 0xcc)));
// A DTLS ServerHello body is a TLS ServerHello body (no cookie).
const SH_BODY = serverHello({ version: 0xfefd }).subarray(4);

t.test('DTLS 1.2 ClientHello: SNI, JA4 d, version; the ServerHello ends it', async (t) => {
  const { insp, errors } = inspector();
  t.equal(insp.onPacket(0, 17, dtlsRecord(dtlsFragment(1, BODY, 0)), 0, 0), false);
  const m = insp.result();
  t.equal(m.sni, 'turn.example.org');
  t.equal(m.transport, 'dtls');
  t.equal(m.tlsVersion, 'dtls1.2');
  t.match(m.ja4, /^dd2d030400_[0-9a-f]{12}_[0-9a-f]{12}$/);
  t.equal(insp.onPacket(1, 17, dtlsRecord(dtlsFragment(2, SH_BODY, 0), { seq: 1 }), 0, 0), true);
  t.equal(insp.result().tlsVersion, 'dtls1.2');
  t.same(errors, []);
});

t.test('HelloVerifyRequest round trip: the hello with the cookie gives the same metadata', async (t) => {
  const first = inspector();
  first.insp.onPacket(0, 17, dtlsRecord(dtlsFragment(1, BODY, 0)), 0, 0);
  const { insp, errors } = inspector();
  const hvr = dtlsRecord(dtlsFragment(3, Buffer.concat([Buffer.from([0xfe, 0xff, 20]), Buffer.alloc(20, 0xcc)]), 0));
  // Capture starts at the server's HelloVerifyRequest: the cookie hello still counts.
  insp.onPacket(0, 17, hvr, 0, 0);
  insp.onPacket(1, 17, dtlsRecord(dtlsFragment(1, BODY_COOKIE, 1), { seq: 1 }), 0, 0);
  t.equal(insp.result().ja4, first.insp.result().ja4);
  t.same(errors, []);
});

t.test('ClientHello fragmented across records and datagrams, out of order', async (t) => {
  const want = (() => {
    const { insp } = inspector();
    insp.onPacket(0, 17, dtlsRecord(dtlsFragment(1, BODY, 0)), 0, 0);
    return insp.result();
  })();
  const { insp, errors } = inspector();
  const a = dtlsRecord(dtlsFragment(1, BODY, 0, 0, 40), { seq: 0 });
  const b = dtlsRecord(dtlsFragment(1, BODY, 0, 40, 30), { seq: 1 });
  const c = dtlsRecord(dtlsFragment(1, BODY, 0, 70), { seq: 2 });
  insp.onPacket(0, 17, c, 0, 0);
  t.equal(insp.result().ja4, null);
  insp.onPacket(0, 17, Buffer.concat([b, a]), 0, 0); // two records in one datagram
  t.same(insp.result(), want);
  t.same(errors, []);
  t.equal(insp.retainedBytes(), 0);
});

t.test('pre-RFC DTLS 1.0 (record and hello version 0x0100, Cisco AnyConnect)', async (t) => {
  const { insp, errors } = inspector();
  const body = clientHelloBody({ ...helloOpts(Buffer.alloc(0)), version: 0x0100 });
  insp.onPacket(0, 17, dtlsRecord(dtlsFragment(1, body, 0), { version: 0x0100 }), 0, 0);
  t.equal(insp.result().sni, 'turn.example.org');
  t.equal(insp.result().tlsVersion, '0x0100');
  t.match(insp.result().ja4, /^d00d0304/, 'an unknown version is "00" in JA4');
  t.same(errors, []);
});

t.test('malformed DTLS is counted, never thrown', async (t) => {
  const rec = dtlsRecord(dtlsFragment(1, BODY, 0));
  const a = inspector();
  a.insp.onPacket(0, 17, rec.subarray(0, rec.length - 10), 0, 0); // record longer than the datagram
  t.same(a.errors, ['dtls-malformed']);
  const bad = Buffer.from(rec);
  bad.writeUInt16BE(0x7777, 13 + 12 + 2 + 32 + 1 + 1); // cipher_suites length
  const b = inspector();
  t.equal(b.insp.onPacket(0, 17, bad, 0, 0), true);
  t.same(b.errors, ['tls-malformed']);
  const c = inspector();
  c.insp.onPacket(0, 17, dtlsRecord(dtlsFragment(1, BODY, 0, 50, 10000)), 0, 0); // fragment past the record
  t.same(c.errors, ['dtls-malformed']);
});
