/**
 * The date part of ISO 8601 timestamps, formatted once per UTC day. Records carry two
 * timestamps each, and flows end out of the order they began in, so a cache of the last
 * second (what the formatters kept before) missed for most first_ts values: a Date and its
 * toISOString() per timestamp, a few per cent of replay's main thread. Time of day is
 * digits from tables.
 */

/** "00".."99", for hours, minutes and seconds. */
export const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
/** "000".."999", for the microseconds in two halves. */
export const THREE_DIGITS: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

export class IsoDay {
  private day = NaN;
  /** "YYYY-MM-DDT" of `day`, or '' when that day has no four-digit year (or is no valid date). */
  private prefix = '';

  /**
   * "YYYY-MM-DDT" of the UTC day holding `sec` (seconds since the epoch), or '' when the date
   * is invalid or its year is outside 0000-9999 (toISOString's six-digit years; callers fall
   * back to toISOString for those).
   */
  of(sec: number): string {
    const day = Math.floor(sec / 86400);
    if (day !== this.day) {
      const d = new Date(day * 86_400_000);
      const iso = Number.isNaN(d.getTime()) ? '' : d.toISOString();
      this.prefix = iso.length === 24 ? iso.slice(0, 11) : '';
      this.day = day;
    }
    return this.prefix;
  }
}
