/*
 * See gquic_hash.h. Why C: in JavaScript, with the 128-bit product spread over eight 16-bit
 * limbs, the hash cost ~10 us per 1,350-byte packet once V8 had compiled it, several times
 * that before, and it was the largest share of a gQUIC flow's cost; with a 128-bit integer it
 * is a multiply per byte.
 */
#include "gquic_hash.h"

typedef unsigned __int128 u128;

static u128 fnv(u128 h, const uint8_t *b, size_t n) {
  const u128 prime = ((u128)1 << 88) | 0x13b;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= prime;
  }
  return h;
}

int gquic_client_hash_matches(const uint8_t *p, size_t len, size_t hash_off, int with_perspective) {
  if (hash_off > len || len - hash_off < GQUIC_HASH_LEN) return 0;
  static const uint8_t client[] = {'C', 'l', 'i', 'e', 'n', 't'};
  u128 h = ((u128)0x6c62272e07bb0142u << 64) | 0x62b821756295c58du;
  h = fnv(h, p, hash_off);
  h = fnv(h, p + hash_off + GQUIC_HASH_LEN, len - hash_off - GQUIC_HASH_LEN);
  if (with_perspective) h = fnv(h, client, sizeof client);
  for (int i = 0; i < GQUIC_HASH_LEN; i++) {
    if (p[hash_off + i] != (uint8_t)(h >> (8 * i))) return 0;
  }
  return 1;
}
