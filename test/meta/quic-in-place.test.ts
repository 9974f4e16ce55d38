/**
 * The QUIC first-datagram fast path (native/quic_initial.c, run by the flow table itself:
 * hello_watch.c read_quic_in_place) against the JavaScript reader: every flow here goes through
 * the flow meter and through an inspector fed only through onPacket, and both must end with the
 * same metadata and the same error reports. Each case also states whether C kept the first
 * datagram's hello (nothing reached JavaScript), so a fast path that never fires fails too.
 */
import t, { type Test } from 'tap';
import type { MetaLimits } from '../../agent/meta/index.js';
import { RFC9001 } from './quic-vectors.js';
import { rng } from '../helpers/fuzz.js';
import { compare as compareFlows, metered as meteredFlow, type Datagram } from './udp-compare.js';
import {
  clientHello, cryptoFrame, ext, hex, initialPacket, QUIC_DRAFT29, QUIC_V1, QUIC_V2, serverHello, type QuicVersionSpec,
} from './builder.js';

const LIMITS: MetaLimits = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };
const DCID = Buffer.from('0102030405060708', 'hex');
const SCID = Buffer.from('a1a2a3a4', 'hex');
const SERVER_CID = Buffer.from('b1b2b3b4b5b6b7b8', 'hex');

/** A hello that fits one Initial. */
const HELLO = clientHello({
  version: 0x0303,
  sessionId: 0,
  ciphers: [0x1301, 0x1302, 0x1303],
  extensions: [ext.raw(0x4a4a), ext.sni('in-place.example'), ext.alpn(['h3', 'h3-29']), ext.raw(0x0033, Buffer.alloc(40, 5)),
    ext.sigAlgs([0x0403, 0x0804]), ext.supportedVersions([0x0304])],
});
/** The same without TLS 1.3, which QUIC forbids: only then does the reader go on to the server's Initial. */
const HELLO_12 = clientHello({
  version: 0x0303,
  sessionId: 0,
  ciphers: [0x1301, 0x1302, 0x1303],
  extensions: [ext.sni('in-place.example'), ext.alpn(['h3']), ext.supportedVersions([0x0303])],
});
/** A hello that needs two Initials. */
const BIG_HELLO = clientHello({
  version: 0x0303,
  sessionId: 0,
  ciphers: [0x1301],
  extensions: [ext.sni('big.example'), ext.raw(0x0033, Buffer.alloc(1300, 5)), ext.supportedVersions([0x0304])],
});

function client(spec: QuicVersionSpec, frames: Buffer, pn = 0, extra: Partial<Parameters<typeof initialPacket>[0]> = {}): Buffer {
  return initialPacket({ spec, dcid: DCID, scid: SCID, pn, frames, padTo: 1200, ...extra });
}

function server(spec: QuicVersionSpec, pn = 0): Buffer {
  const frames = Buffer.concat([Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00]), cryptoFrame(0, serverHello({ supportedVersion: 0x0304 }))]);
  return initialPacket({ spec, dcid: SCID, scid: SERVER_CID, keyDcid: DCID, server: true, pn, pnLen: 2, frames });
}

/** A 0-RTT (or any non-Initial) long-header packet of `spec` with `len` opaque bytes after its Length field. */
function longPacket(spec: QuicVersionSpec, type: number, len: number, declared = len): Buffer {
  const b = Buffer.concat([Buffer.from([0xc0 | (type << 4), 0, 0, 0, 0, DCID.length]), DCID, Buffer.from([0]), Buffer.from([0x40 | (declared >> 8), declared & 0xff]), Buffer.alloc(len, 7)]);
  b.writeUInt32BE(spec.version >>> 0, 1);
  return b;
}

/** The flow through the flow meter (udp-compare.ts), kept only when C kept a hello. */
function metered(flow: readonly Datagram[], limits = LIMITS): ReturnType<typeof meteredFlow> {
  return meteredFlow(flow, limits, true);
}

