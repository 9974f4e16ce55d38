/** A capture of many short, distinct UDP flows: each a request and a reply, spread over time so idle expiry ends them as the replay goes. */
import { writeFileSync } from 'node:fs';
import { pcapHeader, pcapRecord } from '../../agent/capture/pcap-writer.js';
import { eth, ipv4, udp } from './packets.js';

export function manyFlows(path: string, flows: number): void {
  const parts: Buffer[] = [pcapHeader()];
  const t0 = 1.7e15;
  for (let i = 0; i < flows; i++) {
    const client = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const ts = t0 + i * 2000; // 500 new flows per second of capture time
    parts.push(pcapRecord({ ts, data: eth(ipv4({ src: client, dst: '192.0.2.53', proto: 17 }, udp(10000 + (i % 50000), 53, Buffer.alloc(40)))) }));
    parts.push(pcapRecord({ ts: ts + 500, data: eth(ipv4({ src: '192.0.2.53', dst: client, proto: 17 }, udp(53, 10000 + (i % 50000), Buffer.alloc(120)))) }));
  }
  writeFileSync(path, Buffer.concat(parts));
}

/** A published record's flow identity (5-tuple). */
export function flowId(rec: { flow: { src_ip: string; src_port: number; dst_ip: string; dst_port: number; proto: number } }): string {
  const f = rec.flow;
  return `${f.proto}/${f.src_ip}:${f.src_port}>${f.dst_ip}:${f.dst_port}`;
}
