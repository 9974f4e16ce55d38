/*
 * Per-packet update of a flow's accumulators, on the columns of
 * agent/flows/store.ts. Sums, not samples: every statistic of the feature
 * registry is finished from these at flow end (agent/features/).
 *
 * Sizes are IP bytes (the IP header's length: header + payload), the same
 * basis for counts, sums and min/max. The PPI sequence and the histograms use
 * transport payload bytes and skip packets without payload, as CESNET and
 * ipfixprobe define them.
 */
#include <math.h>
#include <string.h>

#include "accumulate.h"

/* ipfixprobe's PHISTS bins: [0,15], [16,31], [32,63], ..., [512,1023], [1024, inf). */
static inline int hist_bin(double v) {
  if (v < 16) return 0;
  if (v >= 1024) return HIST_BINS - 1;
  return 31 - __builtin_clz((uint32_t)v) - 3;
}

/* Reset slot s for a new flow whose first packet arrives at ts (its sender becomes src). */
void flow_init(columns_t *c, int32_t s, double ts) {
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
void flow_add(columns_t *c, int32_t s, int dir, const packet_t *p, double ts, double gap_us) {
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

/* Close the last active period (at flow end). */
void flow_finish(columns_t *c, int32_t s) {
  double active = c->lastTs[s] - c->activeStart[s];
  if (active > 0) add_active(c, s, active);
}

void flow_add_held(columns_t *c, int32_t s, int dir, const packet_t *first, const frag_held_t *held, double ts, double gap_us) {
  packet_t q = *first;
  q.frag = FRAG_LATER;
  q.tcp_flags = q.tcp_window = 0;
  for (uint32_t i = 0; i < held->n; i++) {
    q.ip_bytes = held->ip_bytes[i];
    q.payload_len = held->payload_len[i];
    flow_add(c, s, dir, &q, ts, gap_us);
  }
}
