/* The hash functions of the flow key and the fragment cache (32-bit, fast, well spread). */
#ifndef ETA_HASH_H
#define ETA_HASH_H

#include <stdint.h>

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

#endif
