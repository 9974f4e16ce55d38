/*
 * IP fragments after the first carry no ports. The first fragment's ports
 * are remembered per (addresses, protocol, IP id) for 30 s (the classic
 * reassembly limit) in a direct-mapped cache: bounded, no allocation per
 * packet; a collision forgets the older datagram, whose later fragments are
 * then counted as orphans (fragments of one datagram arrive within
 * milliseconds, and 65,536 entries make that rare).
 */
#include <stdlib.h>
#include <string.h>

#include "fragments.h"
#include "hash.h"

#define FRAG_TTL 30e6
struct frag_entry {
  uint32_t s[4], d[4];
  uint32_t proto, id, ports, used;
  double at;
};

static uint32_t frag_slot(const packet_t *p) {
  uint32_t e = endpoint(p->s, p->proto) ^ endpoint(p->d, p->frag_id);
  return mix(e) & (FRAG_SLOTS - 1);
}

static int frag_same(const struct frag_entry *e, const packet_t *p) {
  return e->used && e->proto == p->proto && e->id == p->frag_id && memcmp(e->s, p->s, 16) == 0 && memcmp(e->d, p->d, 16) == 0;
}

void frag_remember(frag_entry *cache, const packet_t *p, double now) {
  struct frag_entry *e = &cache[frag_slot(p)];
  memcpy(e->s, p->s, 16);
  memcpy(e->d, p->d, 16);
  e->proto = p->proto;
  e->id = p->frag_id;
  e->ports = (p->sport << 16) | p->dport;
  e->at = now;
  e->used = 1;
}

/* Fill in the ports of a later fragment; 0 when its first fragment was not seen (or too long ago). */
int frag_fill(frag_entry *cache, packet_t *p, double now) {
  struct frag_entry *e = &cache[frag_slot(p)];
  if (!frag_same(e, p) || e->at + FRAG_TTL <= now) return 0;
  p->sport = e->ports >> 16;
  p->dport = e->ports & 0xffff;
  return 1;
}

frag_entry *frag_new(void) { return calloc(FRAG_SLOTS, sizeof(struct frag_entry)); }
