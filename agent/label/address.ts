/**
 * Addresses and protocols as label files write them, reduced to one text per
 * value so that a flow of `extract` (RFC 5952 addresses, IANA numbers) meets
 * its line in a labels file (any IPv6 spelling, protocol names).
 *
 * nDPI prints IPv6 with "::" even for a single zero group, and sometimes twice
 * ("2600:1901::7a0b::"). Two "::" are ambiguous (which run holds how many
 * zero groups?), so such a text yields every address it can stand for; the
 * index files the label under each of them.
 */

/** Every full IPv6 address (8 groups, lower-case hex, no leading zeros) the text can stand for; [] if none. */
function ipv6Expansions(text: string): string[] {
  let s = text.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // A dotted IPv4 tail ("::ffff:192.0.2.1") is two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const v4 = canonicalIpv4(dotted[2] as string);
    if (v4 === null) return [];
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    s = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const pieces = s.split('::');
  const runs = pieces.length - 1;
  const groups = pieces.map((p) => (p === '' ? [] : p.split(':')));
  if (groups.some((g) => g.some((x) => !/^[0-9a-f]{1,4}$/.test(x)))) return [];
  const explicit = groups.reduce((n, g) => n + g.length, 0);
  const zeros = 8 - explicit;
  if (runs === 0) return zeros === 0 ? [groups[0]!.map(hex).join(':')] : [];
  if (zeros < runs) return [];
  const out: string[] = [];
  // Distribute the missing zero groups over the runs, each run at least one group.
  const place = (i: number, left: number, acc: string[]): void => {
    if (i === runs) {
      out.push([...acc, ...groups[runs]!.map(hex)].join(':'));
      return;
    }
    const from = i === runs - 1 ? left : 1;
    for (let k = from; k <= left - (runs - 1 - i); k++) {
      place(i + 1, left - k, [...acc, ...groups[i]!.map(hex), ...Array<string>(k).fill('0')]);
    }
  };
  place(0, zeros, []);
  return out;
}

function hex(g: string): string {
  return parseInt(g, 16).toString(16);
}

function canonicalIpv4(s: string): string | null {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.map(Number).join('.');
}

/**
 * The canonical texts an address can stand for: one for any well-formed
 * address, several for an ambiguous nDPI text, none for something that is not
 * an address.
 */
export function addressKeys(text: string): string[] {
  const t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) return addressKeys(t.slice(1, -1));
  if (t.includes(':')) return ipv6Expansions(t);
  const v4 = canonicalIpv4(t);
  return v4 === null ? [] : [v4];
}

/** The canonical text of a well-formed address (as `extract` writes them), or null. */
export function canonicalAddress(text: string): string | null {
  const keys = addressKeys(text);
  return keys.length === 1 ? (keys[0] as string) : null;
}

const PROTOCOLS: Readonly<Record<string, number>> = {
  ICMP: 1, IGMP: 2, IPIP: 4, TCP: 6, EGP: 8, UDP: 17, IPV6: 41, RSVP: 46, GRE: 47, ESP: 50, AH: 51,
  ICMPV6: 58, EIGRP: 88, OSPF: 89, PIM: 103, VRRP: 112, L2TP: 115, PGM: 113, SCTP: 132, UDPLITE: 136,
};

/** IANA protocol number from a number or a name (TCP, UDP, ICMP, ICMPv6, ...; case-insensitive); null if unknown. */
export function protocolNumber(text: string): number | null {
  const t = text.trim();
  if (/^\d{1,3}$/.test(t)) return Number(t) <= 255 ? Number(t) : null;
  return PROTOCOLS[t.toUpperCase().replace(/[-_ ]/g, '')] ?? null;
}
