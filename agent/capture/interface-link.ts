/**
 * The link type libpcap will give a live capture on a Linux interface, found without opening
 * one: check-config compiles the capture filter for it, since a filter can be valid on one
 * link type and not on another ("ether host" or "vlan" on the `any` device or a tunnel).
 *
 * libpcap (pcap-linux.c) picks the link type from the interface's ARPHRD_ type, which the
 * kernel shows in /sys/class/net/<name>/type. Only the types whose mapping is plain are
 * listed; for the rest the caller falls back to Ethernet and says so.
 */
import { readFileSync } from 'node:fs';
import { LINK } from './link-types.js';

/** DLT_RAW as libpcap numbers it on Linux (the LINKTYPE_RAW of files is 101). */
const DLT_RAW = 12;

/** ARPHRD_ type → the DLT libpcap chooses by default. */
const BY_ARPHRD: ReadonlyMap<number, { dlt: number; name: string }> = new Map([
  [1, { dlt: LINK.ETHERNET, name: 'Ethernet' }], // ARPHRD_ETHER (also bridges, bonds, veth, VLAN devices)
  [772, { dlt: LINK.ETHERNET, name: 'Ethernet' }], // ARPHRD_LOOPBACK: libpcap gives lo a fake Ethernet header
  [512, { dlt: LINK.LINUX_SLL, name: 'Linux cooked v1' }], // ARPHRD_PPP: captured in cooked mode
  [65534, { dlt: DLT_RAW, name: 'raw IP' }], // ARPHRD_NONE: tun devices, WireGuard
  [768, { dlt: DLT_RAW, name: 'raw IP' }], // ARPHRD_TUNNEL (ipip)
  [776, { dlt: DLT_RAW, name: 'raw IP' }], // ARPHRD_SIT
]);

export interface InterfaceLink {
  dlt: number;
  /** As people say it, for messages. */
  name: string;
  /** false: the interface is absent or of a type not listed, and Ethernet is assumed. */
  known: boolean;
}

/** The link type a capture on `iface` would have (the `any` device: Linux cooked v1). */
export function interfaceLink(iface: string, sysNet = '/sys/class/net'): InterfaceLink {
  if (iface === 'any') return { dlt: LINK.LINUX_SLL, name: 'Linux cooked v1', known: true };
  let type: number;
  try {
    // A name with a slash would leave the directory; it is no interface name either.
    type = iface.includes('/') ? NaN : Number(readFileSync(`${sysNet}/${iface}/type`, 'latin1').trim());
  } catch {
    type = NaN;
  }
  const hit = BY_ARPHRD.get(type);
  return hit ? { ...hit, known: true } : { dlt: LINK.ETHERNET, name: 'Ethernet', known: false };
}
