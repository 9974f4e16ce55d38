/*
 * The JA4 hashes of the lists hashed last, per thread (ja4.c part_hash). Why: the sort, the text
 * and the two SHA-256 of each hello were a fifth of what the metadata cost the flow meter's
 * thread, and a network's clients send few distinct lists (every client of one browser, library
 * or app version sends the same ones), so most hellos repeat lists already hashed. An entry is
 * found by a cheap hash of its key but answers only for the very same key (compared byte for
 * byte): a colliding or crafted list gets its own SHA-256, never another's. Direct-mapped: a new
 * key takes its slot, so a flood of distinct lists costs what no cache would.
 */
#ifndef ETA_JA4_CACHE_H
#define ETA_JA4_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* Longest key kept, in bytes (a count and 255 16-bit values); longer lists are hashed every time. */
#define JA4_CACHE_KEY 512

typedef struct {
  uint32_t len; /* 0: empty */
  char hash[12];
  uint8_t key[JA4_CACHE_KEY];
} ja4_cache_entry_t;

/*
 * This thread's entry for key[0, len) of part 0 (b) or 1 (c), *hit telling whether it holds that
 * key; NULL when no cache can be had (out of memory): the caller hashes without one.
 */
ja4_cache_entry_t *ja4_cache_find(int part, const void *key, size_t len, int *hit);

/* The entry now answers hash for key[0, len) (len <= JA4_CACHE_KEY). */
void ja4_cache_store(ja4_cache_entry_t *e, const void *key, size_t len, const char hash[12]);

#endif
