/*
 * The ClientHello parser of tls_hello.h, without Node-API: the tls_hello addon (JavaScript's
 * readers) and the flow core (hellos read in place, hello_watch.c) both link it.
 *
 * The bytes are untrusted: every read is checked against [start, end).
 */
#include <string.h>

#include "tls_hello.h"

#define EXT_SNI 0x0000
#define EXT_SIG_ALGS 0x000d
#define EXT_ALPN 0x0010
#define EXT_SUPPORTED_VERSIONS 0x002b

/* readSni: the first host_name entry decides; null when it is not printable ASCII (asciiName). */
static void read_sni(const uint8_t *b, size_t s, size_t e, tls_hello_t *h) {
  if (s + 2 > e) return;
  size_t list_end = s + 2 + th_u16(b, s);
  if (list_end > e) list_end = e;
  for (size_t p = s + 2; p + 3 <= list_end;) {
    size_t name_end = p + 3 + th_u16(b, p + 1);
    if (name_end > list_end) return;
    if (b[p] == 0) {
      size_t n = name_end - (p + 3);
      if (n == 0 || n > TLS_HELLO_MAX_SNI) return;
      for (size_t i = p + 3; i < name_end; i++) if (b[i] < 0x21 || b[i] > 0x7e) return;
      h->has_sni = 1;
      h->sni.off = p + 3;
      h->sni.len = n;
      return;
    }
    p = name_end;
  }
}

/* readAlpn: values until one overruns the list; only the first extension that yields a value counts. */
static void read_alpn(const uint8_t *b, size_t s, size_t e, tls_hello_t *h) {
  if (s + 2 > e || h->has_alpn_first) return;
  size_t list_end = s + 2 + th_u16(b, s);
  if (list_end > e) list_end = e;
  for (size_t p = s + 2; p < list_end;) {
    size_t v_end = p + 1 + b[p];
    if (v_end > list_end) return;
    th_span_t v = {p + 1, v_end - (p + 1)};
    if (!h->has_alpn_first) {
      h->has_alpn_first = 1;
      h->alpn_first = v;
    }
    if (h->alpn_count < TLS_HELLO_MAX_ALPN) h->alpn[h->alpn_count++] = v;
    p = v_end;
  }
}

int tls_hello_parse(const uint8_t *b, size_t start, size_t end, int dtls, tls_hello_t *h) {
  memset(h, 0, sizeof *h);
  h->b = b;
  size_t p = start + 2 + 32;
  if (start > end || p + 1 > end) return 0;
  h->legacy_version = th_u16(b, start);
  p += 1 + (size_t)b[p]; /* session id */
  if (dtls) {
    if (p + 1 > end) return 0;
    p += 1 + (size_t)b[p]; /* cookie */
  }
  if (p + 2 > end) return 0;
  size_t cipher_len = th_u16(b, p);
  p += 2;
  if (cipher_len % 2 != 0 || p + cipher_len > end) return 0;
  h->ciphers.off = p;
  h->ciphers.len = cipher_len;
  p += cipher_len;
  if (p + 1 > end) return 0;
  p += 1 + (size_t)b[p]; /* compression methods */
  if (p > end) return 0;
  if (p == end) return 1; /* SSL 3.0 / early TLS: no extensions block */
  if (p + 2 > end) return 0;
  size_t ext_end = p + 2 + th_u16(b, p);
  p += 2;
  if (ext_end > end) return 0;
  h->exts.off = p;
  h->exts.len = ext_end - p;
  while (p < ext_end) {
    if (p + 4 > ext_end) return 0;
    uint16_t type = th_u16(b, p);
    size_t len = th_u16(b, p + 2);
    size_t s = p + 4, e = s + len;
    if (e > ext_end) return 0;
    h->n_exts++;
    if (type == EXT_SNI) {
      if (!h->has_sni) read_sni(b, s, e, h);
    } else if (type == EXT_ALPN) {
      read_alpn(b, s, e, h);
    } else if (type == EXT_SUPPORTED_VERSIONS && len >= 1 && s + 1 + b[s] <= e) {
      h->versions.off = s + 1;
      h->versions.len = b[s];
    } else if (type == EXT_SIG_ALGS && len >= 2 && s + 2 + th_u16(b, s) <= e) {
      h->sig_algs.off = s + 2;
      h->sig_algs.len = th_u16(b, s);
    }
    p = e;
  }
  return 1;
}

/* hello.ts's versionRank times 256, so that TLS 1.3 drafts (0x7fXX) rank in integers between 1.2 and 1.3. */
static uint32_t version_rank(uint16_t v) {
  if (v >= 0xfe00) return (0x10000u + (0xffffu - v)) << 8;
  if ((v >> 8) == 0x7f) return (0x0303u << 8) + (v & 0xffu);
  return (uint32_t)v << 8;
}

uint16_t tls_hello_highest(const tls_hello_t *h) {
  int found = 0;
  uint16_t best = 0;
  for (size_t i = 0; i + 1 < h->versions.len; i += 2) {
    uint16_t v = th_u16(h->b, h->versions.off + i);
    if (!th_is_grease(v) && (!found || version_rank(v) > version_rank(best))) {
      best = v;
      found = 1;
    }
  }
  return found ? best : h->legacy_version;
}
