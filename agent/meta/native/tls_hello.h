/*
 * A ClientHello body parsed in place: the C twin of agent/meta/hello.ts's
 * parseClientHello, which stays the reference (test/meta/hello-native.test.ts
 * compares the two on every hello the tests and the shared captures hold, and
 * on mutations of them). Nothing is copied: the lists are kept as spans of the
 * caller's bytes, which tls_hello_parse has checked to lie inside [start, end).
 */
#ifndef TLS_HELLO_H
#define TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

/* As hello.ts: ALPN values reported (display only; JA4 reads the first) and SNI length. */
#define TLS_HELLO_MAX_ALPN 16
#define TLS_HELLO_MAX_SNI 255

typedef struct {
  size_t off;
  size_t len;
} th_span_t;

typedef struct {
  const uint8_t *b;
  uint16_t legacy_version;
  /* Cipher suites, 2 bytes each, GREASE included. */
  th_span_t ciphers;
  /* The extensions block's entries [off, off + len): a walk by each entry's length ends exactly at its end. */
  th_span_t exts;
  size_t n_exts;
  /* The first server_name whose host_name is printable ASCII, when has_sni. */
  int has_sni;
  th_span_t sni;
  /* The first ALPN value's raw bytes (possibly empty), when has_alpn_first. */
  int has_alpn_first;
  th_span_t alpn_first;
  /* Up to TLS_HELLO_MAX_ALPN values of the ALPN extension that gave alpn_first. */
  unsigned alpn_count;
  th_span_t alpn[TLS_HELLO_MAX_ALPN];
  /* supported_versions and signature_algorithms lists (the last well-formed extension of each), 2 bytes a value. */
  th_span_t versions;
  th_span_t sig_algs;
} tls_hello_t;

static inline uint16_t th_u16(const uint8_t *b, size_t i) {
  return (uint16_t)((b[i] << 8) | b[i + 1]);
}

/* RFC 8701 GREASE: 0x?a?a with both bytes equal. */
static inline int th_is_grease(uint16_t v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* Parse b[start, end) (the caller guarantees start <= end and b holds them); 0 when malformed, as parseClientHello's null. */
int tls_hello_parse(const uint8_t *b, size_t start, size_t end, int dtls, tls_hello_t *h);

/* highestOffered: the highest non-GREASE supported version by TLS/DTLS order, else legacy_version. */
uint16_t tls_hello_highest(const tls_hello_t *h);

#endif
