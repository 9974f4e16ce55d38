/**
 * The gQUIC first-packet fast path (native/gquic_chlo.c, run by the flow table itself:
 * hello_watch.c read_gquic_in_place) against the JavaScript reader: every flow goes through the
 * flow meter and through an inspector fed only through onPacket, and both must end with the
 * same metadata and the same error reports. Each case also states whether C read the first
 * packet on its own (nothing reached JavaScript), so a fast path that never fires fails too, and
 * one that takes a packet the reader would read otherwise fails on the metadata.
 */
import t, { type Test } from 'tap';
import type { MetaLimits } from '../../agent/meta/index.js';
import { compare as compareFlows, metered as meteredFlow, type Datagram } from './udp-compare.js';
import { ackFrame, chlo, publicPacket, q046Packet, streamFrame } from './gquic-builder.js';

const LIMITS: MetaLimits = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };
const CHLO = chlo({ SNI: 'www.example.org', VER: 'Q043', UAID: 'Chrome/70.0', PDMD: 'X509', CCS: Buffer.alloc(16, 7) }, 1024);

function metered(flow: readonly Datagram[], limits = LIMITS): ReturnType<typeof meteredFlow> {
  return meteredFlow(flow, limits);
}

function compare(t: Test, flow: readonly Datagram[], limits = LIMITS): boolean {
  return compareFlows(t, flow, limits);
}

for (const version of [24, 30, 33, 35, 36, 38, 39, 43]) {
  t.test(`Q0${version}: a whole CHLO in the first packet is read in C`, async (t) => {
    const p = publicPacket({ version, frames: streamFrame(version, 1, 0, CHLO), padTo: 1350 });
    t.ok(compare(t, [[0, p], [1, Buffer.alloc(60, 3)]]), 'read by C');
    const { meta } = metered([[0, p]]);
    t.equal(meta?.sni, 'www.example.org');
    t.equal(meta?.quicVersion, `Q0${version}`);
    t.equal(meta?.tlsVersion, null, 'a CHLO offers no TLS version');
    t.equal(meta?.ja4, null);
  });
}

t.test('Q046: a whole CHLO in the first Initial is read in C', async (t) => {
  const p = q046Packet({ frames: streamFrame(46, 1, 0, CHLO), padTo: 1350 });
  t.ok(compare(t, [[0, p]]), 'read by C');
  t.equal(metered([[0, p]]).meta?.quicVersion, 'Q046');
});

t.test('frames the reader passes over before the crypto stream: PING, padding and other streams', async (t) => {
  const frames = Buffer.concat([Buffer.from([0x07, 0x00, 0x00]), streamFrame(43, 5, 0, Buffer.from('other stream')), streamFrame(43, 1, 0, CHLO)]);
  t.ok(compare(t, [[0, publicPacket({ version: 43, frames, padTo: 1350 })]]), 'read by C');
  t.ok(compare(t, [[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, CHLO, { noLength: true }) })]]), 'a stream frame to the end of the packet');
  t.ok(compare(t, [[0, publicPacket({ version: 33, privateFlags: 0x02, frames: Buffer.concat([Buffer.from([9]), streamFrame(33, 1, 0, CHLO)]) })]]), 'an FEC group byte (before Q034)');
  t.ok(compare(t, [[0, publicPacket({ version: 39, frames: streamFrame(39, 1, 0, CHLO, { idLen: 4, offLen: 8 }) })]]), 'long stream-ID and offset fields');
});

