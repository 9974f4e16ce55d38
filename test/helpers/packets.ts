/** Builders for the packets tests feed the decoder and the flow table. */

export function ip4(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

export function ip6(a: string): Buffer {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':').filter(Boolean) : [];
  const t = tail ? tail.split(':').filter(Boolean) : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

export interface TcpOpts { sport: number; dport: number; seq?: number; ack?: number; flags?: number; win?: number }
export const F = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export function tcp(o: TcpOpts, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE((o.seq ?? 1000) >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = o.flags ?? F.ACK;
  h.writeUInt16BE(o.win ?? 65535, 14);
  return Buffer.concat([h, payload]);
}

export function udp(sport: number, dport: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function icmp(type: number, code: number, body: Buffer = Buffer.alloc(4)): Buffer {
  return Buffer.concat([Buffer.from([type, code, 0, 0]), body]);
}

export interface Ip4Opts { src: string; dst: string; proto: number; id?: number; mf?: boolean; fragOffset?: number; totalLength?: number }

export function ipv4(o: Ip4Opts, l4: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(o.totalLength ?? 20 + l4.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE((o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) >> 3), 6);
  h[8] = 64;
  h[9] = o.proto;
  ip4(o.src).copy(h, 12);
  ip4(o.dst).copy(h, 16);
  return Buffer.concat([h, l4]);
}

/** IPv6 with optional extension headers: each [type, bytes] where bytes exclude the next-header/length pair. */
export function ipv6(o: { src: string; dst: string; nh: number; ext?: Array<[number, Buffer]> }, l4: Buffer): Buffer {
  const exts: Buffer[] = [];
  const chain = [...(o.ext ?? [])];
  let first = chain.length ? chain[0]![0] : o.nh;
  for (let i = 0; i < chain.length; i++) {
    const [type, body] = chain[i]!;
    const next = i + 1 < chain.length ? chain[i + 1]![0] : o.nh;
    if (type === 44) {
      exts.push(Buffer.concat([Buffer.from([next, 0]), body]));
    } else {
      const len = Math.ceil((body.length + 2) / 8) * 8;
      const b = Buffer.alloc(len);
      b[0] = next;
      b[1] = len / 8 - 1;
      body.copy(b, 2);
      exts.push(b);
    }
  }
  const payload = Buffer.concat([...exts, l4]);
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(payload.length, 4);
  h[6] = first;
  h[7] = 64;
  ip6(o.src).copy(h, 8);
  ip6(o.dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

/** IPv6 fragment extension body (6 bytes after next-header/reserved): offset in bytes, more flag, id. */
export function frag6(offset: number, more: boolean, id: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE((offset & ~7) | (more ? 1 : 0), 0);
  b.writeUInt32BE(id, 2);
  return b;
}

export function eth(ip: Buffer, opts: { vlans?: number[]; type?: number } = {}): Buffer {
  const type = opts.type ?? (ip[0]! >> 4 === 6 ? 0x86dd : 0x0800);
  const vlans = opts.vlans ?? [];
  // Each tag is (TPID, TCI); with two tags the outer one is a service tag (802.1ad).
  const out: Buffer[] = [Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])];
  for (let i = 0; i < vlans.length; i++) {
    const tpid = Buffer.alloc(2);
    tpid.writeUInt16BE(i === 0 && vlans.length > 1 ? 0x88a8 : 0x8100, 0);
    const tci = Buffer.alloc(2);
    tci.writeUInt16BE(vlans[i]! & 0xfff, 0);
    out.push(tpid, tci);
  }
  const t = Buffer.alloc(2);
  t.writeUInt16BE(type, 0);
  out.push(t, ip);
  return Buffer.concat(out);
}
