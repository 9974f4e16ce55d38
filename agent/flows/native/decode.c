/*
 * Frame -> packet_t: link layer (Ethernet, Linux cooked v1/v2, raw IP, BSD
 * loopback, PPP, Cisco HDLC, PPI), 802.1Q/QinQ, MPLS, PPPoE, IPv4 (with
 * fragments), IPv6 (walking the extension headers), TCP, UDP, UDP-Lite, SCTP,
 * ICMP/ICMPv6, and tunnels carrying whole IP packets (IP-in-IP, 6in4, GTP-U).
 *
 * Why C: this runs for every packet, and in JavaScript the per-packet path
 * (this, the flow lookup and the accumulators) was half of extract's time.
 * Every read is bounds-checked against the captured end; nothing here can
 * fail on any byte sequence other than by returning a skip code.
 */
#include "packet.h"

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE_SESSION 0x8864
#define MAX_TUNNELS 4
#define GTPU_PORT 2152

/* LINKTYPE_* values (agent/capture/link-types.ts). */
enum {
  LINK_NULL = 0, LINK_ETHERNET = 1, LINK_PPP = 9, LINK_RAW = 101, LINK_RAW_12 = 12, LINK_RAW_14 = 14,
  LINK_PPP_HDLC = 50, LINK_PPP_ETHER = 51, LINK_C_HDLC = 104, LINK_LOOP = 108, LINK_LINUX_SLL = 113,
  LINK_PPI = 192, LINK_IPV4 = 228, LINK_IPV6 = 229, LINK_LINUX_SLL2 = 276
};

static inline uint32_t u16(const uint8_t *b, size_t o) { return ((uint32_t)b[o] << 8) | b[o + 1]; }
static inline uint32_t u32(const uint8_t *b, size_t o) {
  return ((uint32_t)b[o] << 24) | ((uint32_t)b[o + 1] << 16) | ((uint32_t)b[o + 2] << 8) | b[o + 3];
}
static inline uint32_t u16le(const uint8_t *b, size_t o) { return b[o] | ((uint32_t)b[o + 1] << 8); }
static inline uint32_t u32le(const uint8_t *b, size_t o) {
  return b[o] | ((uint32_t)b[o + 1] << 8) | ((uint32_t)b[o + 2] << 16) | ((uint32_t)b[o + 3] << 24);
}

/* A link result: the IP header offset (>= 0), or a negated skip code. */
typedef int64_t link_result;

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

static void set_payload(packet_t *p, int64_t off, int64_t len, int64_t cap_end) {
  p->payload_off = off;
  p->payload_len = len;
  int64_t e = off + len < cap_end ? off + len : cap_end;
  p->cap_payload = e > off ? e - off : 0;
}

/* GTP-U G-PDU (3GPP TS 29.281): the offset of the inner IP packet, or 0 (then it stays a UDP flow). */
static int64_t gtpu(const uint8_t *b, int64_t off, int64_t end) {
  if (end - off < 8) return 0;
  uint32_t flags = b[off];
  if ((flags >> 5) != 1 || (flags & 0x10) == 0 || b[off + 1] != 0xff) return 0;
  int64_t cur = off + 8;
  if (flags & 0x07) {
    if (end - cur < 4) return 0;
    uint32_t next = b[cur + 3];
    cur += 4;
    /* Extension headers: a length in 4-byte units, content, then the next type in the last byte. */
    for (int guard = 0; next != 0 && guard < 8; guard++) {
      if (end - cur < 4) return 0;
      int64_t len = (int64_t)b[cur] * 4;
      if (len == 0 || end - cur < len) return 0;
      next = b[cur + len - 1];
      cur += len;
    }
  }
  if (cur >= end) return 0;
  uint32_t v = b[cur] >> 4;
  return v == 4 || v == 6 ? cur : 0;
}

/*
 * Transport header at l4 with l4len bytes as the IP header states, captured up
 * to cap_end. Returns a skip code, or the negated offset of an inner IP packet.
 */
static int64_t transport(const uint8_t *b, int64_t l4, int64_t l4len, int64_t cap_end, packet_t *p, int gtp) {
  p->sport = p->dport = 0;
  p->tcp_flags = p->tcp_window = p->tcp_seq = 0;
  p->payload_off = l4;
  p->payload_len = l4len;
  p->cap_payload = cap_end > l4 ? cap_end - l4 : 0;
  if (p->frag == FRAG_LATER) return SKIP_OK;
  uint32_t proto = p->proto;
  if (proto == 6) {
    if (cap_end - l4 < 20) return SKIP_TRUNCATED;
    int64_t doff = (int64_t)(b[l4 + 12] >> 4) * 4;
    if (doff < 20 || doff > l4len) return SKIP_BAD_L4;
    p->sport = u16(b, l4);
    p->dport = u16(b, l4 + 2);
    p->tcp_seq = u32(b, l4 + 4);
    p->tcp_flags = b[l4 + 13];
    p->tcp_window = u16(b, l4 + 14);
    set_payload(p, l4 + doff, l4len - doff, cap_end);
  } else if (proto == 17 || proto == 136 || proto == 132) {
    /* UDP, UDP-Lite and SCTP put the ports in the same place. */
    if (cap_end - l4 < 8) return SKIP_TRUNCATED;
    p->sport = u16(b, l4);
    p->dport = u16(b, l4 + 2);
    int64_t hdr = proto == 132 ? 12 : 8;
    if (l4len < hdr) return SKIP_BAD_L4;
    set_payload(p, l4 + hdr, l4len - hdr, cap_end);
    if (proto == 17 && gtp && (p->dport == GTPU_PORT || p->sport == GTPU_PORT) && p->frag == FRAG_NONE) {
      int64_t inner = gtpu(b, p->payload_off, cap_end);
      if (inner > 0) return -inner;
    }
  } else if (proto == 1 || proto == 58) {
    if (l4len < 4) return SKIP_BAD_L4;
    int64_t h = l4len < 8 ? l4len : 8;
    set_payload(p, l4 + h, l4len - h, cap_end);
  } else if ((proto == 4 || proto == 41) && p->frag == FRAG_NONE) {
    /* IP-in-IP and 6in4: the flow is the inner one. */
    if (cap_end - l4 >= 20) return -l4;
  }
  return SKIP_OK;
}

