/*
 * Frame -> packet_t: the link layer (link.c: Ethernet, Linux cooked v1/v2, raw
 * IP, BSD loopback, PPP, Cisco HDLC, PPI, 802.1Q/QinQ, MPLS, PPPoE), then here
 * IPv4 (with fragments), IPv6 (walking the extension headers), TCP, UDP,
 * UDP-Lite, SCTP, ICMP/ICMPv6, and tunnels carrying whole IP packets (IP-in-IP,
 * 6in4, GTP-U).
 *
 * Why C: this runs for every packet, and in JavaScript the per-packet path
 * (this, the flow lookup and the accumulators) was half of extract's time.
 * Every read is bounds-checked against the captured end; nothing here can
 * fail on any byte sequence other than by returning a skip code.
 */
#include "bytes.h"
#include "link.h"
#include "packet.h"

#define MAX_TUNNELS 4
#define GTPU_PORT 2152

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
  p->proto = p->frag_proto = b[off + 9];
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
  p->frag_proto = 0;
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
      p->frag_proto = next;
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
  link_result ip = link_decode(link_type, buf, off, end, p);
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
