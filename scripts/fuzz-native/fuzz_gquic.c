/*
 * gQUIC CHLO read in place (gquic_chlo.c), with the harness writing the correct FNV-1a-128 message
 * hash into the packet (so mutations get past the hash check), as a client would.
 * Input: byte 0 = max_buffer choice {16384, 1500, 65536, 200}, then the datagram.
 */
#include <stdlib.h>
#include <string.h>

#include "../../agent/meta/native/gquic_chlo.h"
#include "../../agent/meta/native/gquic_hash.h"

typedef unsigned __int128 u128;
static u128 fnv(u128 h, const uint8_t *b, size_t n) {
  const u128 prime = ((u128)1 << 88) | 0x13b;
  for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= prime; }
  return h;
}

static int ver(const uint8_t *b) {
  if (b[0] != 'Q' || b[1] != '0' || b[2] < '0' || b[2] > '9' || b[3] < '0' || b[3] > '9') return -1;
  return (b[2] - '0') * 10 + (b[3] - '0');
}

/* Where the message hash sits, as a first client packet lays it out (0: not one). */
static size_t hash_at(const uint8_t *p, size_t len, int *v) {
  static const int PN[4] = {1, 2, 4, 6};
  if (len < 6) return 0;
  size_t pos;
  if ((p[0] & 0x80) == 0) {
    pos = (p[0] & 0x08) ? 9 : 1;
    if (pos + 4 > len) return 0;
    *v = ver(p + pos);
    pos += 4 + PN[(p[0] >> 4) & 3];
  } else {
    *v = ver(p + 1);
    int dcil = p[5] >> 4, scil = p[5] & 0xf;
    pos = 6 + (dcil ? dcil + 3 : 0) + (scil ? scil + 3 : 0) + (p[0] & 3) + 1;
  }
  return pos + GQUIC_HASH_LEN <= len ? pos : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const double MAXB[4] = {16384, 1500, 65536, 200};
  if (size < 1) return 0;
  double max_buffer = MAXB[data[0] & 3];
  size_t n = size - 1;
  uint8_t *p = malloc(n ? n : 1);
  memcpy(p, data + 1, n);
  int v = -1;
  size_t at = hash_at(p, n, &v);
  if (at) {
    static const uint8_t client[] = {'C', 'l', 'i', 'e', 'n', 't'};
    u128 h = ((u128)0x6c62272e07bb0142u << 64) | 0x62b821756295c58du;
    h = fnv(h, p, at);
    h = fnv(h, p + at + GQUIC_HASH_LEN, n - at - GQUIC_HASH_LEN);
    if (v > 35) h = fnv(h, client, sizeof client);
    for (int i = 0; i < GQUIC_HASH_LEN; i++) p[at + i] = (uint8_t)(h >> (8 * i));
  }
  gquic_chlo_t c;
  if (gquic_chlo_read(p, n, max_buffer, &c) && c.has_sni) {
    volatile uint8_t s = 0;
    for (size_t i = 0; i < c.sni_len; i++) s += c.sni[i];
  }
  free(p);
  return 0;
}