static int64_t ipv4(const uint8_t *b, int64_t off, int64_t end, packet_t *p, int gtp) {
  if (end - off < 20) return SKIP_TRUNCATED;
  int64_t ihl = (int64_t)(b[off] & 15) * 4;
  if (ihl < 20) return SKIP_BAD_IP;
  if (end - off < ihl) return SKIP_TRUNCATED;
  int64_t total = u16(b, off + 2);
  /* Captures taken above segmentation offload can show 0 here; the captured size is then the best we know. */
  if (total == 0) total = end - off;
  if (total < ihl) return SKIP_BAD_IP;
  p->ip_version = 4;
  p->s[0] = u32(b, off + 12);
  p->d[0] = u32(b, off + 16);
  p->s[1] = p->s[2] = p->s[3] = p->d[1] = p->d[2] = p->d[3] = 0;
  p->proto = b[off + 9];
  p->ip_bytes = (uint32_t)total;
  uint32_t ff = u16(b, off + 6);
  p->frag_id = u16(b, off + 4);
  p->frag = (ff & 0x1fff) != 0 ? FRAG_LATER : (ff & 0x2000) ? FRAG_FIRST : FRAG_NONE;
  int64_t l4end = end < off + total ? end : off + total;
  return transport(b, off + ihl, total - ihl, l4end, p, gtp);
}

static int64_t ipv6(const uint8_t *b, int64_t off, int64_t end, packet_t *p, int gtp) {
  if (end - off < 40) return SKIP_TRUNCATED;
  p->ip_version = 6;
  for (int i = 0; i < 4; i++) {
    p->s[i] = u32(b, off + 8 + 4 * i);
    p->d[i] = u32(b, off + 24 + 4 * i);
  }
  int64_t plen = u16(b, off + 4);
  /* 0 means a jumbogram or a capture above segmentation offload: use what was captured. */
  int64_t total = plen == 0 ? end - off : 40 + plen;
  p->ip_bytes = (uint32_t)total;
  p->frag = FRAG_NONE;
  p->frag_id = 0;
  int64_t limit = end < off + total ? end : off + total;
  uint32_t nh = b[off + 6];
  int64_t cur = off + 40;
  for (int guard = 0; guard < 16; guard++) {
    if (nh == 0 || nh == 43 || nh == 60 || nh == 135 || nh == 139 || nh == 140) {
      if (limit - cur < 2) return SKIP_TRUNCATED;
      uint32_t next = b[cur];
      cur += ((int64_t)b[cur + 1] + 1) * 8;
      nh = next;
    } else if (nh == 51) {
      if (limit - cur < 2) return SKIP_TRUNCATED;
      uint32_t next = b[cur];
      cur += ((int64_t)b[cur + 1] + 2) * 4;
      nh = next;
    } else if (nh == 44) {
      if (limit - cur < 8) return SKIP_TRUNCATED;
      uint32_t next = b[cur];
      uint32_t fo = u16(b, cur + 2);
      p->frag_id = u32(b, cur + 4);
      p->frag = (fo >> 3) != 0 ? FRAG_LATER : (fo & 1) ? FRAG_FIRST : FRAG_NONE;
      cur += 8;
      nh = next;
      if (p->frag == FRAG_LATER) break;
    } else {
      break;
    }
    if (cur > limit) return SKIP_TRUNCATED;
  }
  p->proto = nh;
  return transport(b, cur, off + total - cur, limit, p, gtp);
}

int decode_frame(uint32_t link_type, const uint8_t *buf, size_t off, size_t cap_length, packet_t *p, int gtp) {
  size_t end = off + cap_length;
  p->vlan = p->vlan_inner = p->tunnels = 0;
  link_result ip = decode_link(link_type, buf, off, end, p, 0);
  if (ip < 0) return (int)-ip;
  if ((size_t)ip >= end) return SKIP_TRUNCATED;
  int64_t at = ip;
  for (;;) {
    if (at >= (int64_t)end) return SKIP_TRUNCATED;
    uint32_t v = buf[at] >> 4;
    int64_t r = v == 4 ? ipv4(buf, at, (int64_t)end, p, gtp) : v == 6 ? ipv6(buf, at, (int64_t)end, p, gtp) : SKIP_BAD_IP;
    if (r >= 0) return (int)r;
    /* A negative result is the offset of an inner IP packet (a tunnel) to decode in place of this one. */
    if (++p->tunnels > MAX_TUNNELS) return SKIP_TUNNEL_DEPTH;
    at = -r;
  }
}
