/*
 * The flow table in C: flow lookup, least-recently-used order, expiry and the
 * per-packet accumulators. The flow state lives in the JavaScript typed arrays
 * of agent/flows/store.ts (`cols` below points into them), so records are still
 * built, and features finished, in JavaScript from the registry; only the work
 * done for every packet is here. Mirrors agent/flows/table.ts's contract.
 */
#ifndef ETA_TABLE_H
#define ETA_TABLE_H

#include "accumulate.h"
#include "fragments.h"
#include "../../meta/native/hello_watch.h"


enum end_reason { END_IDLE = 0, END_ACTIVE = 1, END_END = 2, END_FORCED = 3, END_EVICTED = 4, END_COUNT = 5 };

/* Counters shared with JavaScript (a Float64Array): indexes into table_t.stats. */
enum {
  ST_FRAMES = 0, ST_PACKETS, ST_CREATED, ST_LIVE, ST_CLOCK_JUMPS, ST_CLOCK_HELD, ST_FRAG_ORPHANS,
  ST_ENDED /* + END_COUNT */, ST_SKIPS = ST_ENDED + END_COUNT /* + SKIP_COUNT */,
  ST_CLOCK = ST_SKIPS + SKIP_COUNT,
  /* Results of flow_core.c's pcap(): where it stopped, and the frames and bytes it read. */
  ST_IO_POS, ST_IO_FRAMES, ST_IO_BYTES, ST_COUNT
};

typedef struct table {
  columns_t c;
  int32_t capacity;
  int32_t *index; /* open addressing, linear probing; slot + 1, 0 = empty */
  uint32_t mask;
  int32_t *free_slots;
  int32_t free_top, fresh, live, lru_head, lru_tail;
  double clock, offset, last_packet; /* last_packet: the clock at the last packet */
  double held_base; /* clock.h: the offset a packet far behind the clock would set, > 0 until the next packet */
  int started;
  int32_t *closing; /* (slot, gen) pairs in deadline order (the grace is constant) */
  size_t closing_len, closing_cap, closing_head;
  double idle_us, active_us, grace_us, gap_us;
  int gtp;
  frag_entry *frags;
  double *stats; /* ST_COUNT entries */
  packet_t pkt;
  /* The host's plugin (the handshake inspector), when watch.state is set: hello_watch() sees each
   * flow's first packet and the packets of flows whose state is not idle, and the packets it hands
   * on are reported (see PLUGIN_PACKET), in plugin_slot. */
  hello_watch_t watch;
  int32_t plugin_slot;
  /* Called when a flow ends; returns nonzero to stop (a JavaScript exception is pending). */
  int (*on_end)(void *ctx, int32_t slot, int reason);
  void *ctx;
  int failed; /* a callback failed: stop processing and let the host report it */
} table_t;

/* 0 on success, -1 when out of memory. Columns, stats and the watch's arrays are owned by the caller; the
 * watch's records and QUIC table are the table's (table_free frees them). */
int table_init(table_t *t, int32_t capacity, double idle_s, double active_s, double grace_s, double gap_s, int gtp);
void table_free(table_t *t);
/*
 * table_frame's result for a packet added to a flow the plugin wants to see: PLUGIN_PACKET |
 * action << 1 | dir (action: hello_watch()'s), the flow in plugin_slot and the packet in pkt. Returned, not called back:
 * the host hands it to the plugin after the call, which keeps the order (any flow ends of this
 * frame were already reported) without a call from C into JavaScript for each such packet.
 */
#define PLUGIN_PACKET 64

/* Decode a frame and add it; returns the skip code (counted in stats) or a PLUGIN_PACKET result. */
int table_frame(table_t *t, uint32_t link_type, const uint8_t *buf, size_t off, size_t cap_length, double ts);
/*
 * Move the clock to ts (µs) and end the flows that expired by then. `packet`: ts is a packet's;
 * 0: the live capture's timer (wall clock), which moves the clock forward only.
 */
void table_advance(table_t *t, double ts, int packet);
/* End every flow with `reason`, at most `limit`; returns how many ended. */
int32_t table_expire_all(table_t *t, int reason, double limit);

#endif
