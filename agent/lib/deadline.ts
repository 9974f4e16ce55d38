/**
 * A timer's delay until `deadline` (ms since the epoch): never negative, and at most 2^31 - 1 ms
 * (about 24.8 days), since setTimeout fires at once for anything longer (a `--wait` of a month
 * would otherwise not wait at all).
 */
export function msUntil(deadline: number): number {
  return Math.min(Math.max(0, deadline - Date.now()), 2 ** 31 - 1);
}
