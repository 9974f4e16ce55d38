/** Timer delays to a deadline: clamped where setTimeout would otherwise fire at once. */
import t from 'tap';
import { msUntil } from '../../agent/lib/deadline.js';

t.test('msUntil: never negative, never beyond what setTimeout honours', async (t) => {
  t.equal(msUntil(Date.now() - 5_000), 0, 'a past deadline: now');
  const soon = msUntil(Date.now() + 1_000);
  t.ok(soon > 900 && soon <= 1_000, `1 s ahead: ${soon} ms`);
  t.equal(msUntil(Date.now() + 40 * 86_400_000), 2 ** 31 - 1, '40 days ahead: the longest delay a timer takes');
  // What the clamp is for: beyond it node warns and fires after 1 ms.
  const fired = await new Promise<number>((resolve) => {
    const start = Date.now();
    const timer = setTimeout(() => resolve(Date.now() - start), msUntil(Date.now() + 40 * 86_400_000));
    setTimeout(() => { clearTimeout(timer); resolve(-1); }, 200);
  });
  t.equal(fired, -1, 'the clamped timer is still pending after 200 ms');
});
