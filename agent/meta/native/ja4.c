/*
 * JA4 in C, byte for byte what agent/meta/ja4.ts's ja4() returns (its comment
 * gives the definition; test/meta/hello-native.test.ts compares the two).
 *
 * Why here: in JavaScript the fingerprint cost filtering, sorting, hex
 * formatting and two SHA-256 per flow, plus the garbage of all of it. SHA-256
 * is OpenSSL's, as exported by the node binary itself (Node 20 bundles
 * OpenSSL 3.0 and exports its symbols for addons), so nothing else is linked.
 * The low-level SHA256_Init/Update/Final, deprecated in 3.0 but exported: the
 * one-shot SHA256() of 3.0 fetches the algorithm from a provider by name on
 * every call, which made it cost a microsecond more per hash than the hash.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "ja4.h"
#include "ja4_cache.h"

/* Lists up to this many values are sorted and formatted on the stack; real hellos have a few dozen. */
#define STACK_VALUES 256

static const char HEX[] = "0123456789abcdef";
static const char EMPTY_HASH[12] = {'0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0'};

static const char *version_code(uint16_t v) {
  switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default: return "00";
  }
}

/* ja4VersionValue: numerically highest non-GREASE supported version (not TLS order, see hello.ts), else legacy. */
static uint16_t version_value(const tls_hello_t *h) {
  int best = -1;
  for (size_t i = 0; i + 1 < h->versions.len; i += 2) {
    uint16_t v = th_u16(h->b, h->versions.off + i);
    if (!th_is_grease(v) && v > best) best = v;
  }
  return best < 0 ? h->legacy_version : (uint16_t)best;
}

static int is_alnum(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static void put_count2(char *o, size_t n) {
  if (n > 99) n = 99;
  o[0] = (char)('0' + n / 10);
  o[1] = (char)('0' + n % 10);
}

static char *put_hex4(char *o, uint16_t v) {
  o[0] = HEX[v >> 12];
  o[1] = HEX[(v >> 8) & 0xf];
  o[2] = HEX[(v >> 4) & 0xf];
  o[3] = HEX[v & 0xf];
  return o + 4;
}

/* Comma-separated hex4 values; returns the end of the text. */
static char *put_list(char *o, const uint16_t *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i > 0) *o++ = ',';
    o = put_hex4(o, v[i]);
  }
  return o;
}

/* Shell sort (Ciura's gaps): in place and allocation-free. glibc's qsort is a merge sort that
 * allocates a buffer and copies each 2-byte element through memcpy with an indirect compare:
 * for a 59-cipher hello it took 40% of the whole parse and JA4. The last gap, 1, is an
 * insertion sort, which alone handles the common short lists. */
static void sort_u16(uint16_t *a, size_t n) {
  static const size_t gaps[] = {17961, 7983, 3548, 1577, 701, 301, 132, 57, 23, 10, 4, 1};
  for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
    size_t gap = gaps[g];
    for (size_t i = gap; i < n; i++) {
      uint16_t v = a[i];
      size_t j = i;
      for (; j >= gap && a[j - gap] > v; j -= gap) a[j] = a[j - gap];
      a[j] = v;
    }
  }
}

static void sha12(const char *text, size_t len, char *out) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, text, len);
  SHA256_Final(d, &ctx);
  for (int i = 0; i < 6; i++) {
    out[2 * i] = HEX[d[i] >> 4];
    out[2 * i + 1] = HEX[d[i] & 0xf];
  }
}

/*
 * Part b (values: the ciphers) or c (the extensions, then the signature algorithms) of the
 * fingerprint: the first 12 hex digits of SHA-256 of the sorted list's text, written to out. From
 * this thread's cache (ja4_cache.h) when the same values, as filtered and before sorting, were
 * hashed last: a hit skips the sort, the text and the hash. values is sorted in place on a miss.
 */