t.test('whatever else the reader handles is left to it, with the same findings and reports', async (t) => {
  t.notOk(compare(t, [[0, publicPacket({ version: 43, frames: Buffer.concat([ackFrame(43), streamFrame(43, 1, 0, CHLO)]) })]]), 'an ACK before the CHLO');
  t.notOk(compare(t, [[0, publicPacket({ version: 30, frames: Buffer.concat([ackFrame(30, 2), streamFrame(30, 1, 0, CHLO)]) })]]), 'NACK ranges (before Q034)');
  const a = CHLO.subarray(0, 600), b = CHLO.subarray(600);
  t.notOk(compare(t, [[0, publicPacket({ version: 43, pn: 1, frames: streamFrame(43, 1, 0, a) })], [0, publicPacket({ version: 43, pn: 2, frames: streamFrame(43, 1, 600, b) })]]), 'a CHLO over two packets');
  t.notOk(compare(t, [[0, publicPacket({ version: 43, pn: 2, frames: streamFrame(43, 1, 600, b) })], [0, publicPacket({ version: 43, pn: 1, frames: streamFrame(43, 1, 0, a) })]]), 'the same out of order');
  t.notOk(compare(t, [[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, CHLO), perspective: 'Server' })]]), 'a hash of the other side');
  t.notOk(compare(t, [[0, publicPacket({ version: 33, privateFlags: 0x04, frames: streamFrame(33, 1, 0, CHLO) })]]), 'an FEC packet');
  t.notOk(compare(t, [[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, Buffer.from('REJ\0 not a client hello')) })]]), 'stream data that is not a CHLO');
  const many: Record<string, string> = { SNI: 'many.example' };
  for (let i = 0; i < 128; i++) many[`X${i.toString(36).padStart(2, '0')}`] = '';
  const tooMany = chlo(many);
  t.equal(tooMany.readUInt16LE(4), 129, 'a whole CHLO of 129 entries');
  t.notOk(compare(t, [[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, tooMany) })]]), 'too many entries: reported malformed');
  const backwards = Buffer.from(chlo({ SNI: 'back.example', VER: 'Q043' }, 400));
  backwards.writeUInt32LE(5, 8 + 8 * 2 + 4); // the third entry (VER) ends before the second (SNI)
  t.notOk(compare(t, [[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, backwards) })]]), 'end offsets going backwards: reported malformed');
  t.notOk(compare(t, [[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, CHLO) })]], { ...LIMITS, max_buffer: CHLO.length - 1, max_reassembling: 4096 }), 'a CHLO one byte past max_buffer: reported');
  t.ok(compare(t, [[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, CHLO) })]], { ...LIMITS, max_buffer: CHLO.length, max_reassembling: 4096 }), 'a CHLO of exactly max_buffer: read by C');
  const truncated = publicPacket({ version: 43, frames: streamFrame(43, 1, 0, CHLO) });
  t.notOk(compare(t, [[0, truncated.subarray(0, truncated.length - 100)]]), 'cut short (its hash no longer matches)');
  t.notOk(compare(t, [[0, publicPacket({ version: 43, frames: Buffer.from([0x1c]) })]]), 'a frame type the reader stops at');
});

t.test('a CHLO without a readable SNI ends the flow with no metadata, in C as in the reader', async (t) => {
  for (const sni of [undefined, 'bad name', 'x'.repeat(256), '\x01\x02']) {
    const values: Record<string, string> = { VER: 'Q043', UAID: 'Chrome/70.0' };
    if (sni !== undefined) values.SNI = sni;
    const p = publicPacket({ version: 43, frames: streamFrame(43, 1, 0, chlo(values, 1000)), padTo: 1350 });
    t.ok(compare(t, [[0, p], [0, publicPacket({ version: 43, pn: 2, frames: streamFrame(43, 1, 0, CHLO) })]]), `SNI ${JSON.stringify(sni)}: read by C`);
  }
  t.test('the last SNI tag wins, in both, even when it is not a name', async (t) => {
    const twice = Buffer.from(chlo({ SNI: 'first.example', VER: 'Q043' }, 400));
    const at = twice.indexOf('VER\0', 0, 'latin1');
    twice.write('SNI\0', at, 'latin1'); // two SNI tags (the table stays sorted by end offset)
    t.ok(compare(t, [[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, twice), padTo: 1350 })]]));
    t.equal(metered([[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, twice), padTo: 1350 })]]).meta?.sni, 'Q043');
    const bad = Buffer.from(chlo({ SNI: 'first.example', VER: 'Q 43' }, 400));
    bad.write('SNI\0', bad.indexOf('VER\0', 0, 'latin1'), 'latin1');
    t.ok(compare(t, [[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, bad), padTo: 1350 })]]), 'a good SNI then a bad one: none');
    t.equal(metered([[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, bad), padTo: 1350 })]]).meta, null);
  });
});
