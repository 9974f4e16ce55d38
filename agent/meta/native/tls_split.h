/*
 * A ClientHello split over the client's first TCP segments, reassembled in C while the segments
 * come in order (tls_split.c): browsers' post-quantum key shares make most of them ~1.8 KB,
 * over one MSS, so this is the common case of current traffic.
 */
#ifndef ETA_TLS_SPLIT_H
#define ETA_TLS_SPLIT_H

#include <stdint.h>

#include "../../flows/native/packet.h"

/* One flow's hello so far: bytes [0, have) of the client's stream from its first hello byte. */
typedef struct {
  uint8_t *buf;
  uint32_t have, cap;
  uint32_t need;      /* 5 + 4 + the message length: the bytes that hold the whole ClientHello */
  uint32_t first_seq; /* the sequence number of byte 0 */
  uint32_t next_seq;  /* of byte `have` */
  uint16_t packets, payloads; /* the inspector's budget counts, this packet included */
  uint8_t dir;        /* the client's direction */
  uint8_t done;       /* the hello is read and kept; the reader's budget and ServerHello rules go on (HW_SPLIT_SERVER) */
} tls_split_t;

#endif
