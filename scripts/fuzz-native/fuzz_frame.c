/*
 * Frame-level harness: a small flow table with the handshake watch on, set up as
 * agent/flows/table.ts + agent/meta/flow-plugin.ts do, fed the frames of the fuzz input, with
 * the JavaScript side's reactions (inspector start/finish, takeSplit, helloOf at flow end,
 * onFree) emulated in C.
 *
 * Input: byte 0 = configuration, then records { u8 ctl, u16 len (LE), len bytes }.
 *   cfg bit 0     gtp
 *   cfg bits 1-2  max_packets  {12, 1, 2, 4}
 *   cfg bits 3-4  max_reassembling {4096, 1, 2, 0}
 *   cfg bits 5-6  max_buffer  {16384, 1500, 65536, 200}
 *   cfg bit 7     capacity 4 instead of 64
 *   ctl bits 0-2  link type {1 Ethernet, 101 raw, 113 SLL, 0 null, 9 PPP, 276 SLL2, 192 PPI, 104 C-HDLC}
 *   ctl bits 3-5  time step {0, +1 ms, +100 ms, +3 s, +130 s, +1900 s, -2 s, -5000 s}
 *   ctl bit 6     the JavaScript inspector (if any) finishes on this packet
 *   ctl bit 7     a timer tick (advance with packet = 0) before the frame
 * Each frame is copied to its own exact-size heap block, so any read past the captured bytes is caught.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/flows/native/table.h"
#include "napi_stub.h"
#include "quic_labels.h"

#define MAX_CAP 64

static const uint32_t LINKS[8] = {1, 101, 113, 0, 9, 276, 192, 104};
static const double STEPS[8] = {0, 1e3, 1e5, 3e6, 130e6, 1900e6, -2e6, -5000e9};

/* The QUIC versions of quic-keys.ts inPlaceQuicVersions (wire, types, salt, label prefix). */
typedef struct { uint32_t wire; int types; const char *salt; const char *prefix; } qv_t;
static const char *S_V1 = "38762cf7f55934b34d179ae6a4c80cadccbb7f0a", *S_V2 = "0dede3def700a6db819381be6e269dcbf9bd2ed9",
                  *S_D29 = "afbfec289993d24c9e9786f19c6111e04390a899", *S_D23 = "c3eef712c72ebb5a11a7d2432bb46365bef9f502",
                  *S_D22 = "7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a", *S_Q50 = "504574efd066fe2f9d945cfcdbd3a7f0d3b56b45",
                  *S_T50 = "7ff579e5acd072915580304c43a2367c60488310", *S_T51 = "7a4edef4e7ccee5fa4506c19124fc8ccda6e033d";

static void quic_versions(hello_watch_t *w) {
  static qv_t list[21];
  size_t n = 0;
  list[n++] = (qv_t){0x00000001, 0 | 3 << 4, S_V1, "quic"};
  list[n++] = (qv_t){0x6b3343cf, 1 | 0 << 4, S_V2, "quicv2"};
  for (uint32_t d = 22; d <= 34; d++) {
    const char *s = d >= 33 ? S_V1 : d >= 29 ? S_D29 : d >= 23 ? S_D23 : S_D22;
    list[n++] = (qv_t){0xff000000u + d, 3 << 4, s, "quic"};
  }
  list[n++] = (qv_t){0xfaceb001, 3 << 4, S_D22, "quic"};
  list[n++] = (qv_t){0xfaceb002, 3 << 4, S_D23, "quic"};
  list[n++] = (qv_t){0xfaceb00e, 3 << 4, S_D23, "quic"};
  list[n++] = (qv_t){0x51303530, 3 << 4 | 0x100 | 0x200, S_Q50, "quic"};
  list[n++] = (qv_t){0x54303530, 3 << 4 | 0x100, S_T50, "quic"};
  list[n++] = (qv_t){0x54303531, 3 << 4 | 0x100, S_T51, "quic"};
  w->n_quic = n;
  w->quic = calloc(n, sizeof *w->quic);
  for (size_t i = 0; i < n; i++) {
    hw_quic_t *q = &w->quic[i];
    q->v.wire = list[i].wire;
    q->v.initial_type = list[i].types & 0xf;
    q->v.retry_type = (list[i].types >> 4) & 0xf;
    q->v.google = (list[i].types >> 8) & 1;
    q->v.chlo = (list[i].types >> 9) & 1;
    for (int k = 0; k < 20; k++) q->bytes[0][k] = (uint8_t)(hexval(list[i].salt[2 * k]) << 4 | hexval(list[i].salt[2 * k + 1]));
    q->info[0] = (qc_bytes_t){q->bytes[0], 20};
    q->info[1] = (qc_bytes_t){q->bytes[1], label_info(q->bytes[1], list[i].prefix, " key", 16)};
    q->info[2] = (qc_bytes_t){q->bytes[2], label_info(q->bytes[2], list[i].prefix, " iv", 12)};
    q->info[3] = (qc_bytes_t){q->bytes[3], label_info(q->bytes[3], list[i].prefix, " hp", 16)};
  }
  hw_quic_ready(w);
}

