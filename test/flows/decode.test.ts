import t, { type Test } from 'tap';
import { LINK } from '../../agent/capture/link-types.js';
import { decodeFrame } from '../../agent/flows/decode.js';
import { FRAG_FIRST, FRAG_LATER, FRAG_NONE, Packet, SKIP } from '../../agent/flows/packet.js';
import { eth, F, frag6, icmp, ipv4, ipv6, tcp, udp } from '../helpers/packets.js';

const v4tcp = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6 }, tcp({ sport: 40000, dport: 443, flags: F.SYN | F.ACK, win: 29200, seq: 77 }, Buffer.from('hello')));
const v6udp = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nh: 17 }, udp(5353, 53, Buffer.from('query')));

function decode(link: number, frame: Buffer, gtp = true): { r: number; p: Packet } {
  const p = new Packet();
  const r = decodeFrame(link, frame, 0, frame.length, p, { gtp });
  return { r, p };
}

function expectV4Tcp(t: Test, link: number, frame: Buffer): void {
  const { r, p } = decode(link, frame);
  t.equal(r, SKIP.ok, `link ${link} decodes`);
  t.equal(p.ipVersion, 4);
  t.equal(p.s0, 0x0a000001);
  t.equal(p.d0, 0x0a000002);
  t.equal(p.proto, 6);
  t.same([p.sport, p.dport, p.tcpFlags, p.tcpWindow, p.tcpSeq], [40000, 443, F.SYN | F.ACK, 29200, 77]);
  t.equal(p.ipBytes, 45);
  t.equal(p.payloadLen, 5);
  t.equal(frame.subarray(p.payloadOff, p.payloadOff + p.capPayload).toString(), 'hello');
}


t.test('Ethernet', async (t) => expectV4Tcp(t, LINK.ETHERNET, eth(v4tcp)));

t.test('Linux cooked SLL and SLL2', async (t) => {
  const sll = Buffer.alloc(16);
  sll.writeUInt16BE(0x0800, 14);
  expectV4Tcp(t, LINK.LINUX_SLL, Buffer.concat([sll, v4tcp]));
  const sll2 = Buffer.alloc(20);
  sll2.writeUInt16BE(0x0800, 0);
  expectV4Tcp(t, LINK.LINUX_SLL2, Buffer.concat([sll2, v4tcp]));
});

t.test('raw IP (101, 12, 14, 228/229)', async (t) => {
  for (const link of [LINK.RAW, LINK.RAW_12, LINK.RAW_14, LINK.IPV4]) expectV4Tcp(t, link, v4tcp);
  const { r, p } = decode(LINK.IPV6, v6udp);
  t.equal(r, SKIP.ok);
  t.equal(p.ipVersion, 6);
  t.same([p.s0, p.s3, p.d3], [0x20010db8, 1, 2]);
  t.same([p.sport, p.dport, p.payloadLen, p.ipBytes], [5353, 53, 5, 40 + 8 + 5]);
});

t.test('BSD loopback (null, both byte orders; IPv6 families) and OpenBSD loop', async (t) => {
  const le = Buffer.alloc(4);
  le.writeUInt32LE(2);
  expectV4Tcp(t, LINK.NULL, Buffer.concat([le, v4tcp]));
  const be = Buffer.alloc(4);
  be.writeUInt32BE(2);
  expectV4Tcp(t, LINK.NULL, Buffer.concat([be, v4tcp]));
  expectV4Tcp(t, LINK.LOOP, Buffer.concat([be, v4tcp]));
  for (const af of [24, 28, 30]) {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(af);
    t.equal(decode(LINK.NULL, Buffer.concat([h, v6udp])).p.ipVersion, 6, `family ${af} is IPv6`);
  }
});

t.test('PPP (with and without HDLC framing, compressed protocol), PPP over Ethernet, Cisco HDLC, PPI', async (t) => {
  expectV4Tcp(t, LINK.PPP, Buffer.concat([Buffer.from([0xff, 0x03, 0x00, 0x21]), v4tcp]));
  expectV4Tcp(t, LINK.PPP, Buffer.concat([Buffer.from([0x00, 0x21]), v4tcp]));
  expectV4Tcp(t, LINK.PPP_HDLC, Buffer.concat([Buffer.from([0x21]), v4tcp]));
  const pppoe = Buffer.from([0x11, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0x21]);
  pppoe.writeUInt16BE(v4tcp.length + 2, 4);
  expectV4Tcp(t, LINK.ETHERNET, eth(Buffer.concat([pppoe, v4tcp]), { type: 0x8864 }));
  expectV4Tcp(t, LINK.C_HDLC, Buffer.concat([Buffer.from([0x0f, 0x00, 0x08, 0x00]), v4tcp]));
  expectV4Tcp(t, LINK.PPP, Buffer.concat([Buffer.from([0x8f, 0x00, 0x08, 0x00]), v4tcp])); // Cisco HDLC labelled PPP
  const ppi = Buffer.alloc(8);
  ppi.writeUInt16LE(8, 2);
  ppi.writeUInt32LE(1, 4); // inner: Ethernet
  expectV4Tcp(t, LINK.PPI, Buffer.concat([ppi, eth(v4tcp)]));
  t.equal(decode(LINK.PPP, Buffer.from([0xc0, 0x21, 1, 2, 3])).r, SKIP['not-ip'], 'LCP is not IP');
});