static void part_hash(int part, uint16_t *values, size_t n, const uint16_t *sigs, size_t n_sigs, char *text, char *out) {
  /* The key: the count, then the values, then (part c) the signature algorithms; the count keeps
   * the boundary between the two lists in the key. */
  uint16_t key[JA4_CACHE_KEY / 2];
  size_t key_len = 2 * (1 + n + n_sigs);
  ja4_cache_entry_t *e = NULL;
  int hit = 0;
  if (key_len <= JA4_CACHE_KEY) {
    key[0] = (uint16_t)n;
    memcpy(key + 1, values, 2 * n);
    if (n_sigs > 0) memcpy(key + 1 + n, sigs, 2 * n_sigs);
    e = ja4_cache_find(part, key, key_len, &hit);
  }
  if (hit) {
    memcpy(out, e->hash, 12);
    return;
  }
  sort_u16(values, n);
  char *t = put_list(text, values, n);
  if (n_sigs > 0) {
    *t++ = '_';
    t = put_list(t, sigs, n_sigs);
  }
  sha12(text, (size_t)(t - text), out);
  if (e != NULL) ja4_cache_store(e, key, key_len, out);
}

/* Non-GREASE 16-bit values of a span into out; returns how many. */
static size_t filter_grease(const uint8_t *b, th_span_t s, uint16_t *out) {
  size_t n = 0;
  for (size_t i = 0; i + 1 < s.len; i += 2) {
    uint16_t v = th_u16(b, s.off + i);
    if (!th_is_grease(v)) out[n++] = v;
  }
  return n;
}

int ja4_write(char proto, const tls_hello_t *h, char out[JA4_LEN]) {
  const uint8_t *b = h->b;
  size_t max_ciphers = h->ciphers.len / 2, max_exts = h->n_exts, max_sigs = h->sig_algs.len / 2;
  size_t max_text = 5 * (max_ciphers > max_exts + max_sigs ? max_ciphers : max_exts + max_sigs) + 1;
  uint16_t stack_values[3 * STACK_VALUES];
  char stack_text[5 * 2 * STACK_VALUES + 1];
  uint16_t *ciphers = stack_values, *exts = stack_values + STACK_VALUES, *sigs = stack_values + 2 * STACK_VALUES;
  char *text = stack_text;
  void *heap = NULL;
  if (max_ciphers > STACK_VALUES || max_exts > STACK_VALUES || max_sigs > STACK_VALUES) {
    heap = malloc((max_ciphers + max_exts + max_sigs) * sizeof(uint16_t) + max_text);
    if (heap == NULL) return 0;
    ciphers = heap;
    exts = ciphers + max_ciphers;
    sigs = exts + max_exts;
    text = (char *)(sigs + max_sigs);
  }

  size_t n_ciphers = filter_grease(b, h->ciphers, ciphers);
  size_t n_sigs = filter_grease(b, h->sig_algs, sigs);
  /* Extensions: all non-GREASE ones count; SNI and ALPN are left out of the hashed list. */
  size_t n_exts = 0, n_counted = 0;
  int has_sni_ext = 0;
  for (size_t p = h->exts.off, end = h->exts.off + h->exts.len; p < end; p += 4 + th_u16(b, p + 2)) {
    uint16_t type = th_u16(b, p);
    if (th_is_grease(type)) continue;
    n_counted++;
    if (type == 0x0000) has_sni_ext = 1;
    else if (type != 0x0010) exts[n_exts++] = type;
  }

  char *o = out;
  *o++ = proto;
  memcpy(o, version_code(version_value(h)), 2);
  o += 2;
  *o++ = has_sni_ext ? 'd' : 'i';
  put_count2(o, n_ciphers);
  put_count2(o + 2, n_counted);
  o += 4;
  if (!h->has_alpn_first || h->alpn_first.len == 0) {
    o[0] = o[1] = '0';
  } else {
    uint8_t first = b[h->alpn_first.off], last = b[h->alpn_first.off + h->alpn_first.len - 1];
    int alnum = is_alnum(first) && is_alnum(last);
    o[0] = alnum ? (char)first : HEX[first >> 4];
    o[1] = alnum ? (char)last : HEX[last & 0xf];
  }
  o += 2;

  *o++ = '_';
  if (n_ciphers == 0) memcpy(o, EMPTY_HASH, 12);
  else part_hash(0, ciphers, n_ciphers, NULL, 0, text, o);
  o += 12;

  *o++ = '_';
  if (n_exts == 0) memcpy(o, EMPTY_HASH, 12); /* the spec empties part c with the sorted list, whatever the signatures */
  else part_hash(1, exts, n_exts, sigs, n_sigs, text, o);
  free(heap);
  return 1;
}
