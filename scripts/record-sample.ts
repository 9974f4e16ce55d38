/**
 * Records samples/lo-sessions.pcap: real sessions on the loopback interface
 * (TLS 1.3 and 1.2 with SNI and ALPN, plain HTTP, a VoIP-like UDP stream, DNS-like
 * queries), captured with the agent's own live source. The README's main job
 * replays it, so a fresh clone has traffic to classify without the shared data.
 * Needs root (capture) and openssl (a throwaway certificate). Run: npm run record-sample
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, get as httpGet } from 'node:http';
import { createServer as createHttps, get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveSource } from '../agent/capture/live-source.js';
import { pcapBytes, type RawPacket } from '../agent/capture/pcap-writer.js';

const out = new URL('../../samples/lo-sessions.pcap', import.meta.url).pathname;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function certificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'eta-sample-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=sample.eta-sensor.test', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const r = { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) };
  rmSync(dir, { recursive: true });
  return r;
}

function fetch(getter: typeof httpGet, opts: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    getter(opts, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => resolve(n));
    }).on('error', reject);
  });
}

async function main(): Promise<void> {
  const { key, cert } = certificate();
  const body = (size: number): Buffer => Buffer.alloc(size, 0x61);
  const handler = (req: { url?: string }, res: { end(b: Buffer): void; setHeader(k: string, v: string): void }): void => {
    const size = Number(/size=(\d+)/.exec(req.url ?? '')?.[1] ?? 512);
    res.setHeader('content-type', 'application/octet-stream');
    res.end(body(size));
  };
  const https = createHttps({ key, cert }, handler).listen(0, '127.0.0.1');
  const http = createHttp(handler).listen(0, '127.0.0.1');
  await Promise.all([once(https, 'listening'), once(http, 'listening')]);
  const httpsPort = (https.address() as { port: number }).port;
  const httpPort = (http.address() as { port: number }).port;
  const echo = createSocket('udp4');
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  echo.bind(0, '127.0.0.1');
  await once(echo, 'listening');
  const udpPort = echo.address().port;

  const packets: RawPacket[] = [];
  const src = new LiveSource({
    interfaces: ['lo'], filter: `tcp port ${httpsPort} or tcp port ${httpPort} or udp port ${udpPort}`,
    snaplen: 65535, promiscuous: false, bufferSize: 16 << 20,
  });
  const done = src.run((f) => packets.push({ ts: f.ts, data: Buffer.from(f.buf.subarray(f.offset, f.offset + f.capLength)) }));
  await sleep(100);

  const tls = { host: '127.0.0.1', port: httpsPort, rejectUnauthorized: false, agent: false };
  // A "streaming" download over TLS 1.3 with h2 offered, and a few small API calls over TLS 1.2.
  await fetch(httpsGet, { ...tls, servername: 'video.sample.eta-sensor.test', path: '/seg?size=400000', ALPNProtocols: ['h2', 'http/1.1'] });
  for (let i = 0; i < 3; i++) {
    await fetch(httpsGet, { ...tls, servername: 'api.sample.eta-sensor.test', path: '/msg?size=300', maxVersion: 'TLSv1.2', ALPNProtocols: ['http/1.1'] });
    await sleep(150);
  }
  await fetch(httpGet, { host: '127.0.0.1', port: httpPort, path: '/page?size=20000', agent: false });
  // VoIP-like: 20 ms packets of 172 bytes, both ways, for one second.
  const rtp = createSocket('udp4');
  for (let i = 0; i < 50; i++) {
    rtp.send(Buffer.alloc(172, i), udpPort, '127.0.0.1');
    await sleep(20);
  }
  rtp.close();
  // DNS-like: short query, longer answer.
  const dns = createSocket('udp4');
  dns.send(Buffer.alloc(40, 1), udpPort, '127.0.0.1');
  await once(dns, 'message');
  dns.close();
  await sleep(300);
  src.stop();
  await done;
  https.close();
  http.close();
  echo.close();
  mkdirSync(new URL('../../samples/', import.meta.url), { recursive: true });
  writeFileSync(out, pcapBytes(packets, { linkType: 1 }));
  console.log(`${packets.length} packets written to ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
