/* Big- and little-endian reads for the decoders (decode.c, link.c); callers check bounds first. */
#ifndef ETA_BYTES_H
#define ETA_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t u16(const uint8_t *b, size_t o) { return ((uint32_t)b[o] << 8) | b[o + 1]; }
static inline uint32_t u32(const uint8_t *b, size_t o) {
  return ((uint32_t)b[o] << 24) | ((uint32_t)b[o + 1] << 16) | ((uint32_t)b[o + 2] << 8) | b[o + 3];
}
static inline uint32_t u16le(const uint8_t *b, size_t o) { return b[o] | ((uint32_t)b[o + 1] << 8); }
static inline uint32_t u32le(const uint8_t *b, size_t o) {
  return b[o] | ((uint32_t)b[o + 1] << 8) | ((uint32_t)b[o + 2] << 16) | ((uint32_t)b[o + 3] << 24);
}

#endif
