/*
 * The flow table: finds the flow of each packet (a symmetric hash, so both
 * directions land on one bucket), keeps flows in least-recently-used order,
 * ends them (idle, active, TCP end, table full, forced) and adds each packet
 * to its flow's accumulators. Same algorithm and guarantees as the
 * JavaScript it replaced (see table.h): on_end(slot) is called exactly once
 * per flow, before the slot is reused.
 *
 * Time is the packets' own (µs): replay and live capture run the same code.
 * The clock is monotonic: small backward steps (merged captures) are held, a
 * large backward jump (concatenated captures) rebases the clock so expiry
 * neither stalls nor fires early.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hash.h"
#include "pages.h"
#include "table.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static inline uint32_t vlan_key(const packet_t *p) { return (p->vlan << 12) | p->vlan_inner; }

static inline uint32_t flow_hash(const packet_t *p) {
  /* Addition commutes: hash(src, dst) == hash(dst, src). */
  uint32_t e = endpoint(p->s, p->sport) + endpoint(p->d, p->dport);
  return mix(e ^ ((p->proto + 1) * 0x27d4eb2du) ^ vlan_key(p));
}

/* 0 if p goes src -> dst of the flow in slot s, 1 if dst -> src, -1 if it is another flow. */
static inline int direction(const columns_t *c, int32_t s, const packet_t *p) {
  if (c->proto[s] != p->proto || c->vlan[s] != vlan_key(p)) return -1;
  const uint32_t *si = c->srcIp + (size_t)s * 4, *di = c->dstIp + (size_t)s * 4;
  uint32_t ports = c->ports[s];
  if (memcmp(si, p->s, 16) == 0 && memcmp(di, p->d, 16) == 0 && ports == ((p->sport << 16) | p->dport)) return 0;
  if (memcmp(si, p->d, 16) == 0 && memcmp(di, p->s, 16) == 0 && ports == ((p->dport << 16) | p->sport)) return 1;
  return -1;
}

int table_init(table_t *t, int32_t capacity, double idle_s, double active_s, double grace_s, double gap_s, int gtp) {
  uint32_t size = 1;
  while (size < (uint32_t)capacity * 2) size *= 2;
  t->capacity = capacity;
  t->index = calloc(size, sizeof(int32_t));
  t->mask = size - 1;
  t->free_slots = malloc(sizeof(int32_t) * (size_t)capacity);
  t->frags = frag_new();
  t->closing_cap = 1024;
  t->closing = malloc(sizeof(int32_t) * t->closing_cap);
  t->closing_len = t->closing_head = 0;
  t->free_top = t->fresh = t->live = 0;
  t->lru_head = t->lru_tail = -1;
  t->clock = t->offset = t->last_packet = t->held_base = 0;
  t->started = 0;
  t->idle_us = idle_s * 1e6;
  t->active_us = active_s * 1e6;
  t->grace_us = grace_s * 1e6;
  t->gap_us = gap_s * 1e6;
  t->gtp = gtp;
  t->failed = 0;
  t->watch.slot = NULL;
  if (!t->index || !t->free_slots || !t->frags || !t->closing || (t->watch.state && hello_watch_alloc(&t->watch, capacity) != 0)) {
    table_free(t);
    return -1;
  }
  populate(t->index, (size_t)size * sizeof(int32_t));
  return 0;
}

void table_free(table_t *t) {
  free(t->index);
  free(t->free_slots);
  free(t->frags);
  free(t->closing);
  hello_watch_free(&t->watch, t->fresh);
  t->index = t->free_slots = t->closing = NULL;
  t->frags = NULL;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void remove_from_index(table_t *t, int32_t s) {
  uint32_t mask = t->mask;
  int32_t *idx = t->index;
  uint32_t i = t->c.hash[s] & mask;
  while (idx[i] != s + 1) i = (i + 1) & mask;
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    int32_t e = idx[j];
    if (e == 0) break;
    uint32_t home = t->c.hash[e - 1] & mask;
    /* Move e back to the hole at i unless its home lies cyclically in (i, j]. */
    if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
      idx[i] = e;
      i = j;
    }
  }
  idx[i] = 0;
}

static void end_flow(table_t *t, int32_t s, int reason) {
  columns_t *c = &t->c;
  flow_finish(c, s);
  t->stats[ST_ENDED + reason]++;
  if (!t->failed && t->on_end(t->ctx, s, reason) != 0) t->failed = 1;
  hello_watch_end(&t->watch, s);
  int32_t prev = c->lruPrev[s], next = c->lruNext[s];
  if (prev >= 0) c->lruNext[prev] = next;
  else t->lru_head = next;
  if (next >= 0) c->lruPrev[next] = prev;
  else t->lru_tail = prev;
  remove_from_index(t, s);
  c->closeAt[s] = 0;
  c->gen[s]++;
  t->free_slots[t->free_top++] = s;
  t->live--;
  t->stats[ST_LIVE] = t->live;
}

