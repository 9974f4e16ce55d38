/*
 * A QUIC ClientHello over the client's first two Initials (Chrome's post-quantum key share makes
 * it ~1.8 KB, past one packet): C keeps the first datagram, whose hello goes on
 * (quic_initial.c QI_HELLO_GOES_ON), and reads the two together when the next one comes
 * (qi_read_two), as quic.ts reads them. Why: those flows (30 per million packets of the benchmark
 * capture, more on live traffic) were the largest case left to an inspector in JavaScript.
 * Anything else at the next packet (the server first, another DCID, a third Initial needed, a
 * hello without TLS 1.3, a malformed packet) hands the flow back: JavaScript's reader gets the
 * kept datagram (takeSplit), then that packet, and so reads every packet as it would have.
 */
#include <stdlib.h>
#include <string.h>

#include "hello_watch.h"

void hw_quic_ready(hello_watch_t *w) {
  memset(w->quic_first, 0, sizeof w->quic_first);
  for (size_t i = 0; i < w->n_quic; i++) {
    hw_quic_t *q = &w->quic[i];
    quic_hmac_init(&q->v.salt, q->info[0].b, q->info[0].len);
    w->quic_first[q->v.wire >> 29] |= 1u << (q->v.wire >> 24 & 31);
  }
}

/* The first byte's bit first: most UDP payloads with the high bit set are not QUIC (DNS ids, RTP,
 * games) and have none of the few first bytes (00, 6b, ff, fa, 51, 54), so they are told without
 * walking the list (callgrind, 1M packets: 23,510 calls, 3.1M instructions before). */
const hw_quic_t *hw_quic_version(const hello_watch_t *w, uint32_t wire) {
  if ((w->quic_first[wire >> 29] >> (wire >> 24 & 31) & 1) == 0) return NULL;
  for (size_t i = 0; i < w->n_quic; i++) if (w->quic[i].v.wire == wire) return &w->quic[i];
  return NULL;
}

int hw_quic_split_start(const hello_watch_t *w, int32_t s, int dir, const uint8_t *b, int64_t len, uint32_t wire) {
  /* A budget of one packet would end the reader at this one, its hello incomplete (it reports that).
   * A datagram over max_buffer is not kept whole (found by review: 60 KB Initials holding 100 bytes
   * of a hello cost 57 KB per flow): the reader keeps only its CRYPTO bytes, within max_buffer. */
  if (w->max_packets <= 1 || len > 65535 || (double)len > w->max_buffer) return 0;
  if (*w->kept >= w->max_kept && w->slot[s].first == NULL) return 0; /* at the bound: the reader's (hello_watch.h) */
  hw_first_t *f = malloc(sizeof *f + (size_t)len);
  if (f == NULL) return 0;
  f->len = (uint32_t)len;
  f->dir = (uint8_t)dir;
  f->wire = wire;
  memcpy(f->data, b, (size_t)len);
  if (w->slot[s].first == NULL) (*w->kept)++;
  free(w->slot[s].first);
  w->slot[s].first = f;
  w->owned[s] = 1;
  w->state[s] = HW_QUIC_SPLIT;
  return 1;
}

int hw_quic_split_packet(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b) {
  hw_first_t *f = w->slot[s].first;
  const hw_quic_t *q = f == NULL ? NULL : hw_quic_version(w, f->wire);
  tls_hello_t h;
  if (q != NULL && p->cap_payload > 0 && dir == f->dir &&
      qi_read_two(w->qi, f->data, f->len, b, (size_t)p->cap_payload, &q->v, q->info, w->max_buffer, &h) && tls_hello_highest(&h) == 0x0304) {
    hello_rec_t *r = hello_rec_new(&h, 'q');
    if (r != NULL) {
      hw_quic_split_drop(w, s);
      hw_keep(w, s, r, q->v.wire, HW_IDLE);
      return HW_SKIP;
    }
  }
  w->state[s] = HW_INSPECTING;
  return HW_QUIC_BACK; /* takeSplit hands JavaScript the kept datagram (none only if it could not be kept) */
}

void hw_quic_split_drop(const hello_watch_t *w, int32_t s) {
  if (w->slot[s].first != NULL) (*w->kept)--;
  free(w->slot[s].first);
  w->slot[s].first = NULL;
}