/* ---- the JavaScript side (flow-plugin.ts), emulated ---- */
typedef struct {
  table_t t;
  uint8_t insp[MAX_CAP]; /* an Inspector in the plugin's map */
  uint32_t n_insp;
  uint32_t max_reassembling;
} ctx_t;

enum { IDLE = 0, INSPECTING = 1, C_SPLIT = HW_SPLIT, C_QUIC_SPLIT = HW_QUIC_SPLIT };

static void hello_of(hello_watch_t *w, int32_t s) {
  stub_info_t info = {.argc = 1, .argv = {(napi_value)(uintptr_t)s}, .data = w};
  hello_watch_hello_of(NULL, (napi_callback_info)&info);
}

static void take_split(hello_watch_t *w, int32_t s) {
  uint32_t out[4];
  stub_typed_t arr = {STUB_TYPED_MAGIC, napi_uint32_array, 4, out};
  stub_info_t info = {.argc = 2, .argv = {(napi_value)(uintptr_t)s, (napi_value)&arr}, .data = w};
  hello_watch_take_split(NULL, (napi_callback_info)&info);
}

static int on_end(void *p, int32_t s, int reason) {
  (void)reason;
  ctx_t *k = p;
  hello_watch_t *w = &k->t.watch;
  /* table.ts onEnd -> record -> plugin.metaOf(slot): helloOf when C holds the metadata. */
  if (w->held[s] >= HW_HELD_IN_C) hello_of(w, s);
  /* plugin.onFree(slot) */
  w->state[s] = IDLE;
  uint8_t held = w->held[s];
  if (held != 0) {
    w->held[s] = 0;
    if (held == HW_HELD_IN_C) {
      w->reports[s] = 0;
    } else if (k->insp[s]) {
      k->insp[s] = 0;
      k->n_insp--;
    }
  }
  return 0;
}

static void inspected(ctx_t *k, int32_t s) {
  hello_watch_t *w = &k->t.watch;
  if (k->insp[s]) {
    k->insp[s] = 0;
    k->n_insp--;
  }
  w->state[s] = IDLE;
  /* found or not: keep `held` as the JavaScript would for a found hello */
}

static void start_inspector(ctx_t *k, int32_t s, int finish) {
  hello_watch_t *w = &k->t.watch;
  if (k->n_insp >= k->max_reassembling) {
    w->state[s] = IDLE;
    return;
  }
  if (!k->insp[s]) {
    k->insp[s] = 1;
    k->n_insp++;
  }
  w->held[s] = 1;
  w->state[s] = INSPECTING;
  if (finish) inspected(k, s);
}

static void to_plugin(ctx_t *k, int r, int finish) {
  int32_t s = k->t.plugin_slot;
  int action = (r >> 1) & 7;
  hello_watch_t *w = &k->t.watch;
  switch (action) {
    case HW_BEGIN: case HW_OUT_OF_ORDER: case HW_RESUME:
      start_inspector(k, s, finish);
      break;
    case HW_SPLIT_BACK: case HW_QUIC_BACK:
      take_split(w, s);
      start_inspector(k, s, finish);
      break;
    default: /* HW_INSPECT */
      if (finish) inspected(k, s);
      break;
  }
}

