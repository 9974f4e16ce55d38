/**
 * The stats timer: to the sink's stats topic, or to the log where the sink has none (stdout,
 * file) or cannot take them now. Found by review: with those sinks `publish.stats_interval` did
 * nothing, and an operator saw no counter until the stop.
 */
import t from 'tap';
import { NoneSink, startStatsTimer } from '../../agent/publish/index.js';
import { capturingTelemetry } from './helpers/telemetry.js';

t.test('a sink without a stats topic: the stats are logged at info every interval', async (t) => {
  const cap = capturingTelemetry();
  const stop = startStatsTimer(new NoneSink(cap.t), 0.05, () => ({ flows: { active: 7 } }), cap.t);
  const count = (): number => cap.logs().split('\n').filter((l) => l.includes('"msg":"stats"')).length;
  // Until two ticks came, on a loaded machine too (within 5 s).
  for (let i = 0; i < 250 && count() < 2; i++) await new Promise((r) => setTimeout(r, 20));
  stop();
  const lines = cap.logs().split('\n').filter((l) => l.includes('"msg":"stats"')).map((l) => JSON.parse(l) as { level: number; stats: unknown });
  t.ok(lines.length >= 2, `${lines.length} stats lines`);
  t.match(lines[0], { level: 30, stats: { flows: { active: 7 } } });
  const after = lines.length;
  await new Promise((r) => setTimeout(r, 120));
  t.equal(cap.logs().split('\n').filter((l) => l.includes('"msg":"stats"')).length, after, 'none after stop()');
});

t.test('a sink that publishes them: nothing logged', async (t) => {
  const cap = capturingTelemetry();
  const sink = Object.assign(new NoneSink(cap.t), { publishStats: () => true });
  const stop = startStatsTimer(sink, 0.05, () => ({}), cap.t);
  await new Promise((r) => setTimeout(r, 150));
  stop();
  t.notMatch(cap.logs(), /"msg":"stats"/);
});
