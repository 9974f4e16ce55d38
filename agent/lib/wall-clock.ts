/**
 * µs since the epoch from the wall clock, the one the kernel stamps live packets with. Not
 * performance.timeOrigin + now(): that is monotonic from the start, and after the wall clock was
 * stepped ahead (a gateway's first NTP sync after the agent started) or a pause of the machine,
 * its ticks stayed behind the packets' times and idle flows of a quiet link never ended (found by review).
 */
export function wallMicros(): number {
  return Date.now() * 1000;
}
