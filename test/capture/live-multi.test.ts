/**
 * Live capture on two interfaces at once feeding one flow table: loopback and
 * one end of a veth pair whose other end lives in a network namespace this
 * test creates, with real UDP traffic on both.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { LiveSource } from '../../agent/capture/live-source.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { DEFAULT_METER } from '../../agent/flows/extract-file.js';
import { FlowMeter } from '../../agent/flows/meter.js';
import { feat } from '../helpers/harness.js';

const ok = process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0;

t.test('lo and a veth interface in one capture', { skip: ok ? false : 'needs root and iproute2' }, async (t) => {
  const id = randomBytes(2).toString('hex');
  const [a, b, ns] = [`eta${id}a`, `eta${id}b`, `eta-ns-${id}`];
  const net = `10.${77 + (parseInt(id, 16) % 100)}.${parseInt(id.slice(0, 2), 16)}`;
  const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore' });
  ip('netns', 'add', ns);
  t.teardown(() => { spawnSync('ip', ['link', 'del', a]); spawnSync('ip', ['netns', 'del', ns]); });
  ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  ip('link', 'set', b, 'netns', ns);
  ip('addr', 'add', `${net}.1/24`, 'dev', a);
  ip('link', 'set', a, 'up');
  ip('-n', ns, 'addr', 'add', `${net}.2/24`, 'dev', b);
  ip('-n', ns, 'link', 'set', b, 'up');
  ip('-n', ns, 'link', 'set', 'lo', 'up');

  const flows: FlowRecord[] = [];
  const meter = new FlowMeter({ ...DEFAULT_METER }, (r) => flows.push(r));
  const ifaces = new Set<number>();
  const source = new LiveSource({ interfaces: ['lo', a], filter: 'udp port 7777 or udp port 7778', snaplen: 512, promiscuous: true, bufferSize: 2 << 20 });
  const running = source.run((f) => { ifaces.add(f.iface); meter.frame(f); });

  const local = createSocket('udp4');
  for (let i = 0; i < 3; i++) await new Promise((r) => local.send(Buffer.alloc(30), 7777, '127.0.0.1', r));
  local.close();
  // From inside the namespace, over the veth pair, to this side's address.
  execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e',
    `const s=require('dgram').createSocket('udp4');let n=0;const go=()=>s.send(Buffer.alloc(50),7778,'${net}.1',()=>{if(++n<4)go();else s.close();});go();`]);
  await new Promise((r) => setTimeout(r, 500));
  source.stop();
  await running;
  meter.flush();

  t.same([...ifaces].sort(), [0, 1], 'frames from both interfaces');
  const onLo = flows.find((f) => f.dstPort === 7777);
  const onVeth = flows.find((f) => f.dstPort === 7778);
  t.equal(onLo && feat(onLo, 'src2dst_packets'), 3);
  t.equal(onVeth?.srcIp, `${net}.2`);
  t.equal(onVeth && feat(onVeth, 'src2dst_packets'), 4);
  const st = source.stats();
  t.equal(st.kernelDrops, 0);
  t.equal(st.frames, 7);
});
