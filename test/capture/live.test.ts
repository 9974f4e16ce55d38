/**
 * Live capture on the loopback interface with real traffic this test sends:
 * a TCP connection (handshake, data both ways, orderly close) and UDP
 * datagrams, through cap/libpcap, the decoder and the flow table.
 */
import t from 'tap';
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { LiveSource } from '../../agent/capture/live-source.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { DEFAULT_METER } from '../../agent/flows/extract-file.js';
import { FlowMeter } from '../../agent/flows/meter.js';
import { wallMicros } from '../../agent/lib/wall-clock.js';
import { feat } from '../helpers/harness.js';

const canCapture = process.getuid?.() === 0;

t.test('TCP and UDP on lo become flows', { skip: canCapture ? false : 'live capture needs root (CAP_NET_RAW)' }, async (t) => {
  const server = createServer((s) => {
    s.on('data', (d) => s.write(Buffer.concat([d, d])));
    s.on('end', () => s.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const tcpPort = (server.address() as { port: number }).port;
  const udpServer = createSocket('udp4');
  udpServer.on('message', (m, r) => udpServer.send(m, r.port, r.address));
  udpServer.bind(0, '127.0.0.1');
  await once(udpServer, 'listening');
  const udpPort = udpServer.address().port;

  const flows: FlowRecord[] = [];
  const meter = new FlowMeter({ ...DEFAULT_METER, tcpCloseGrace: 0.2 }, (r) => flows.push(r));
  const source = new LiveSource({
    interfaces: ['lo'], filter: `tcp port ${tcpPort} or udp port ${udpPort}`, snaplen: 2048, promiscuous: false, bufferSize: 4 << 20,
  });
  const running = source.run((f) => meter.frame(f));
  t.same(source.warnings, [], 'promiscuous mode turned off');

  const client = connect(tcpPort, '127.0.0.1');
  await once(client, 'connect');
  for (let i = 0; i < 5; i++) {
    client.write(Buffer.alloc(100 + i, 65));
    await once(client, 'data');
  }
  client.end();
  await once(client, 'close');
  const udp = createSocket('udp4');
  for (let i = 0; i < 4; i++) {
    udp.send(Buffer.alloc(50), udpPort, '127.0.0.1');
    await once(udp, 'message');
  }
  udp.close();
  await new Promise((r) => setTimeout(r, 400));
  meter.tick(wallMicros()); // what the agent's clock timer does
  const closedByTick = flows.filter((f) => f.proto === 6).map((f) => f.endReason);
  source.stop();
  await running;
  meter.flush();
  server.close();
  udpServer.close();

  t.same(closedByTick, ['end'], 'the TCP flow ended by FIN both ways, expired by the clock tick');
  const tcp = flows.find((f) => f.proto === 6)!;
  t.equal(tcp.dstPort, tcpPort);
  t.equal(tcp.srcIp, '127.0.0.1');
  t.equal(feat(tcp, 'src2dst_syn_packets'), 1);
  t.equal(feat(tcp, 'dst2src_syn_packets'), 1);
  t.equal(feat(tcp, 'src2dst_payload_bytes'), 100 + 101 + 102 + 103 + 104);
  t.equal(feat(tcp, 'dst2src_payload_bytes'), 2 * (100 + 101 + 102 + 103 + 104));
  t.equal(feat(tcp, 'src2dst_fin_packets'), 1);
  t.equal(feat(tcp, 'dst2src_fin_packets'), 1);
  t.ok(feat(tcp, 'bidirectional_duration_ms') > 0, 'timestamps advance');
  const u = flows.find((f) => f.proto === 17)!;
  t.same([u.dstPort, feat(u, 'src2dst_packets'), feat(u, 'dst2src_packets'), feat(u, 'src2dst_payload_bytes')], [udpPort, 4, 4, 200]);
  const st = source.stats();
  t.equal(st.frames, meter.stats().packets, 'every captured frame reached a flow');
  t.equal(st.kernelDrops, 0, 'the kernel drop counter is read (and nothing was dropped)');
});

t.test('opening a missing interface names the fix', { skip: canCapture ? false : 'needs root' }, async (t) => {
  const s = new LiveSource({ interfaces: ['nosuchif0'], filter: '', snaplen: 256, promiscuous: false, bufferSize: 1 << 20 });
  t.throws(() => s.open(), { code: 'E_CAPTURE', message: /cannot capture on nosuchif0/ });
  // libpcap's status text and its error buffer may be the same words: said once.
  try {
    s.open();
  } catch (e) {
    const m = (e as Error).message;
    const words = m.slice('cannot capture on nosuchif0: '.length).split(': ');
    t.equal(new Set(words).size, words.length, `no part repeated: ${m}`);
  }
  const f = new LiveSource({ interfaces: ['lo'], filter: 'tcp port', snaplen: 256, promiscuous: false, bufferSize: 1 << 20 });
  // A filter libpcap refuses is the configuration as written: exit 2, as check-config says it.
  t.throws(() => f.open(), { code: 'E_CONFIG', hint: /capture\.filter/ });
});
