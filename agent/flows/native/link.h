/* The link layer of a frame (link.c), up to its IP header. */
#ifndef ETA_LINK_H
#define ETA_LINK_H

#include "packet.h"

/* The IP header's offset (>= 0), or a negated skip code. */
typedef int64_t link_result;

/* Walk a frame of LINKTYPE link_type in b[off, end) to its IP header, setting p's VLAN ids. */
link_result link_decode(uint32_t link_type, const uint8_t *b, size_t off, size_t end, packet_t *p);

#endif
