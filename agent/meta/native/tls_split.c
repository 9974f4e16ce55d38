/*
 * tls-tcp.ts's TlsTcpReader for its common case, in C: a ClientHello in one TLS record whose
 * first bytes open the flow's first hello-starting TCP payload and whose rest follows in the
 * next client segments, in order. The bytes are gathered here as they come, and the hello is
 * read and kept as read_in_place keeps a whole one (hello_watch.c); the ServerHello and the
 * packet budget are then handled as the reader handles them. Why: browsers' post-quantum
 * key shares (~1.2 KB) put their hellos over one MSS, and JavaScript's reader, its reassembly
 * and V8 compiling them cost tens of microseconds per flow.
 *
 * Anything else hands the flow to that reader, with the bytes so far as one segment and the
 * packets they came in counted against its budget (HW_SPLIT_BACK, takeSplit): a segment out of
 * order or repeated, server data before the hello is whole, a SYN, FIN or RST, the budget
 * spent, a hello that does not parse. The reader then ends exactly as if it had seen every
 * packet (test/meta/hello-split.test.ts compares the two).
 */
#include <stdlib.h>
#include <string.h>

#include "hello_watch.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
/* tls-tcp.ts's MAX_RECORD: the largest TLSPlaintext fragment plus slack for broken stacks. */
#define MAX_RECORD (16384 + 2048)

/* Append b[0, n) (at most what the hello still needs), growing the buffer by doubling. */
static int append(tls_split_t *t, const uint8_t *b, uint32_t n) {
  if (n > t->need - t->have) n = t->need - t->have;
  if (t->have + n > t->cap) {
    uint32_t cap = t->cap * 2 < t->have + n ? t->have + n : t->cap * 2;
    if (cap > t->need) cap = t->need;
    uint8_t *grown = realloc(t->buf, cap);
    if (grown == NULL) return 0;
    t->buf = grown;
    t->cap = cap;
  }
  memcpy(t->buf + t->have, b, n);
  t->have += n;
  return 1;
}

static void drop(const hello_watch_t *w, int32_t s) {
  tls_split_t *t = w->slot[s].split;
  if (t == NULL) return;
  free(t->buf);
  free(t);
  w->slot[s].split = NULL;
  (*w->kept)--;
}

int hw_split_start(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b) {
  int64_t len = p->cap_payload;
  /* TlsTcpReader's opensHello and its first checks in tryParse; a budget of one packet ends there. */
  if (w->slot == NULL || w->max_packets <= 1 || len < 9 || (p->tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)) ||
      b[0] != 0x16 || b[1] != 3 || b[2] > 4 || b[5] != 1) return 0;
  uint32_t rec_len = hw_be16(b + 3), msg = 4 + hw_be24(b + 6);
  /* Malformed, over max_buffer, over several records, or all here: the reader's (or read_in_place's). */
  /* The reader's buffer holds the stream from the record header on, up to max_buffer bytes: 5 + msg must fit. */
  if (rec_len < 4 || rec_len > MAX_RECORD || msg > rec_len || 5 + (double)msg > w->max_buffer || 5 + (int64_t)msg <= len) return 0;
  if (*w->kept >= w->max_kept && w->slot[s].split == NULL) return 0; /* at the bound: the reader's (hello_watch.h) */
  tls_split_t *t = calloc(1, sizeof *t);
  if (t == NULL) return 0;
  t->need = 5 + msg;
  t->cap = (uint32_t)len;
  t->buf = malloc(t->cap);
  if (t->buf == NULL) {
    free(t);
    return 0;
  }
  memcpy(t->buf, b, (size_t)len);
  t->have = (uint32_t)len;
  t->first_seq = p->tcp_seq;
  t->next_seq = p->tcp_seq + (uint32_t)len;
  t->packets = t->payloads = 1;
  t->dir = (uint8_t)dir;
  drop(w, s);
  w->slot[s].split = t;
  (*w->kept)++;
  w->owned[s] = 1;
  w->state[s] = HW_SPLIT;
  return 1;
}

/* The inspection ends here in C: the hello (if read) stays kept, the bytes go. */
static int finish(const hello_watch_t *w, int32_t s) {
  w->state[s] = HW_IDLE;
  drop(w, s);
  return HW_SKIP;
}

/* Hand the flow to JavaScript's reader at this packet: the counts become those before it. */
static int back(const hello_watch_t *w, int32_t s, const packet_t *p) {
  tls_split_t *t = w->slot[s].split;
  t->packets--;
  if (p->cap_payload > 0) t->payloads--;
  w->state[s] = HW_INSPECTING;
  return HW_SPLIT_BACK;
}