static void *cols_alloc(columns_t *c, size_t n) {
#define COL(field, per) c->field = calloc(n * (per), sizeof *c->field);
  COL(hash, 1) COL(srcIp, 4) COL(dstIp, 4) COL(ports, 1) COL(proto, 1) COL(ipVersion, 1) COL(vlan, 1) COL(lruPrev, 1)
  COL(lruNext, 1) COL(lastTouch, 1) COL(closeAt, 1) COL(tcpEnd, 1) COL(gen, 1) COL(firstTs, 1) COL(lastTs, 1)
  COL(biIatMin, 1) COL(biIatMax, 1) COL(biIatSum, 1) COL(biIatSq, 1) COL(activeStart, 1) COL(actMin, 1) COL(actMax, 1)
  COL(actSum, 1) COL(actSq, 1) COL(actN, 1) COL(idleMin, 1) COL(idleMax, 1) COL(idleSum, 1) COL(idleSq, 1) COL(idleN, 1)
  COL(pkts, 2) COL(bytes, 2) COL(payBytes, 2) COL(szMin, 2) COL(szMax, 2) COL(szSq, 2) COL(iatMin, 2) COL(iatMax, 2)
  COL(iatSum, 2) COL(iatSq, 2) COL(dirFirstTs, 2) COL(dirLastTs, 2) COL(lastPayTs, 2) COL(initWin, 2) COL(flags, 16)
  COL(histSize, 2 * HIST_BINS) COL(histIat, 2 * HIST_BINS) COL(ppiN, 1) COL(ppiDirs, 1) COL(ppiSize, PPI_LEN)
  COL(ppiIat, PPI_LEN) COL(ppiLastTs, 1)
#undef COL
  return NULL;
}

static void cols_free(columns_t *c) {
  void **p = (void **)c;
  for (size_t i = 0; i < sizeof *c / sizeof(void *); i++) free(p[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static const int MAXP[4] = {12, 1, 2, 4};
  static const uint32_t MAXK[4] = {4096, 1, 2, 0};
  static const double MAXB[4] = {16384, 1500, 65536, 200};
  uint8_t cfg = data[0];
  int32_t cap = (cfg & 0x80) ? 4 : MAX_CAP;
  ctx_t *k = calloc(1, sizeof *k);
  table_t *t = &k->t;
  cols_alloc(&t->c, (size_t)cap);
  double stats[ST_COUNT] = {0};
  t->stats = stats;
  hello_watch_t *w = &t->watch;
  w->state = calloc(cap, 1);
  w->isn = calloc(cap, 4);
  w->syn_seen = calloc(cap, 1);
  w->server_version = calloc(cap, 4);
  w->held = calloc(cap, 1);
  w->reports = calloc(cap, 1);
  w->enabled = 1;
  w->max_packets = MAXP[(cfg >> 1) & 3];
  w->max_kept = MAXK[(cfg >> 3) & 3];
  w->max_buffer = MAXB[(cfg >> 5) & 3];
  k->max_reassembling = w->max_kept;
  quic_versions(w);
  uint8_t *state = w->state, *syn_seen = w->syn_seen, *held = w->held, *reports = w->reports;
  uint32_t *isn = w->isn, *sv = w->server_version;
  if (table_init(t, cap, 120, 1800, 2, 5, cfg & 1) != 0) abort();
  t->on_end = on_end;
  t->ctx = k;

  double ts = 1.7e15;
  size_t pos = 1;
  while (size - pos >= 3) {
    uint8_t ctl = data[pos];
    size_t len = data[pos + 1] | (size_t)data[pos + 2] << 8;
    pos += 3;
    if (len > size - pos) len = size - pos;
    ts += STEPS[(ctl >> 3) & 7];
    if (ts < 0) ts = 0;
    if (ctl & 0x80) table_advance(t, ts + 1e6, 0);
    uint8_t *frame = malloc(len ? len : 1);
    memcpy(frame, data + pos, len);
    pos += len;
    int r = table_frame(t, LINKS[ctl & 7], frame, 0, len, ts);
    if (r >= PLUGIN_PACKET) to_plugin(k, r, (ctl >> 6) & 1);
    free(frame);
  }
  table_expire_all(t, END_FORCED, INFINITY);
  table_free(t);
  free(state); free(isn); free(syn_seen); free(sv); free(held); free(reports);
  cols_free(&t->c);
  free(k);
  return 0;
}
