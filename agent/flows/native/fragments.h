/*
 * The ports of first IP fragments, for the later fragments of the same
 * datagram (which carry none), and the later fragments that came before
 * their first: see fragments.c.
 */
#ifndef ETA_FRAGMENTS_H
#define ETA_FRAGMENTS_H

#include "packet.h"

#define FRAG_SLOTS 65536
/* Later fragments held per datagram while its first has not come (see fragments.c). */
#define FRAG_HOLD 8

typedef struct frag_entry frag_entry;

/* Later fragments of one datagram that came before its first: their sizes, in arrival order. */
typedef struct {
  uint32_t n;
  uint32_t ip_bytes[FRAG_HOLD];
  int32_t payload_len[FRAG_HOLD];
} frag_held_t;

/* A cache of FRAG_SLOTS entries (calloc: pages committed only when used); free() it. */
frag_entry *frag_new(void);
/*
 * Remember the ports of a first fragment at time now (µs). The later fragments of its datagram
 * held until then (frag_fill) are moved into *held (n 0 when none).
 */
void frag_remember(frag_entry *cache, const packet_t *p, double now, frag_held_t *held);
/*
 * Fill in the ports of a later fragment; 0 when its first fragment was not seen (or too long
 * ago). Such a fragment is held (its sizes) for its first, up to FRAG_HOLD per datagram.
 */
int frag_fill(frag_entry *cache, packet_t *p, double now);

#endif