/*
 * After the hello, as the reader goes on (tls-tcp.ts serverData, inspector.ts settle): a server
 * segment that opens a whole ServerHello record gives the version, and ends the inspection; one
 * whose ServerHello does not parse goes to the reader, which reports it; the budget ends it too.
 */
static int server_side(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b) {
  tls_split_t *t = w->slot[s].split;
  if (dir != t->dir && hw_whole_server_hello(b, p->cap_payload)) {
    int32_t v = hw_server_version(b, p->cap_payload);
    if (v < 0) return back(w, s, p);
    w->server_version[s] = (uint32_t)v + 1;
    return finish(w, s);
  }
  /* The budget spent, the reader would end here, its hello read: nothing to report. */
  return hw_budget_spent(w, t->packets, t->payloads) ? finish(w, s) : HW_SKIP;
}

int hw_split_packet(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b) {
  tls_split_t *t = w->slot[s].split;
  if (t == NULL) { /* out of memory on the way: nothing to hand over either */
    w->state[s] = HW_IDLE;
    return HW_SKIP;
  }
  t->packets++;
  if (p->cap_payload > 0) t->payloads++;
  if (t->done) return server_side(w, s, dir, p, b);
  if (p->tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)) return back(w, s, p);
  if (p->cap_payload > 0) {
    if (dir != t->dir || p->tcp_seq != t->next_seq || !append(t, b, (uint32_t)p->cap_payload)) return back(w, s, p);
    t->next_seq += (uint32_t)p->cap_payload;
    if (t->have >= t->need) {
      tls_hello_t h;
      hello_rec_t *r = tls_hello_parse(t->buf, 9, t->need, 0, &h) ? hello_rec_new(&h, 't') : NULL;
      if (r == NULL) return back(w, s, p);
      /* Kept, with the bytes: a malformed ServerHello still hands the flow back (the reader reports it). */
      t->done = 1;
      hw_keep(w, s, r, 0, HW_SPLIT_SERVER);
    }
  }
  /* The inspector's budget (inspector.ts settle): spent, it would end here, reporting the hello incomplete. */
  if (!hw_budget_spent(w, t->packets, t->payloads)) return HW_SKIP;
  return t->done ? finish(w, s) : back(w, s, p); /* done: the hello came with this packet, nothing to report */
}

napi_value hello_watch_take_split(napi_env env, napi_callback_info info) {
  size_t argc = 2, len;
  napi_value argv[2], out;
  const hello_watch_t *w;
  uint32_t s;
  napi_typedarray_type type;
  void *data;
  bool is_typed = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&w) != napi_ok) return NULL;
  if (argc < 2 || napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[1], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint32_array || len < 4) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: takeSplit(slot, info) takes a Uint32Array(4) to fill");
    return NULL;
  }
  if (napi_get_value_uint32(env, argv[0], &s) != napi_ok || s >= (uint32_t)w->capacity) {
    napi_throw_range_error(env, "E_FLOW_CORE", "flow core: takeSplit(slot, info) takes a slot of the table");
    return NULL;
  }
  tls_split_t *t = w->slot == NULL ? NULL : w->slot[s].split;
  hw_first_t *f = w->slot == NULL ? NULL : w->slot[s].first;
  uint32_t *i = data;
  void *copy;
  if (t == NULL && f != NULL) { /* quic_split.c's kept datagram: [0, its direction, 1 packet, 1 with payload] */
    i[0] = 0;
    i[1] = f->dir;
    i[2] = i[3] = 1;
    napi_status st = napi_create_buffer_copy(env, f->len, f->data, &copy, &out);
    hw_quic_split_drop(w, s);
    w->owned[s] = w->slot[s].rec != NULL;
    return st == napi_ok ? out : NULL;
  }
  if (t == NULL) return napi_get_null(env, &out) == napi_ok ? out : NULL;
  if (t->done) { /* the reader reads the hello again: C's copy goes */
    free(w->slot[s].rec);
    w->slot[s].rec = NULL;
    w->held[s] = 0;
  }
  i[0] = t->first_seq;
  i[1] = t->dir;
  i[2] = t->packets;
  i[3] = t->payloads;
  napi_status st = napi_create_buffer_copy(env, t->have, t->buf, &copy, &out);
  drop(w, s);
  w->owned[s] = w->slot[s].rec != NULL;
  return st == napi_ok ? out : NULL;
}

void hw_split_drop(const hello_watch_t *w, int32_t s) {
  drop(w, s);
}
