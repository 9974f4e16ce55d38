/*
 * The link layer of decode.c: Ethernet, Linux cooked v1/v2, raw IP, BSD loopback, PPP, Cisco
 * HDLC and PPI frames, through 802.1Q/QinQ tags, MPLS labels and PPPoE, to the IP header.
 * Bounds-checked against the captured end as decode.c is.
 */
#include "bytes.h"
#include "link.h"

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE_SESSION 0x8864

/* LINKTYPE_* values (agent/capture/link-types.ts). */
enum {
  LINK_NULL = 0, LINK_ETHERNET = 1, LINK_PPP = 9, LINK_RAW = 101, LINK_RAW_12 = 12, LINK_RAW_14 = 14,
  LINK_PPP_HDLC = 50, LINK_PPP_ETHER = 51, LINK_C_HDLC = 104, LINK_LOOP = 108, LINK_LINUX_SLL = 113,
  LINK_PPI = 192, LINK_IPV4 = 228, LINK_IPV6 = 229, LINK_LINUX_SLL2 = 276
};

static uint32_t by_version(const uint8_t *b, size_t off, size_t end) {
  if (off >= end) return 0;
  uint32_t v = b[off] >> 4;
  return v == 4 ? ETH_IPV4 : v == 6 ? ETH_IPV6 : 0;
}

/* Follows an ethertype through VLAN tags, MPLS labels and PPPoE until IPv4/IPv6. */
static link_result follow_ethertype(uint32_t type, const uint8_t *b, size_t off, size_t end, packet_t *p) {
  for (int guard = 0; guard < 16; guard++) {
    if (type == ETH_IPV4 || type == ETH_IPV6) return (link_result)off;
    if (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
      if (end < off + 4) return -SKIP_TRUNCATED;
      uint32_t id = u16(b, off) & 0xfff;
      if (p->vlan == 0) p->vlan = id;
      else if (p->vlan_inner == 0) p->vlan_inner = id;
      type = u16(b, off + 2);
      off += 4;
    } else if (type == ETH_MPLS || type == ETH_MPLS_MC) {
      /* Pop labels until the bottom-of-stack bit, then guess the payload from its first nibble. */
      for (;;) {
        if (end < off + 4) return -SKIP_TRUNCATED;
        int bottom = b[off + 2] & 1;
        off += 4;
        if (bottom) break;
      }
      type = by_version(b, off, end);
      if (type == 0 && off < end && (b[off] >> 4) == 0) {
        /* Pseudowire control word, then an Ethernet frame. */
        off += 4;
        if (end < off + 14) return -SKIP_TRUNCATED;
        type = u16(b, off + 12);
        off += 14;
      }
    } else if (type == ETH_PPPOE_SESSION) {
      if (end < off + 8) return -SKIP_TRUNCATED;
      uint32_t proto = u16(b, off + 6);
      off += 8;
      type = proto == 0x0021 ? ETH_IPV4 : proto == 0x0057 ? ETH_IPV6 : 0;
      if (type == 0) return -SKIP_NOT_IP;
    } else {
      return -SKIP_NOT_IP;
    }
  }
  return -SKIP_NOT_IP;
}

/* PPP protocol field (optionally after HDLC address/control, optionally compressed to one byte). */
static link_result ppp(const uint8_t *b, size_t off, size_t end, packet_t *p) {
  /* Routers label Cisco HDLC links as PPP too (tcpdump tells them apart the same way). */
  if (end >= off + 4 && (b[off] == 0x0f || b[off] == 0x8f) && b[off + 1] == 0x00) {
    return follow_ethertype(u16(b, off + 2), b, off + 4, end, p);
  }
  if (end >= off + 2 && b[off] == 0xff && b[off + 1] == 0x03) off += 2;
  if (end < off + 1) return -SKIP_TRUNCATED;
  uint32_t proto;
  if (b[off] & 1) {
    proto = b[off];
    off += 1;
  } else {
    if (end < off + 2) return -SKIP_TRUNCATED;
    proto = u16(b, off);
    off += 2;
  }
  if (proto == 0x21) return follow_ethertype(ETH_IPV4, b, off, end, p);
  if (proto == 0x57) return follow_ethertype(ETH_IPV6, b, off, end, p);
  return -SKIP_NOT_IP;
}

/* BSD loopback address families for IPv6 differ by OS (24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin). */
static link_result family(uint32_t af, const uint8_t *b, size_t off, size_t end, packet_t *p) {
  if (af == 2) return follow_ethertype(ETH_IPV4, b, off, end, p);
  if (af == 24 || af == 28 || af == 30 || af == 10) return follow_ethertype(ETH_IPV6, b, off, end, p);
  return -SKIP_NOT_IP;
}

static link_result decode_link(uint32_t link, const uint8_t *b, size_t off, size_t end, packet_t *p, int depth) {
  switch (link) {
    case LINK_ETHERNET:
      if (end < off + 14) return -SKIP_TRUNCATED;
      return follow_ethertype(u16(b, off + 12), b, off + 14, end, p);
    case LINK_RAW: case LINK_RAW_12: case LINK_RAW_14: case LINK_IPV4: case LINK_IPV6: {
      uint32_t t = by_version(b, off, end);
      if (t == 0) return off >= end ? -SKIP_TRUNCATED : -SKIP_NOT_IP;
      return follow_ethertype(t, b, off, end, p);
    }
    case LINK_LINUX_SLL:
      if (end < off + 16) return -SKIP_TRUNCATED;
      return follow_ethertype(u16(b, off + 14), b, off + 16, end, p);
    case LINK_LINUX_SLL2:
      if (end < off + 20) return -SKIP_TRUNCATED;
      return follow_ethertype(u16(b, off), b, off + 20, end, p);
    case LINK_NULL: {
      if (end < off + 4) return -SKIP_TRUNCATED;
      /* Host byte order of the capturing machine: a family fits in 16 bits, so the order shows. */
      uint32_t af = u32le(b, off);
      if (af > 0xffff) af = u32(b, off);
      return family(af, b, off + 4, end, p);
    }
    case LINK_LOOP:
      if (end < off + 4) return -SKIP_TRUNCATED;
      return family(u32(b, off), b, off + 4, end, p);
    case LINK_PPP: case LINK_PPP_HDLC:
      return ppp(b, off, end, p);
    case LINK_PPP_ETHER:
      if (end < off + 6) return -SKIP_TRUNCATED;
      return ppp(b, off + 6, end, p);
    case LINK_C_HDLC:
      if (end < off + 4) return -SKIP_TRUNCATED;
      return follow_ethertype(u16(b, off + 2), b, off + 4, end, p);
    case LINK_PPI: {
      /* Per-packet information header (little-endian): its length, then the frame in the inner link type. */
      if (end < off + 8 || depth > 0) return -SKIP_TRUNCATED;
      size_t len = u16le(b, off + 2);
      uint32_t inner = u32le(b, off + 4);
      if (len < 8 || off + len > end) return -SKIP_TRUNCATED;
      return decode_link(inner, b, off + len, end, p, depth + 1);
    }
    default:
      return -SKIP_UNKNOWN_LINK;
  }
}

link_result link_decode(uint32_t link_type, const uint8_t *b, size_t off, size_t end, packet_t *p) {
  return decode_link(link_type, b, off, end, p, 0);
}
