/*
 * The decoded view of one packet, filled in place by decode_frame() (no
 * allocation per packet). Mirrors agent/flows/packet.ts, whose SKIP codes and
 * field meanings these are; the JavaScript Packet is filled from this struct
 * only when JavaScript needs a packet (the handshake inspector, tests).
 */
#ifndef ETA_PACKET_H
#define ETA_PACKET_H

#include <stddef.h>
#include <stdint.h>

enum skip_code {
  SKIP_OK = 0,
  SKIP_UNKNOWN_LINK = 1,
  SKIP_TRUNCATED = 2,
  SKIP_NOT_IP = 3,
  SKIP_BAD_IP = 4,
  SKIP_BAD_L4 = 5,
  SKIP_FRAG_ORPHAN = 6,
  SKIP_TUNNEL_DEPTH = 7,
  SKIP_NO_TIMESTAMP = 8,
  SKIP_COUNT = 9
};

enum { FRAG_NONE = 0, FRAG_FIRST = 1, FRAG_LATER = 2 };

typedef struct {
  uint32_t ip_version;
  uint32_t s[4], d[4]; /* IPv4: word 0, zeros in the others */
  uint32_t proto, sport, dport;
  uint32_t vlan, vlan_inner; /* outer and inner 802.1Q ids, 0 when absent */
  uint32_t ip_bytes;         /* as the IP header states (header + payload) */
  int64_t payload_len;       /* transport payload as the headers state it (may be negative on lies) */
  int64_t payload_off, cap_payload;
  uint32_t tcp_flags, tcp_window, tcp_seq;
  uint32_t frag, frag_id, tunnels;
  /* The protocol that keys a fragment (fragments.c): IPv4's, or the IPv6 Fragment header's next
   * header, the same in every fragment, where `proto` of a first fragment is past the extension
   * headers that follow it (found by review: Destination Options there orphaned the later ones). */
  uint32_t frag_proto;
} packet_t;

/* Link layer, IP and transport. Returns a skip code (SKIP_OK when the packet can update a flow). */
int decode_frame(uint32_t link_type, const uint8_t *buf, size_t off, size_t cap_length, packet_t *p, int gtp);

#endif
