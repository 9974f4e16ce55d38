/*
 * A scanned TCP flow (hello_watch.c SCANNING: STARTTLS plaintext, or a first 0x16 that opened no
 * hello record) reaching a segment that holds a whole ClientHello record: read here, as the
 * inspector JavaScript would start at that segment reads it (tls-tcp.ts: the segment anchors the
 * client's stream, tryParse and parse read the one record), and the flow's next segments are
 * read for the ServerHello as serverData reads them, under the inspector's budget, counted on
 * from the scan's counts (and hw_malformed_hello: a flow's first hello record that does not parse,
 * which the reader would report and give up on at once, 50 flows per million). Why: such flows (mail, XMPP, databases upgrading to TLS: ~60 per
 * million packets of the benchmark capture) each started an inspector in JavaScript for ~8
 * packets. A malformed ServerHello is recorded in reports[s] (inspector.ts REASON_BITS), counted
 * when the flow ends; anything else (a SYN, a hello over several records or segments, one that
 * does not parse, a flow whose first hello was a ServerHello) goes to JavaScript's reader.
 */
#include "hello_watch.h"

#define TCP_SYN 0x02
/* tls-tcp.ts MAX_RECORD: a TLSPlaintext fragment (2^14) plus slack for broken stacks. */
#define MAX_RECORD (16384 + 2048)

/*
 * Whether b[0, len) is one ClientHello record, all here, that tls-tcp.ts's reader, anchored at this
 * segment, would parse (tryParse's checks pass, a failing one being the reader's report; its
 * buffer holds the stream from the record header on, up to max_buffer bytes, so 5 + the message
 * must fit, as in tls_split.c): the message's end in *end. Stricter than hello_watch.c
 * read_in_place, which reads a flow's first payload as fast-tls.ts did.
 */
static int one_record_hello(const hello_watch_t *w, const uint8_t *b, int64_t len, size_t *end) {
  if (len < 9 || b[0] != 0x16 || b[1] != 3 || b[2] > 4 || b[5] != 1) return 0;
  uint32_t rec_len = hw_be16(b + 3), need = 4 + hw_be24(b + 6);
  if (rec_len == 0 || rec_len > MAX_RECORD || need > rec_len || 5 + (double)need > w->max_buffer || 5 + (int64_t)rec_len > len) return 0;
  *end = 5 + (size_t)need;
  return 1;
}

static int record_hello(const hello_watch_t *w, const uint8_t *b, int64_t len, tls_hello_t *h) {
  size_t end;
  return one_record_hello(w, b, len, &end) && tls_hello_parse(b, 9, end, 0, h);
}

int hw_malformed_hello(const hello_watch_t *w, int32_t s, const packet_t *p, const uint8_t *b) {
  size_t end;
  tls_hello_t h;
  if ((p->tcp_flags & TCP_SYN) || !one_record_hello(w, b, p->cap_payload, &end) || tls_hello_parse(b, 9, end, 0, &h)) return 0;
  w->held[s] = HW_HELD_IN_C; /* with no record: no metadata, and the report counted at the flow's end */
  w->reports[s] = HW_REPORT_TLS_MALFORMED;
  w->state[s] = HW_IDLE;
  return 1;
}

int hw_resume_in_place(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b) {
  if ((p->tcp_flags & TCP_SYN) || w->held[s] != 0) return 0;
  tls_hello_t h;
  if (!record_hello(w, b, p->cap_payload, &h)) return 0;
  uint32_t c = w->isn[s];
  uint32_t packets = (c & 0xffff) + 1, payloads = (c >> 16) + 1;
  uint8_t state = hw_budget_spent(w, packets, payloads) ? HW_IDLE : (uint8_t)(HW_RESUMED_SERVER + dir);
  if (!hw_keep(w, s, hello_rec_new(&h, 't'), 0, state)) return 0;
  w->isn[s] = payloads << 16 | packets;
  w->reports[s] = 0;
  return 1;
}

int hw_resumed_packet(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b) {
  uint32_t c = w->isn[s];
  uint32_t packets = (c & 0xffff) + 1, payloads = (c >> 16) + (p->cap_payload > 0);
  w->isn[s] = payloads << 16 | packets;
  /* serverData: a server segment opening a whole ServerHello gives the version, and the reader is done. */
  if (p->cap_payload > 0 && dir != w->state[s] - HW_RESUMED_SERVER && hw_whole_server_hello(b, p->cap_payload)) {
    int32_t v = hw_server_version(b, p->cap_payload);
    if (v >= 0) {
      w->server_version[s] = (uint32_t)v + 1;
      w->state[s] = HW_IDLE;
      return HW_SKIP;
    }
    w->reports[s] |= HW_REPORT_TLS_MALFORMED;
  }
  if (hw_budget_spent(w, packets, payloads)) w->state[s] = HW_IDLE; /* its hello read: nothing to report */
  return HW_SKIP;
}