t.test('802.1Q and QinQ tags, MPLS labels, MPLS pseudowire', async (t) => {
  const one = decode(LINK.ETHERNET, eth(v4tcp, { vlans: [42] }));
  t.equal(one.r, SKIP.ok);
  t.same([one.p.vlan, one.p.vlanInner], [42, 0]);
  const two = decode(LINK.ETHERNET, eth(v4tcp, { vlans: [100, 200] }));
  t.same([two.p.vlan, two.p.vlanInner, two.p.sport], [100, 200, 40000]);
  const labels = Buffer.from([0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40]); // two labels, bottom of stack on the second
  expectV4Tcp(t, LINK.ETHERNET, eth(Buffer.concat([labels, v4tcp]), { type: 0x8847 }));
  const pw = Buffer.concat([Buffer.from([0x00, 0x03, 0x01, 0x40]), Buffer.alloc(4), eth(v4tcp)]);
  expectV4Tcp(t, LINK.ETHERNET, eth(pw, { type: 0x8847 }));
});

t.test('IPv6 extension headers are walked to the transport header', async (t) => {
  const pkt = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nh: 6, ext: [[0, Buffer.alloc(6)], [60, Buffer.alloc(14)], [43, Buffer.alloc(6)]] },
    tcp({ sport: 1234, dport: 80, flags: F.PSH | F.ACK }, Buffer.from('GET /')));
  const { r, p } = decode(LINK.RAW, pkt);
  t.equal(r, SKIP.ok);
  t.same([p.proto, p.sport, p.dport, p.payloadLen], [6, 1234, 80, 5]);
  t.equal(p.ipBytes, pkt.length);
  const first = decode(LINK.RAW, ipv6({ src: '::1', dst: '::2', nh: 17, ext: [[44, frag6(0, true, 99)]] }, udp(1, 2, Buffer.alloc(100))));
  t.same([first.p.frag, first.p.fragId, first.p.sport], [FRAG_FIRST, 99, 1]);
  const later = decode(LINK.RAW, ipv6({ src: '::1', dst: '::2', nh: 17, ext: [[44, frag6(104, false, 99)]] }, Buffer.alloc(50)));
  t.same([later.r, later.p.frag, later.p.fragId, later.p.sport, later.p.proto], [SKIP.ok, FRAG_LATER, 99, 0, 17]);
});

t.test('IPv4 fragments: first carries ports, later ones do not', async (t) => {
  const first = decode(LINK.RAW, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, id: 7, mf: true }, udp(53, 9999, Buffer.alloc(64))));
  t.same([first.p.frag, first.p.fragId, first.p.sport, first.p.dport], [FRAG_FIRST, 7, 53, 9999]);
  const later = decode(LINK.RAW, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, id: 7, fragOffset: 72 }, Buffer.alloc(64)));
  t.same([later.p.frag, later.p.sport, later.p.payloadLen], [FRAG_LATER, 0, 64]);
  const whole = decode(LINK.RAW, v4tcp);
  t.equal(whole.p.frag, FRAG_NONE);
});

t.test('ICMP, ICMPv6 and protocols without ports are flows on addresses', async (t) => {
  const echo = decode(LINK.RAW, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 1 }, icmp(8, 0, Buffer.alloc(60))));
  t.same([echo.r, echo.p.proto, echo.p.sport, echo.p.dport, echo.p.payloadLen], [SKIP.ok, 1, 0, 0, 56]);
  const ns = decode(LINK.RAW, ipv6({ src: 'fe80::1', dst: 'ff02::1', nh: 58 }, icmp(135, 0, Buffer.alloc(20))));
  t.same([ns.r, ns.p.proto, ns.p.sport], [SKIP.ok, 58, 0]);
  const gre = decode(LINK.RAW, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 47 }, Buffer.alloc(30)));
  t.same([gre.r, gre.p.proto, gre.p.sport, gre.p.payloadLen], [SKIP.ok, 47, 0, 30]);
});

