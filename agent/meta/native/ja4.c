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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ja4.h"

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

/*
 * The hashes of the lists hashed last. Why: the two SHA-256 were a fifth of what the metadata cost
 * the flow meter's thread, and a network's clients send few distinct lists (every client of one
 * browser, library or app version sends the same ones), so most hellos repeat a list already
 * hashed. An entry is found by a cheap hash of the text but answers only for the very same text
 * (compared byte for byte): a colliding or crafted list gets its own SHA-256, never another's.
 * Direct-mapped: a new text takes its slot; a flood of distinct lists costs what no cache would.
 * One per thread (a pthread key frees it when its thread ends): the addon runs in worker threads too.
 */
#define CACHE_SLOTS 256
#define CACHE_TEXT 512 /* longer texts (over ~100 values) are hashed each time */

typedef struct {
  uint32_t len; /* 0: empty */
  char hash[12];
  char text[CACHE_TEXT];
} cache_entry_t;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_key_ok;

static void cache_key_make(void) {
  cache_key_ok = pthread_key_create(&cache_key, free) == 0;
}

/* This thread's cache, made on first use; NULL when it cannot be (then every text is hashed). */
static cache_entry_t *cache_get(void) {
  pthread_once(&cache_once, cache_key_make);
  if (!cache_key_ok) return NULL;
  cache_entry_t *c = pthread_getspecific(cache_key);
  if (c == NULL && (c = calloc(CACHE_SLOTS, sizeof *c)) != NULL && pthread_setspecific(cache_key, c) != 0) {
    free(c);
    c = NULL;
  }
  return c;
}

/* FNV-1a over 8-byte words, to pick a slot (not to decide a match). */
static size_t cache_slot(const char *t, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, t + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < n; i++) h = (h ^ (uint8_t)t[i]) * 0x100000001b3ull;
  return (size_t)(h ^ (h >> 32)) & (CACHE_SLOTS - 1);
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

/* The first 12 hex digits of SHA-256(text), from this thread's cache when it holds that text. */
static void hash12(const char *text, size_t len, char *out) {
  cache_entry_t *c = len > 0 && len <= CACHE_TEXT ? cache_get() : NULL;
  if (c == NULL) {
    sha12(text, len, out);
    return;
  }
  cache_entry_t *e = &c[cache_slot(text, len)];
  if (e->len != len || memcmp(e->text, text, len) != 0) {
    sha12(text, len, e->hash);
    memcpy(e->text, text, len);
    e->len = (uint32_t)len;
  }
  memcpy(out, e->hash, 12);
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
  if (n_ciphers == 0) {
    memcpy(o, EMPTY_HASH, 12);
  } else {
    sort_u16(ciphers, n_ciphers);
    hash12(text, (size_t)(put_list(text, ciphers, n_ciphers) - text), o);
  }
  o += 12;

  *o++ = '_';
  if (n_exts == 0) {
    memcpy(o, EMPTY_HASH, 12); /* the spec empties part c with the sorted list, whatever the signatures */
  } else {
    sort_u16(exts, n_exts);
    char *t = put_list(text, exts, n_exts);
    if (n_sigs > 0) {
      *t++ = '_';
      t = put_list(t, sigs, n_sigs);
    }
    hash12(text, (size_t)(t - text), o);
  }
  free(heap);
  return 1;
}