/** Run the flow both ways (udp-compare.ts); returns whether C kept the first datagram's hello. */
function compare(t: Test, flow: readonly Datagram[], limits = LIMITS): boolean {
  return compareFlows(t, flow, limits, true);
}

for (const spec of [QUIC_V1, QUIC_V2, QUIC_DRAFT29]) {
  const name = spec.version.toString(16);
  t.test(`${name}: a whole hello in one CRYPTO frame is read in place`, async (t) => {
    t.ok(compare(t, [[0, client(spec, cryptoFrame(0, HELLO))], [1, server(spec)]]), 'kept by C');
    const { meta } = metered([[0, client(spec, cryptoFrame(0, HELLO))]]);
    t.equal(meta?.sni, 'in-place.example');
    t.same(meta?.alpn, ['h3', 'h3-29']);
    t.equal(meta?.tlsVersion, '1.3', 'TLS 1.3 offered: done without the server');
  });

  t.test(`${name}: a hello without TLS 1.3 is left to the reader, which reads the server's Initial too`, async (t) => {
    t.notOk(compare(t, [[0, client(spec, cryptoFrame(0, HELLO_12))], [1, server(spec)]]), 'not kept by C');
    t.equal(metered([[0, client(spec, cryptoFrame(0, HELLO_12))]]).meta?.tlsVersion, '1.2', 'highest offered');
    t.equal(metered([[0, client(spec, cryptoFrame(0, HELLO_12))], [1, server(spec)]]).meta?.tlsVersion, '1.3', 'from the ServerHello');
  });
}

t.test('the RFC 9001 Appendix A client Initial is read in place', async (t) => {
  const p = hex(RFC9001.clientPacket);
  t.ok(compare(t, [[0, p]]), 'kept by C');
  const { meta } = metered([[0, p]]);
  t.equal(meta?.sni, 'example.com');
  t.equal(meta?.quicVersion, 'v1');
});

t.test('CRYPTO frames out of order and overlapping in one Initial (as Chrome sends them) are read in place', async (t) => {
  const a = HELLO.subarray(0, 30), b = HELLO.subarray(30, 90), c = HELLO.subarray(90);
  t.ok(compare(t, [[0, client(QUIC_V1, Buffer.concat([cryptoFrame(90, c), Buffer.from([0x01, 0x00]), cryptoFrame(0, a), cryptoFrame(30, b)]))]]));
  // Overlaps: the last copy wins in both readers (here with different bytes, to tell them apart).
  const wrong = Buffer.from(HELLO.subarray(20, 60)).fill(0x41, 10, 20);
  t.ok(compare(t, [[0, client(QUIC_V1, Buffer.concat([cryptoFrame(20, wrong), cryptoFrame(0, HELLO)]))]]));
  t.ok(compare(t, [[0, client(QUIC_V1, Buffer.concat([cryptoFrame(0, HELLO), cryptoFrame(20, wrong)]))]]));
  // A later copy rewrites part of the name before the hello is complete: both readers see it.
  const at = HELLO.indexOf('in-place.example');
  const frames = Buffer.concat([cryptoFrame(0, HELLO.subarray(0, at + 4)), cryptoFrame(at, Buffer.from('xx-place')), cryptoFrame(at + 4, HELLO.subarray(at + 4))]);
  const p = client(QUIC_V1, frames);
  t.ok(compare(t, [[0, p]]));
  t.equal(metered([[0, p]]).meta?.sni, 'xx-place.example', 'the last copy wins');
});