void table_advance(table_t *t, double ts, int packet) {
  double m = clock_place(t, ts, packet);
  if (packet) t->last_packet = m;
  t->clock = m;
  t->stats[ST_CLOCK] = m;
  columns_t *c = &t->c;
  /* Closed flows first: after a gap longer than idle_timeout, a flow whose FIN grace had also
   * passed ended as idle, not end (found by review). */
  while (t->closing_head < t->closing_len && !t->failed) {
    int32_t s = t->closing[t->closing_head];
    uint32_t gen = (uint32_t)t->closing[t->closing_head + 1];
    if (c->gen[s] == gen && c->closeAt[s] > m) break;
    t->closing_head += 2;
    if (c->gen[s] == gen) end_flow(t, s, END_END);
  }
  while (t->lru_head >= 0 && c->lastTouch[t->lru_head] + t->idle_us <= m && !t->failed) end_flow(t, t->lru_head, END_IDLE);
  if (t->closing_head > 4096 && t->closing_head * 2 > t->closing_len) {
    memmove(t->closing, t->closing + t->closing_head, (t->closing_len - t->closing_head) * sizeof(int32_t));
    t->closing_len -= t->closing_head;
    t->closing_head = 0;
  }
}

/* A TCP flow closed (FIN both ways, or RST) and waiting out its grace ends as `end`, not as `reason`. */
int32_t table_expire_all(table_t *t, int reason, double limit) {
  int32_t n = 0;
  for (int32_t s; (s = t->lru_head) >= 0 && n < limit && !t->failed; n++) end_flow(t, s, t->c.closeAt[s] != 0 ? END_END : reason);
  return n;
}

/* A full table: a TCP flow closed and waiting out its grace goes first, as `end` (it is done; found
 * by review: it was reported evicted, and the least recently used flow, maybe live, was split). */
static void make_room(table_t *t) {
  columns_t *c = &t->c;
  while (t->closing_head < t->closing_len) {
    int32_t s = t->closing[t->closing_head];
    uint32_t gen = (uint32_t)t->closing[t->closing_head + 1];
    t->closing_head += 2;
    if (c->gen[s] == gen && c->closeAt[s] != 0) {
      end_flow(t, s, END_END);
      return;
    }
  }
  end_flow(t, t->lru_head, END_EVICTED);
}

/* `reversed`: the packet goes dst -> src (a flow continued after the active timeout, or seen from its SYN-ACK). */
static int32_t create(table_t *t, const packet_t *p, uint32_t h, double ts, int reversed) {
  if (t->live >= t->capacity) make_room(t);
  int32_t s = t->free_top > 0 ? t->free_slots[--t->free_top] : t->fresh++;
  columns_t *c = &t->c;
  c->gen[s]++;
  memcpy(c->srcIp + (size_t)s * 4, reversed ? p->d : p->s, 16);
  memcpy(c->dstIp + (size_t)s * 4, reversed ? p->s : p->d, 16);
  c->ports[s] = reversed ? (p->dport << 16) | p->sport : (p->sport << 16) | p->dport;
  c->proto[s] = (uint8_t)p->proto;
  c->ipVersion[s] = (uint8_t)p->ip_version;
  c->vlan[s] = vlan_key(p);
  c->hash[s] = h;
  flow_init(c, s, ts);
  uint32_t i = h & t->mask;
  while (t->index[i] != 0) i = (i + 1) & t->mask;
  t->index[i] = s + 1;
  /* Append at the LRU tail (most recent). */
  c->lruPrev[s] = t->lru_tail;
  c->lruNext[s] = -1;
  if (t->lru_tail >= 0) c->lruNext[t->lru_tail] = s;
  else t->lru_head = s;
  t->lru_tail = s;
  t->live++;
  t->stats[ST_LIVE] = t->live;
  t->stats[ST_CREATED]++;
  return s;
}

static void touch(table_t *t, int32_t s) {
  if (t->lru_tail == s) return;
  columns_t *c = &t->c;
  int32_t prev = c->lruPrev[s], next = c->lruNext[s];
  if (prev >= 0) c->lruNext[prev] = next;
  else t->lru_head = next;
  c->lruPrev[next] = prev; /* next >= 0 because s is not the tail */
  c->lruPrev[s] = t->lru_tail;
  c->lruNext[s] = -1;
  c->lruNext[t->lru_tail] = s;
  t->lru_tail = s;
}

