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
 * A packet's fragment bookkeeping, before it joins its flow. A first fragment's ports are
 * remembered, and the later fragments held for it (below) are moved into *held; a later
 * fragment gets its ports filled in. Returns 0 for a later fragment whose first was not seen
 * (or too long ago): it is held, its sizes only, up to FRAG_HOLD per datagram, for its first.
 * held->n is 0 unless a first fragment took held ones.
 */
int frag_step(frag_entry *cache, packet_t *p, double now, frag_held_t *held);

#endif
