/* What quic-keys.ts hands the C for each QUIC version, built here for the harnesses: a hex salt's
 * bytes and the HKDF label infos ("tls13 " + prefix + " key" | " iv" | " hp"). */
#ifndef FUZZ_QUIC_LABELS_H
#define FUZZ_QUIC_LABELS_H
#include <stdint.h>
#include <string.h>

static inline int hexval(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

static inline size_t label_info(uint8_t *o, const char *prefix, const char *what, int length) {
  char full[64];
  size_t n = 0;
  const char *parts[3] = {"tls13 ", prefix, what};
  for (int i = 0; i < 3; i++) for (const char *c = parts[i]; *c; c++) full[n++] = *c;
  o[0] = (uint8_t)(length >> 8);
  o[1] = (uint8_t)length;
  o[2] = (uint8_t)n;
  memcpy(o + 3, full, n);
  o[3 + n] = 0;
  o[4 + n] = 1;
  return 5 + n;
}
#endif
