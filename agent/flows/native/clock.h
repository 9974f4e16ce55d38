/*
 * Where a timestamp puts the flow table's clock (table.c's table_advance). The clock never goes
 * back: a packet behind it is placed at it.
 *
 * A packet far behind the last one (more than CLOCK_JUMP) starts a new time base (concatenated
 * captures, a clock set back), continued from where the clock was: but only once the next packet
 * is far behind too. One such packet alone is a bad timestamp (a zeroed ts_sec, a glitch): it is
 * held at the clock and counted (ST_CLOCK_HELD). Rebasing on it made the next good packet jump
 * ahead by the whole offset, which ended every open flow as idle (found by review: one packet
 * stamped 1970 cut a 20 ms-spaced UDP flow in two).
 *
 * Behind only the timer's ticks (a live capture that lagged), the clock holds: rebasing there
 * put every flow's idle time ahead for good.
 */
#ifndef ETA_CLOCK_H
#define ETA_CLOCK_H

#include "table.h"

#define CLOCK_JUMP 1e6

static inline double clock_place(table_t *t, double ts, int packet) {
  double m = ts + t->offset;
  if (!t->started) {
    t->started = 1;
    t->clock = t->last_packet = m;
    return m;
  }
  int far = packet && t->last_packet - m > CLOCK_JUMP;
  if (far && t->held_base > 0) {
    /* The second in a row: the first began a new time base, from where the clock was then. */
    t->offset += t->held_base;
    m = ts + t->offset;
    t->stats[ST_CLOCK_JUMPS]++;
    t->stats[ST_CLOCK_HELD]--;
    t->held_base = 0;
  } else if (far) {
    t->held_base = t->clock - m;
    t->stats[ST_CLOCK_HELD]++;
  } else if (packet) {
    t->held_base = 0;
  }
  return m < t->clock ? t->clock : m;
}

#endif
