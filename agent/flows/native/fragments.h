/*
 * The ports of first IP fragments, for the later fragments of the same
 * datagram (which carry none): see fragments.c.
 */
#ifndef ETA_FRAGMENTS_H
#define ETA_FRAGMENTS_H

#include "packet.h"

#define FRAG_SLOTS 65536

typedef struct frag_entry frag_entry;

/* A cache of FRAG_SLOTS entries (calloc: pages committed only when used); free() it. */
frag_entry *frag_new(void);
/* Remember the ports of a first fragment at time now (µs). */
void frag_remember(frag_entry *cache, const packet_t *p, double now);
/* Fill in the ports of a later fragment; 0 when its first fragment was not seen (or too long ago). */
int frag_fill(frag_entry *cache, packet_t *p, double now);

#endif