t.test('GTP-U is decapsulated behind the switch', async (t) => {
  const inner = ipv4({ src: '100.64.0.9', dst: '8.8.8.8', proto: 17 }, udp(3333, 53, Buffer.from('dns')));
  const gtpHdr = Buffer.from([0x30, 0xff, 0, 0, 0, 0, 0, 1]);
  gtpHdr.writeUInt16BE(inner.length, 2);
  const outer = eth(ipv4({ src: '10.1.1.1', dst: '10.2.2.2', proto: 17 }, udp(2152, 2152, Buffer.concat([gtpHdr, inner]))));
  const on = decode(LINK.ETHERNET, outer, true);
  t.same([on.r, on.p.s0, on.p.sport, on.p.dport, on.p.tunnels, on.p.ipBytes], [SKIP.ok, 0x64400009, 3333, 53, 1, inner.length]);
  const off = decode(LINK.ETHERNET, outer, false);
  t.same([off.p.s0, off.p.sport, off.p.tunnels], [0x0a010101, 2152, 0]);
  // With the sequence-number flag and one extension header (PDU session container).
  const ext = Buffer.from([0x34, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0x10, 0x01, 0x00]);
  const withExt = decode(LINK.ETHERNET, eth(ipv4({ src: '10.1.1.1', dst: '10.2.2.2', proto: 17 }, udp(2152, 2152, Buffer.concat([ext, inner])))));
  t.same([withExt.r, withExt.p.dport, withExt.p.tunnels], [SKIP.ok, 53, 1]);
  // GTP signalling (not a G-PDU) stays an ordinary UDP flow.
  const echoReq = decode(LINK.ETHERNET, eth(ipv4({ src: '10.1.1.1', dst: '10.2.2.2', proto: 17 }, udp(2152, 2152, Buffer.from([0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0])))));
  t.same([echoReq.p.sport, echoReq.p.tunnels], [2152, 0]);
});

t.test('IP-in-IP and 6in4 tunnels give the inner flow', async (t) => {
  const fourInFour = decode(LINK.RAW, ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 4 }, v4tcp));
  t.same([fourInFour.r, fourInFour.p.s0, fourInFour.p.sport, fourInFour.p.tunnels], [SKIP.ok, 0x0a000001, 40000, 1]);
  const sixInFour = decode(LINK.RAW, ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 41 }, v6udp));
  t.same([sixInFour.p.ipVersion, sixInFour.p.dport, sixInFour.p.tunnels], [6, 53, 1]);
  let nested: Buffer = v4tcp;
  for (let i = 0; i < 6; i++) nested = ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 4 }, nested);
  t.equal(decode(LINK.RAW, nested).r, SKIP['tunnel-too-deep'], 'a tunnel bomb is cut off');
});

t.test('snapped packets count by the IP header, not the captured length', async (t) => {
  const big = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6 }, tcp({ sport: 1, dport: 2 }, Buffer.alloc(1400)));
  const snapped = eth(big).subarray(0, 14 + 20 + 20 + 10);
  const { r, p } = decode(LINK.ETHERNET, snapped);
  t.same([r, p.ipBytes, p.payloadLen, p.capPayload], [SKIP.ok, 1440, 1400, 10]);
});

t.test('unknown link types and garbage are reasons, never exceptions', async (t) => {
  t.equal(decode(147, v4tcp).r, SKIP['unknown-link-type']);
  t.equal(decode(LINK.ETHERNET, Buffer.alloc(10)).r, SKIP.truncated);
  t.equal(decode(LINK.ETHERNET, eth(Buffer.alloc(0), { type: 0x0806 })).r, SKIP['not-ip'], 'ARP');
  t.equal(decode(LINK.RAW, Buffer.from([0x45, 0, 0, 10])).r, SKIP.truncated);
  const badIhl = Buffer.from(v4tcp);
  badIhl[0] = 0x43;
  t.equal(decode(LINK.RAW, badIhl).r, SKIP['bad-ip-header']);
  const badTcp = Buffer.from(v4tcp);
  badTcp[20 + 12] = 0x20; // data offset 8 bytes
  t.equal(decode(LINK.RAW, badTcp).r, SKIP['bad-l4-header']);
  // Every prefix of every frame decodes without throwing.
  const frames = [eth(v4tcp, { vlans: [1, 2] }), eth(v6udp), v4tcp];
  for (const f of frames) for (let n = 0; n <= f.length; n++) decode(LINK.ETHERNET, f.subarray(0, n));
  let seed = 7;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 20000; i++) {
    const f = Buffer.from(frames[i % 3]!);
    for (let k = 0; k < 3; k++) f[Math.floor(rnd() * f.length)] = Math.floor(rnd() * 256);
    for (const link of [LINK.ETHERNET, LINK.RAW, LINK.NULL, LINK.PPP, LINK.LINUX_SLL2, LINK.PPI]) decode(link, f);
  }
  t.pass('no exception on 120,000 mutated frames');
});
