/* Committing memory up front (table.c's index). */
#ifndef ETA_PAGES_H
#define ETA_PAGES_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes to every page of a fresh zeroed block now. Why: the index is probed at random, so its
 * pages were first read (mapping the kernel's zero page) and written later, a copy-on-write
 * fault whose TLB flush interrupts every CPU the threads ran on: ~5% of the flow meter's thread
 * on a 2-core VM. Through volatile so the compiler keeps the stores of zero.
 */
static inline void populate(void *p, size_t len) {
  volatile uint8_t *b = p;
  for (size_t i = 0; i < len; i += 4096) b[i] = 0;
}

#endif