t.test('coalesced packets after the Initial', async (t) => {
  const initial = client(QUIC_V1, cryptoFrame(0, HELLO));
  t.ok(compare(t, [[0, Buffer.concat([initial, longPacket(QUIC_V1, 1, 40)])]]), '0-RTT after it: taken');
  t.ok(compare(t, [[0, Buffer.concat([initial, longPacket(QUIC_V1, 3, 40)])]]), 'a Retry type ends the datagram: taken');
  t.ok(compare(t, [[0, Buffer.concat([initial, Buffer.from([0x40, 1, 2, 3, 4, 5, 6, 7])])]]), 'a short header ends it: taken');
  t.notOk(compare(t, [[0, Buffer.concat([initial, longPacket(QUIC_V1, 1, 40, 400)])]]), 'a length past the end: the reader reports it');
  t.notOk(compare(t, [[0, Buffer.concat([initial, longPacket(QUIC_V2, 1, 40)])]]), 'another version: the reader looks it up');
  t.notOk(compare(t, [[0, Buffer.concat([initial, longPacket(QUIC_V1, 0, 10)])]]), 'a second Initial too short to sample');
});

t.test('everything else is left to the JavaScript reader, with the same outcome', async (t) => {
  const v1 = QUIC_V1;
  t.notOk(compare(t, [[0, client(v1, Buffer.concat([Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00]), cryptoFrame(0, HELLO)]))]]), 'an ACK first');
  t.notOk(compare(t, [[0, client(v1, Buffer.concat([Buffer.from([0x1c, 0x00, 0x00, 0x00]), cryptoFrame(0, HELLO)]))]]), 'a CONNECTION_CLOSE first');
  t.notOk(compare(t, [[0, client(v1, Buffer.from([0x08, 0x00]))]]), 'a frame not allowed in an Initial');
  const bad = client(v1, cryptoFrame(0, HELLO));
  bad[bad.length - 1] ^= 1;
  t.notOk(compare(t, [[0, bad]]), 'a tag that does not match');
  t.notOk(compare(t, [[0, client(v1, cryptoFrame(0, Buffer.concat([Buffer.from([2]), HELLO.subarray(1)])))]]), 'not a ClientHello');
  t.notOk(compare(t, [[0, client(v1, cryptoFrame(0, HELLO.subarray(0, 60)))]]), 'a truncated hello');
  t.notOk(compare(t, [[0, client(v1, cryptoFrame(0, HELLO))]], { ...LIMITS, max_buffer: 64, max_reassembling: 4096 }), 'a hello larger than max_buffer');
  t.notOk(compare(t, [[0, longPacket(v1, 1, 60)]]), 'a 0-RTT packet first');
  t.notOk(compare(t, [[0, Buffer.from('0123456789abcdef', 'hex')]]), 'not QUIC');
});

t.test('a budget of one packet ends the inspection in both', async (t) => {
  t.ok(compare(t, [[0, client(QUIC_V1, cryptoFrame(0, HELLO))], [1, server(QUIC_V1)]], { ...LIMITS, max_packets: 1 }));
});

// Both hellos: with TLS 1.3 the inspection ends at the client's Initial (C keeps it), without it the server's is read too (by the reader).
for (const [label, hello] of [['TLS 1.3 offered', HELLO], ['no TLS 1.3', HELLO_12]] as const) {
  t.test(`mutated datagrams (${label}): header bytes and frames (before protection) changed at random`, async (t) => {
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const frames = Buffer.concat([Buffer.from([0x01]), cryptoFrame(40, hello.subarray(40)), cryptoFrame(0, hello.subarray(0, 40))]);
    const base = client(QUIC_V1, frames);
    let taken = 0;
    const runs = 400;
    for (let i = 0; i < runs; i++) {
      let p: Buffer;
      if (i % 2 === 0) {
        p = Buffer.from(base);
        p[rand(30)] = rand(256); // the unprotected header: type, version, CIDs, token and Length fields
      } else {
        const f = Buffer.from(frames);
        for (let k = 0; k < 3; k++) f[rand(f.length)] = rand(256);
        p = client(QUIC_V1, f);
      }
      const errorsBefore = t.counts.fail;
      if (compare(t, [[0, p], [1, server(QUIC_V1)]])) taken++;
      if (t.counts.fail > errorsBefore) t.comment(`mutation ${i}: ${p.toString('hex')}`);
    }
    // Without TLS 1.3 the reader goes on to the server's Initial: C keeps none of those hellos.
    if (hello === HELLO) t.ok(taken > 0 && taken < runs, `C kept ${taken} of ${runs}`);
    else t.equal(taken, 0, 'C kept none: the reader read them all');
  });
}

