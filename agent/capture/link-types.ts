/**
 * Link-layer header types we decode, by LINKTYPE_* value
 * (https://www.tcpdump.org/linktypes.html). Anything else is counted as
 * `unknown-link-type` and skipped.
 */
export const LINK = {
  NULL: 0, // BSD loopback: 4-byte address family in host byte order
  ETHERNET: 1,
  PPP: 9,
  RAW: 101, // raw IPv4 or IPv6, version from the first nibble
  RAW_12: 12, // raw IP on some BSDs (DLT_RAW = 12 / 14)
  RAW_14: 14,
  PPP_HDLC: 50,
  PPP_ETHER: 51, // PPPoE session without Ethernet header
  C_HDLC: 104, // Cisco HDLC
  LOOP: 108, // OpenBSD loopback: address family in network byte order
  LINUX_SLL: 113,
  PPI: 192, // per-packet information header, then the inner DLT
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const LINK_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(LINK).map(([k, v]) => [v, k.toLowerCase()]),
);

const DECODED = new Set<number>(Object.values(LINK));

/**
 * What a summary says when frames were skipped for their link type: which of the input's are not
 * decoded, and which are (found by review: a capture of link type 999 gave "0 flows" and exit 0,
 * naming neither).
 */
export function undecodedLinkTypes(declared: readonly number[]): string {
  const not = [...new Set(declared)].filter((l) => !DECODED.has(l));
  const known = Object.entries(LINK).map(([k, v]) => `${k.toLowerCase()} (${v})`).join(', ');
  return `${not.length ? `link type ${not.join(', ')} is not decoded` : 'a link type inside PPI is not decoded'}; decoded: ${known}`;
}

/** libpcap's DLT_ value of a live capture, as the LINKTYPE value we decode (the same numbers for these), or undefined. */
export function linkTypeFromDlt(dlt: number): number | undefined {
  return DECODED.has(dlt) ? dlt : undefined;
}