static void tcp_ending(table_t *t, int32_t s, int dir, uint32_t flags) {
  columns_t *c = &t->c;
  uint8_t now = c->tcpEnd[s] | ((flags & TCP_RST) ? 4 : 0) | ((flags & TCP_FIN) ? 1 << dir : 0);
  c->tcpEnd[s] = now;
  if (c->closeAt[s] == 0 && ((now & 4) || (now & 3) == 3)) {
    c->closeAt[s] = t->clock + t->grace_us;
    if (t->closing_len + 2 > t->closing_cap) {
      size_t cap = t->closing_cap * 2;
      int32_t *grown = realloc(t->closing, cap * sizeof(int32_t));
      if (!grown) return; /* out of memory: the flow ends on idle instead */
      t->closing = grown;
      t->closing_cap = cap;
    }
    t->closing[t->closing_len++] = s;
    t->closing[t->closing_len++] = (int32_t)c->gen[s];
  }
}

/* Add the decoded packet at ts. Returns SKIP_OK, or SKIP_FRAG_ORPHAN for a fragment whose first was not seen. */
static int update(table_t *t, packet_t *p, const uint8_t *buf, double ts) {
  table_advance(t, ts, 1);
  /* A callback threw: stop here, so no later end in this call goes without its on_end. */
  if (t->failed) return SKIP_OK;
  frag_held_t held;
  if (!frag_step(t->frags, p, t->clock, &held)) {
    t->stats[ST_FRAG_ORPHANS]++;
    return SKIP_FRAG_ORPHAN;
  }
  columns_t *c = &t->c;
  uint32_t h = flow_hash(p);
  int32_t s = -1;
  int dir = 0;
  for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
    int32_t e = t->index[i];
    if (e == 0) break;
    if (c->hash[e - 1] == h) {
      dir = direction(c, e - 1, p);
      if (dir >= 0) {
        s = e - 1;
        break;
      }
    }
  }
  int is_new = 0;
  int reversed = 0;
  if (s >= 0) {
    double age = ts - c->firstTs[s];
    int restart = (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && c->tcpEnd[s] != 0;
    if (age >= t->active_us || restart) {
      /* A new connection (SYN after the end) starts with this packet, so its sender becomes src;
       * a flow cut by the active timeout goes on as it was (found by review: a long download's
       * next record had the server as src, its features mirrored). */
      reversed = !restart && dir == 1 && (p->tcp_flags & (TCP_SYN | TCP_ACK)) != TCP_SYN; /* a SYN opens anew */
      end_flow(t, s, restart ? END_END : END_ACTIVE);
      if (t->failed) return SKIP_OK;
      s = -1;
    }
  }
  if (s < 0) {
    /* A TCP flow first seen at its SYN-ACK (a capture begun mid-handshake, or two interfaces drained
     * out of order: found by review) was opened by the side the SYN-ACK goes to, which is src. */
    if (p->proto == 6 && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) reversed = 1;
    s = create(t, p, h, ts, reversed);
    dir = reversed;
    is_new = 1;
  } else {
    touch(t, s);
  }
  c->lastTouch[s] = t->clock;
  flow_add(c, s, dir, p, ts, t->gap_us);
  if (held.n > 0) {
    /* Counted as orphans when they came (fragments.c): packets of this flow now. */
    flow_add_held(c, s, dir, p, &held, ts, t->gap_us);
    t->stats[ST_FRAG_ORPHANS] -= held.n;
    t->stats[ST_SKIPS + SKIP_FRAG_ORPHAN] -= held.n;
    t->stats[ST_PACKETS] += held.n;
  }
  if (p->tcp_flags & (TCP_FIN | TCP_RST)) tcp_ending(t, s, dir, p->tcp_flags);
  if (t->watch.state && (is_new || t->watch.state[s])) {
    int action = hello_watch(&t->watch, s, dir, p, buf, is_new);
    if (action != HW_SKIP) {
      t->plugin_slot = s;
      return PLUGIN_PACKET | action << 1 | dir;
    }
  }
  return SKIP_OK;
}

int table_frame(table_t *t, uint32_t link_type, const uint8_t *buf, size_t off, size_t cap_length, double ts) {
  t->stats[ST_FRAMES]++;
  int r = decode_frame(link_type, buf, off, cap_length, &t->pkt, t->gtp);
  if (r == SKIP_OK) r = update(t, &t->pkt, buf, ts);
  if (r == SKIP_OK || r >= PLUGIN_PACKET) t->stats[ST_PACKETS]++;
  else t->stats[ST_SKIPS + r]++;
  return r;
}
