/* A flow's accumulators: the columns they live in, and the per-packet update (accumulate.c). */
#ifndef ETA_ACCUMULATE_H
#define ETA_ACCUMULATE_H

#include "fragments.h"
#include "packet.h"

#define PPI_LEN 30
#define HIST_BINS 8

/* Column pointers, named as in agent/flows/store.ts. */
typedef struct {
  uint32_t *hash, *srcIp, *dstIp, *ports, *vlan, *gen;
  uint8_t *proto, *ipVersion, *tcpEnd;
  int32_t *lruPrev, *lruNext;
  double *lastTouch, *closeAt, *firstTs, *lastTs, *biIatSum, *biIatSq, *activeStart;
  float *biIatMin, *biIatMax, *actMin, *actMax, *idleMin, *idleMax;
  double *actSum, *actSq, *idleSum, *idleSq;
  uint32_t *actN, *idleN;
  uint32_t *pkts, *szMin, *szMax;
  double *bytes, *payBytes, *szSq, *iatSum, *iatSq, *dirFirstTs, *dirLastTs, *lastPayTs;
  float *iatMin, *iatMax;
  uint16_t *initWin;
  uint32_t *flags, *histSize, *histIat;
  uint8_t *ppiN;
  uint32_t *ppiDirs;
  uint16_t *ppiSize;
  float *ppiIat;
  double *ppiLastTs;
} columns_t;

/* Reset slot s for a new flow whose first packet arrives at ts (identity set by the caller). */
void flow_init(columns_t *c, int32_t s, double ts);
/* Add one packet (dir relative to the flow's src) at ts (µs); gaps above gap_us separate active periods. */
void flow_add(columns_t *c, int32_t s, int dir, const packet_t *p, double ts, double gap_us);
/*
 * Add the later fragments held for the first fragment `first` (fragments.c), just added to the
 * flow in slot s: each with its own sizes, at the first's time (they came before it, so no gap).
 */
void flow_add_held(columns_t *c, int32_t s, int dir, const packet_t *first, const frag_held_t *held, double ts, double gap_us);
/* Close the last active period (at flow end). */
void flow_finish(columns_t *c, int32_t s);

#endif
