/* See ja4_cache.h. */
#include "ja4_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Entries per part: a few hundred clients' lists. */
#define SLOTS 256

/* One per thread (a pthread key frees it when its thread ends): the addon runs in worker threads too. */
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_key_ok;

static void cache_key_make(void) {
  cache_key_ok = pthread_key_create(&cache_key, free) == 0;
}

/* This thread's 2 x SLOTS entries, made on first use; NULL when they cannot be. */
static ja4_cache_entry_t *cache_get(void) {
  pthread_once(&cache_once, cache_key_make);
  if (!cache_key_ok) return NULL;
  ja4_cache_entry_t *c = pthread_getspecific(cache_key);
  if (c == NULL && (c = calloc(2 * SLOTS, sizeof *c)) != NULL && pthread_setspecific(cache_key, c) != 0) {
    free(c);
    c = NULL;
  }
  return c;
}

/* FNV-1a over 8-byte words, to pick a slot (not to decide a match). */
static size_t slot_of(const uint8_t *k, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, k + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < n; i++) h = (h ^ k[i]) * 0x100000001b3ull;
  return (size_t)(h ^ (h >> 32)) & (SLOTS - 1);
}

ja4_cache_entry_t *ja4_cache_find(int part, const void *key, size_t len, int *hit) {
  *hit = 0;
  ja4_cache_entry_t *c = len > 0 && len <= JA4_CACHE_KEY ? cache_get() : NULL;
  if (c == NULL) return NULL;
  ja4_cache_entry_t *e = &c[(part ? SLOTS : 0) + slot_of(key, len)];
  *hit = e->len == len && memcmp(e->key, key, len) == 0;
  return e;
}

void ja4_cache_store(ja4_cache_entry_t *e, const void *key, size_t len, const char hash[12]) {
  memcpy(e->hash, hash, 12);
  memcpy(e->key, key, len);
  e->len = (uint32_t)len;
}
