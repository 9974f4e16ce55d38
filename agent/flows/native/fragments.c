/*
 * IP fragments after the first carry no ports. The first fragment's ports
 * are remembered per (addresses, protocol, IP id) for 30 s (the classic
 * reassembly limit) in a direct-mapped cache: bounded, no allocation per
 * packet; a collision forgets the older datagram, whose later fragments are
 * then counted as orphans (fragments of one datagram arrive within
 * milliseconds, and 65,536 entries make that rare).
 *
 * Later fragments can come first: senders and multipath links reorder them
 * (tshark's captures of reordered datagrams reassemble whole). Such a
 * fragment's sizes wait in its datagram's entry, up to FRAG_HOLD, within the
 * same 30 s; the first fragment then takes them into its flow (table.c). Only
 * sizes are kept, not bytes: flows count packets and bytes, and a later
 * fragment's payload is never inspected. Until then it counts as an orphan,
 * so the counts add up at every moment, and for good if its first never comes.
 */
#include <stdlib.h>
#include <string.h>

#include "fragments.h"
#include "hash.h"

#define FRAG_TTL 30e6

/* used: an entry's content. */
enum { FRAG_EMPTY = 0, FRAG_PORTS = 1, FRAG_WAITING = 2 };

struct frag_entry {
  uint32_t s[4], d[4];
  uint32_t proto, id, ports, used;
  uint32_t l4; /* FRAG_PORTS: the first fragment's transport protocol (IPv6: past the headers `proto` stops at) */
  double at;
  frag_held_t held; /* FRAG_WAITING: the later fragments so far */
};

static uint32_t frag_slot(const packet_t *p) {
  uint32_t e = endpoint(p->s, p->frag_proto) ^ endpoint(p->d, p->frag_id);
  return mix(e) & (FRAG_SLOTS - 1);
}

static int frag_same(const struct frag_entry *e, const packet_t *p, double now) {
  return e->used != FRAG_EMPTY && e->at + FRAG_TTL > now && e->proto == p->frag_proto && e->id == p->frag_id
    && memcmp(e->s, p->s, 16) == 0 && memcmp(e->d, p->d, 16) == 0;
}

static void frag_key(struct frag_entry *e, const packet_t *p, double now, uint32_t used) {
  memcpy(e->s, p->s, 16);
  memcpy(e->d, p->d, 16);
  e->proto = p->frag_proto;
  e->id = p->frag_id;
  e->at = now;
  e->used = used;
}

static void frag_remember(frag_entry *cache, const packet_t *p, double now, frag_held_t *held) {
  struct frag_entry *e = &cache[frag_slot(p)];
  if (e->used == FRAG_WAITING && frag_same(e, p, now)) *held = e->held;
  frag_key(e, p, now, FRAG_PORTS);
  e->ports = (p->sport << 16) | p->dport;
  e->l4 = p->proto;
}

static int frag_fill(frag_entry *cache, packet_t *p, double now) {
  struct frag_entry *e = &cache[frag_slot(p)];
  int same = frag_same(e, p, now);
  if (same && e->used == FRAG_PORTS) {
    p->sport = e->ports >> 16;
    p->dport = e->ports & 0xffff;
    p->proto = e->l4;
    return 1;
  }
  if (!same) {
    /* A datagram whose first came keeps its entry; one still waiting gives way to the newest. */
    if (e->used == FRAG_PORTS && e->at + FRAG_TTL > now) return 0;
    frag_key(e, p, now, FRAG_WAITING);
    e->held.n = 0;
  }
  if (e->held.n < FRAG_HOLD) {
    uint32_t i = e->held.n++;
    e->held.ip_bytes[i] = p->ip_bytes;
    e->held.payload_len[i] = p->payload_len > 0 ? (int32_t)(p->payload_len > INT32_MAX ? INT32_MAX : p->payload_len) : 0;
  }
  return 0;
}

int frag_step(frag_entry *cache, packet_t *p, double now, frag_held_t *held) {
  held->n = 0;
  if (p->frag == FRAG_LATER) return frag_fill(cache, p, now);
  if (p->frag == FRAG_FIRST) frag_remember(cache, p, now, held);
  return 1;
}

frag_entry *frag_new(void) { return calloc(FRAG_SLOTS, sizeof(struct frag_entry)); }
