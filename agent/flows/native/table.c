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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

#define CLOCK_JUMP 1e6
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/*
 * IP fragments after the first carry no ports. The first fragment's ports
 * are remembered per (addresses, protocol, IP id) for 30 s (the classic
 * reassembly limit) in a direct-mapped cache: bounded, no allocation per
 * packet; a collision forgets the older datagram, whose later fragments are
 * then counted as orphans (fragments of one datagram arrive within
 * milliseconds, and 65,536 entries make that rare).
 */
#define FRAG_SLOTS 65536
#define FRAG_TTL 30e6
struct frag_entry {
  uint32_t s[4], d[4];
  uint32_t proto, id, ports, used;
  double at;
};

static inline uint32_t mix(uint32_t h) {
  /* murmur3 finalizer: spreads low-entropy inputs (sequential ports, one subnet) over all bits. */
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

static inline uint32_t endpoint(const uint32_t *a, uint32_t port) {
  /* One multiply-xorshift round per word and a full mix at the end: enough spread at half the cost. */
  uint32_t h = (a[0] ^ 0x9e3779b9u) * 0x85ebca6bu;
  h = (h ^ (h >> 15) ^ a[1]) * 0xc2b2ae35u;
  h = (h ^ (h >> 13) ^ a[2]) * 0x85ebca6bu;
  h = (h ^ (h >> 16) ^ a[3]) * 0xc2b2ae35u;
  return mix(h ^ port);
}

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

static uint32_t frag_slot(const packet_t *p) {
  uint32_t e = endpoint(p->s, p->proto) ^ endpoint(p->d, p->frag_id);
  return mix(e) & (FRAG_SLOTS - 1);
}

static int frag_same(const struct frag_entry *e, const packet_t *p) {
  return e->used && e->proto == p->proto && e->id == p->frag_id && memcmp(e->s, p->s, 16) == 0 && memcmp(e->d, p->d, 16) == 0;
}

static void frag_remember(table_t *t, const packet_t *p) {
  struct frag_entry *e = &t->frags[frag_slot(p)];
  memcpy(e->s, p->s, 16);
  memcpy(e->d, p->d, 16);
  e->proto = p->proto;
  e->id = p->frag_id;
  e->ports = (p->sport << 16) | p->dport;
  e->at = t->clock;
  e->used = 1;
}

/* Fill in the ports of a later fragment; 0 when its first fragment was not seen (or too long ago). */
static int frag_fill(table_t *t, packet_t *p) {
  struct frag_entry *e = &t->frags[frag_slot(p)];
  if (!frag_same(e, p) || e->at + FRAG_TTL <= t->clock) return 0;
  p->sport = e->ports >> 16;
  p->dport = e->ports & 0xffff;
  return 1;
}

/* ipfixprobe's PHISTS bins: [0,15], [16,31], [32,63], ..., [512,1023], [1024, inf). */
static inline int hist_bin(double v) {
  if (v < 16) return 0;
  if (v >= 1024) return HIST_BINS - 1;
  return 31 - __builtin_clz((uint32_t)v) - 3;
}

/* Reset a slot for a new flow (its first packet's sender becomes src). */
static void init_flow(columns_t *c, int32_t s, double ts) {
  c->firstTs[s] = c->lastTs[s] = c->activeStart[s] = ts;
  c->biIatMin[s] = INFINITY; c->biIatMax[s] = 0; c->biIatSum[s] = 0; c->biIatSq[s] = 0;
  c->actMin[s] = INFINITY; c->actMax[s] = 0; c->actSum[s] = 0; c->actSq[s] = 0; c->actN[s] = 0;
  c->idleMin[s] = INFINITY; c->idleMax[s] = 0; c->idleSum[s] = 0; c->idleSq[s] = 0; c->idleN[s] = 0;
  c->closeAt[s] = 0;
  c->tcpEnd[s] = 0;
  c->ppiN[s] = 0;
  c->ppiDirs[s] = 0;
  c->ppiLastTs[s] = ts;
  for (int d = 0; d < 2; d++) {
    size_t i = (size_t)s * 2 + d;
    c->pkts[i] = 0; c->bytes[i] = 0; c->payBytes[i] = 0;
    c->szMin[i] = 0xffffffffu; c->szMax[i] = 0; c->szSq[i] = 0;
    c->iatMin[i] = INFINITY; c->iatMax[i] = 0; c->iatSum[i] = 0; c->iatSq[i] = 0;
    c->dirFirstTs[i] = 0; c->dirLastTs[i] = 0; c->lastPayTs[i] = 0; c->initWin[i] = 0;
  }
  memset(c->flags + (size_t)s * 16, 0, 16 * sizeof(uint32_t));
  memset(c->histSize + (size_t)s * 16, 0, 16 * sizeof(uint32_t));
  memset(c->histIat + (size_t)s * 16, 0, 16 * sizeof(uint32_t));
}

static void add_active(columns_t *c, int32_t s, double active) {
  if (active < c->actMin[s]) c->actMin[s] = (float)active;
  if (active > c->actMax[s]) c->actMax[s] = (float)active;
  c->actSum[s] += active;
  c->actSq[s] += active * active;
  c->actN[s]++;
}

/*
 * Add one packet (direction dir relative to the flow's src) at ts (µs). Sizes
 * are IP bytes; the PPI sequence and the histograms use transport payload
 * bytes and skip packets without payload, as CESNET and ipfixprobe define
 * them. Out-of-order timestamps give zero gaps, never negative ones.
 */
static void accumulate(columns_t *c, int32_t s, int dir, const packet_t *p, double ts, double gap_us) {
  size_t i = (size_t)s * 2 + dir;
  double size = p->ip_bytes;
  uint32_t n = c->pkts[i];

  /* Bidirectional gap and active/idle periods (CICFlowMeter's definition). */
  double last = c->lastTs[s];
  if (n > 0 || c->pkts[i ^ 1] > 0) {
    double gap = ts > last ? ts - last : 0;
    if (gap < c->biIatMin[s]) c->biIatMin[s] = (float)gap;
    if (gap > c->biIatMax[s]) c->biIatMax[s] = (float)gap;
    c->biIatSum[s] += gap;
    c->biIatSq[s] += gap * gap;
    if (gap > gap_us) {
      double active = last - c->activeStart[s];
      if (active > 0) add_active(c, s, active);
      if (gap < c->idleMin[s]) c->idleMin[s] = (float)gap;
      if (gap > c->idleMax[s]) c->idleMax[s] = (float)gap;
      c->idleSum[s] += gap;
      c->idleSq[s] += gap * gap;
      c->idleN[s]++;
      c->activeStart[s] = ts;
    }
  }
  if (ts > last) c->lastTs[s] = ts;

  /* Per-direction counts, sizes and gaps. */
  if (n == 0) {
    c->dirFirstTs[i] = ts;
    c->dirLastTs[i] = ts;
    c->initWin[i] = (uint16_t)p->tcp_window;
  } else {
    double prev = c->dirLastTs[i];
    double gap = ts > prev ? ts - prev : 0;
    if (gap < c->iatMin[i]) c->iatMin[i] = (float)gap;
    if (gap > c->iatMax[i]) c->iatMax[i] = (float)gap;
    c->iatSum[i] += gap;
    c->iatSq[i] += gap * gap;
    if (ts > prev) c->dirLastTs[i] = ts;
  }
  c->pkts[i] = n + 1;
  c->bytes[i] += size;
  c->szSq[i] += size * size;
  if (p->ip_bytes < c->szMin[i]) c->szMin[i] = p->ip_bytes;
  if (p->ip_bytes > c->szMax[i]) c->szMax[i] = p->ip_bytes;

  uint32_t flags = p->tcp_flags;
  if (flags != 0) {
    uint32_t *f = c->flags + (size_t)s * 16 + dir * 8;
    for (int b = 0; b < 8; b++) if (flags & (1u << b)) f[b]++;
  }

  if (p->payload_len > 0) {
    double pay = (double)p->payload_len;
    size_t h = (size_t)s * 16 + dir * HIST_BINS;
    c->payBytes[i] += pay;
    c->histSize[h + hist_bin(pay)]++;
    double prev_pay = c->lastPayTs[i];
    if (prev_pay != 0) c->histIat[h + hist_bin(floor((ts > prev_pay ? ts - prev_pay : 0) / 1000))]++;
    c->lastPayTs[i] = ts;
    uint32_t k = c->ppiN[s];
    if (k < PPI_LEN) {
      size_t at = (size_t)s * PPI_LEN + k;
      c->ppiSize[at] = pay > 0xffff ? 0xffff : (uint16_t)pay;
      double lp = c->ppiLastTs[s];
      c->ppiIat[at] = k == 0 || ts <= lp ? 0 : (float)((ts - lp) / 1000);
      if (dir == 1) c->ppiDirs[s] |= 1u << k;
      c->ppiLastTs[s] = ts;
      c->ppiN[s] = (uint8_t)(k + 1);
    }
  }
}

int table_init(table_t *t, int32_t capacity, double idle_s, double active_s, double grace_s, double gap_s, int gtp) {
  uint32_t size = 1;
  while (size < (uint32_t)capacity * 2) size *= 2;
  t->capacity = capacity;
  t->index = calloc(size, sizeof(int32_t));
  t->mask = size - 1;
  t->free_slots = malloc(sizeof(int32_t) * (size_t)capacity);
  t->frags = calloc(FRAG_SLOTS, sizeof(struct frag_entry));
  t->closing_cap = 1024;
  t->closing = malloc(sizeof(int32_t) * t->closing_cap);
  t->closing_len = t->closing_head = 0;
  t->free_top = t->fresh = t->live = 0;
  t->lru_head = t->lru_tail = -1;
  t->clock = t->offset = 0;
  t->started = 0;
  t->idle_us = idle_s * 1e6;
  t->active_us = active_s * 1e6;
  t->grace_us = grace_s * 1e6;
  t->gap_us = gap_s * 1e6;
  t->gtp = gtp;
  t->failed = 0;
  if (!t->index || !t->free_slots || !t->frags || !t->closing) {
    table_free(t);
    return -1;
  }
  return 0;
}

void table_free(table_t *t) {
  free(t->index);
  free(t->free_slots);
  free(t->frags);
  free(t->closing);
  t->index = NULL;
  t->free_slots = NULL;
  t->frags = NULL;
  t->closing = NULL;
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
  double active = c->lastTs[s] - c->activeStart[s];
  if (active > 0) add_active(c, s, active);
  t->stats[ST_ENDED + reason]++;
  if (!t->failed && t->on_end(t->ctx, s, reason) != 0) t->failed = 1;
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

void table_advance(table_t *t, double ts) {
  double m = ts + t->offset;
  if (!t->started) {
    t->started = 1;
    t->clock = m;
  } else if (m < t->clock) {
    if (t->clock - m > CLOCK_JUMP) {
      /* A new time base (concatenated captures): continue from where the clock is. */
      t->offset += t->clock - m;
      t->stats[ST_CLOCK_JUMPS]++;
    }
    m = t->clock;
  }
  t->clock = m;
  t->stats[ST_CLOCK] = m;
  columns_t *c = &t->c;
  while (t->lru_head >= 0 && c->lastTouch[t->lru_head] + t->idle_us <= m && !t->failed) end_flow(t, t->lru_head, END_IDLE);
  while (t->closing_head < t->closing_len && !t->failed) {
    int32_t s = t->closing[t->closing_head];
    uint32_t gen = (uint32_t)t->closing[t->closing_head + 1];
    if (c->gen[s] == gen && c->closeAt[s] > m) break;
    t->closing_head += 2;
    if (c->gen[s] == gen) end_flow(t, s, END_END);
  }
  if (t->closing_head > 4096 && t->closing_head * 2 > t->closing_len) {
    memmove(t->closing, t->closing + t->closing_head, (t->closing_len - t->closing_head) * sizeof(int32_t));
    t->closing_len -= t->closing_head;
    t->closing_head = 0;
  }
}

int32_t table_expire_all(table_t *t, int reason, double limit) {
  int32_t n = 0;
  while (t->lru_head >= 0 && n < limit && !t->failed) {
    end_flow(t, t->lru_head, reason);
    n++;
  }
  return n;
}

static int32_t create(table_t *t, const packet_t *p, uint32_t h, double ts) {
  if (t->live >= t->capacity) end_flow(t, t->lru_head, END_EVICTED);
  int32_t s = t->free_top > 0 ? t->free_slots[--t->free_top] : t->fresh++;
  columns_t *c = &t->c;
  c->gen[s]++;
  memcpy(c->srcIp + (size_t)s * 4, p->s, 16);
  memcpy(c->dstIp + (size_t)s * 4, p->d, 16);
  c->ports[s] = (p->sport << 16) | p->dport;
  c->proto[s] = (uint8_t)p->proto;
  c->ipVersion[s] = (uint8_t)p->ip_version;
  c->vlan[s] = vlan_key(p);
  c->hash[s] = h;
  init_flow(c, s, ts);
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
static int update(table_t *t, packet_t *p, double ts) {
  table_advance(t, ts);
  /* A callback threw: stop here, so no later end in this call goes without its on_end. */
  if (t->failed) return SKIP_OK;
  if (p->frag == FRAG_LATER) {
    if (!frag_fill(t, p)) {
      t->stats[ST_FRAG_ORPHANS]++;
      return SKIP_FRAG_ORPHAN;
    }
  } else if (p->frag == FRAG_FIRST) {
    frag_remember(t, p);
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
  if (s >= 0) {
    double age = ts - c->firstTs[s];
    int restart = (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && c->tcpEnd[s] != 0;
    if (age >= t->active_us || restart) {
      /* The next flow on this key starts with this packet, so its sender becomes src. */
      end_flow(t, s, restart ? END_END : END_ACTIVE);
      if (t->failed) return SKIP_OK;
      s = -1;
    }
  }
  if (s < 0) {
    s = create(t, p, h, ts);
    dir = 0;
    is_new = 1;
  } else {
    touch(t, s);
  }
  c->lastTouch[s] = t->clock;
  accumulate(c, s, dir, p, ts, t->gap_us);
  if (p->tcp_flags & (TCP_FIN | TCP_RST)) tcp_ending(t, s, dir, p->tcp_flags);
  if (t->plugin && (is_new || (t->watch && t->watch[s]))) {
    t->plugin_slot = s;
    return PLUGIN_PACKET | is_new << 1 | dir;
  }
  return SKIP_OK;
}

int table_frame(table_t *t, uint32_t link_type, const uint8_t *buf, size_t off, size_t cap_length, double ts) {
  t->stats[ST_FRAMES]++;
  int r = decode_frame(link_type, buf, off, cap_length, &t->pkt, t->gtp);
  if (r == SKIP_OK) r = update(t, &t->pkt, ts);
  if (r == SKIP_OK || r >= PLUGIN_PACKET) t->stats[ST_PACKETS]++;
  else t->stats[ST_SKIPS + r]++;
  return r;
}