t.test('a hello over two Initials is read in C when the second completes it; anything else hands both to the reader', async (t) => {
  const first = (spec: QuicVersionSpec, cut = 1000, extra = {}): Buffer => client(spec, cryptoFrame(0, BIG_HELLO.subarray(0, cut)), 0, extra);
  const second = (spec: QuicVersionSpec, cut = 1000, pn = 1, extra = {}): Buffer => client(spec, cryptoFrame(cut, BIG_HELLO.subarray(cut)), pn, extra);
  for (const spec of [QUIC_V1, QUIC_V2, QUIC_DRAFT29]) {
    t.ok(compare(t, [[0, first(spec)], [0, second(spec)], [1, server(spec)]]), `${spec.version.toString(16)}: read by C`);
  }
  const v1 = QUIC_V1;
  const { meta } = metered([[0, first(v1)], [0, second(v1)]]);
  t.equal(meta?.sni, 'big.example');
  t.equal(meta?.tlsVersion, '1.3');
  t.ok(compare(t, [[0, client(v1, cryptoFrame(1000, BIG_HELLO.subarray(1000)))], [0, client(v1, cryptoFrame(0, BIG_HELLO.subarray(0, 1000)), 1)]]), 'the second half first');
  t.ok(compare(t, [[0, first(v1)], [0, second(v1, 1000, 7)]]), 'a later packet number');
  t.ok(compare(t, [[0, first(v1, 2)], [0, second(v1, 2)]]), 'two bytes first');
  t.notOk(compare(t, [[0, first(v1, 600)], [0, second(v1, 600).subarray(0, 900)]]), 'the second cut short');
  // Found by review: a flow that ended while C kept its first Initial (quic_split.c) was counted nowhere.
  t.same(metered([[0, first(v1)]]).errors, ['hello-incomplete'], 'the first Initial alone, then the flow ends');
  const third = BIG_HELLO.length - 200;
  t.notOk(compare(t, [[0, first(v1, 600)], [0, client(v1, cryptoFrame(600, BIG_HELLO.subarray(600, third)), 1)], [0, client(v1, cryptoFrame(third, BIG_HELLO.subarray(third)), 2)]]), 'a hello over three Initials');
  t.notOk(compare(t, [[0, first(v1)], [1, server(v1)], [0, second(v1)]]), "the server's Initial between");
  t.notOk(compare(t, [[0, first(v1)], [1, second(v1)]]), 'the second from the other side');
  t.notOk(compare(t, [[0, first(v1)], [0, second(v1, 1000, 1, { dcid: Buffer.from('0909090909090909', 'hex') })]]), 'another DCID');
  t.notOk(compare(t, [[0, first(v1)], [0, client(v1, Buffer.concat([Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00]), cryptoFrame(1000, BIG_HELLO.subarray(1000))]), 1)]]), 'an ACK in the second');
  t.notOk(compare(t, [[0, first(v1)], [0, Buffer.alloc(0)], [0, second(v1)]]), 'an empty datagram between');
  t.notOk(compare(t, [[0, first(v1)], [0, second(QUIC_V2)]]), 'another version');
  t.notOk(compare(t, [[0, first(v1)], [0, second(v1)]], { ...LIMITS, max_packets: 1 }), 'a budget of one packet: hello-incomplete');
  t.ok(compare(t, [[0, first(v1)], [0, second(v1)]], { ...LIMITS, max_packets: 2 }), 'a budget of two');
  t.notOk(compare(t, [[0, first(v1)], [0, second(v1)]], { ...LIMITS, max_buffer: BIG_HELLO.length - 1, max_reassembling: 4096 }), 'past max_buffer');
  // Found by review: C kept a first datagram of any size, 60 KB Initials holding 100 bytes of a hello.
  t.notOk(compare(t, [[0, first(v1, 1000, { padTo: 3000 })], [0, second(v1)]], { ...LIMITS, max_buffer: 2500, max_reassembling: 4096 }), 'a first datagram over max_buffer: not kept, the reader has it');
  t.ok(compare(t, [[0, first(v1, 1000, { padTo: 2400 })], [0, second(v1)]], { ...LIMITS, max_buffer: 2500, max_reassembling: 4096 }), 'one under it: kept');
  const old = clientHello({ version: 0x0303, sessionId: 0, ciphers: [0x1301], extensions: [ext.sni('old.example'), ext.raw(0x0033, Buffer.alloc(1300, 5)), ext.supportedVersions([0x0303])] });
  t.notOk(compare(t, [[0, client(v1, cryptoFrame(0, old.subarray(0, 1000)))], [0, client(v1, cryptoFrame(1000, old.subarray(1000)), 1)], [1, server(v1)]]), 'no TLS 1.3: the reader goes on to the server');
  t.notOk(compare(t, [[0, Buffer.concat([first(v1), first(v1)])], [0, second(v1)]]), 'an Initial coalesced after the first');
  t.ok(compare(t, [[0, first(v1)], [0, Buffer.concat([second(v1), longPacket(v1, 1, 40)])]]), '0-RTT after the second: taken');
  t.notOk(compare(t, [[0, first(v1)], [0, Buffer.concat([second(v1), longPacket(v1, 1, 40, 400)])]]), 'a broken packet after the second: the reader reports it');
  // The second's packet number decoded against the first's (one byte each: 255, then 256).
  t.ok(compare(t, [[0, client(v1, cryptoFrame(0, BIG_HELLO.subarray(0, 1000)), 255, { pnLen: 1 })], [0, client(v1, cryptoFrame(1000, BIG_HELLO.subarray(1000)), 256, { pnLen: 1 })]]),
    'one-byte packet numbers across 256');
  // Handed back, the reader is charged with both packets: a budget of 2 ends at the server's, of 3 not.
  for (const max of [2, 3]) t.notOk(compare(t, [[0, first(v1)], [1, server(v1)], [0, second(v1)]], { ...LIMITS, max_packets: max }), `the server between, max_packets ${max}`);
  t.ok(compare(t, [[0, Buffer.concat([first(v1), longPacket(v1, 1, 40)])], [0, second(v1)]]), '0-RTT after the first: kept');
  t.notOk(compare(t, [[0, Buffer.concat([first(v1), longPacket(v1, 1, 40, 400)])], [0, second(v1)]]), 'a broken packet after the first: reported');
  t.ok(compare(t, [[0, client(v1, Buffer.from([0x01, 0x00]))], [0, client(v1, cryptoFrame(0, HELLO), 1)]]), 'a first Initial of PING and padding only, the hello in the second');
  t.test('and the flow ends with only the first: nothing, in both', async (t) => {
    t.ok(compareFlows(t, [[0, first(v1)]], LIMITS), 'held in C until the end: no packet reached JavaScript');
    t.equal(metered([[0, first(v1)]]).meta, null);
  });
});

t.test('random damage to the second of two Initials reads the same in C and in the reader (200 flows)', async (t) => {
  const r = rng(29);
  let kept = 0;
  for (let i = 0; i < 200; i++) {
    const cut = 200 + Math.floor(r() * 1000);
    const a = client(QUIC_V1, cryptoFrame(0, BIG_HELLO.subarray(0, cut)));
    const b = Buffer.from(client(QUIC_V1, cryptoFrame(cut, BIG_HELLO.subarray(cut)), 1));
    for (let f = Math.floor(r() * 3); f > 0; f--) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    if (compare(t, [[0, a], [0, r() < 0.2 ? b.subarray(0, Math.floor(r() * b.length)) : b]])) kept++;
  }
  t.ok(kept > 30, `C read ${kept} of them alone`);
});

