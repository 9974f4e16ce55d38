/**
 * Broker outages lose nothing: stop a private Mosquitto while 10k records are being
 * published, restart it, and count that every record arrived (duplicates allowed).
 * The broker keeps the subscriber's session across its restart (persistence on, clean stop),
 * so what the broker acknowledged reaches the subscriber even if it was queued at shutdown:
 * any loss measured here is the publisher's.
 */
import t from 'tap';
import { startBroker } from './helpers/broker.js';
import { uniqueNames } from './helpers/config.js';
import { runPublisher } from './helpers/publisher.js';
import { audit, seqsOf } from './helpers/records.js';
import { subscribe } from './helpers/subscriber.js';
import { tempDir } from './helpers/tmp.js';

const N = 10_000;

t.test('stop and restart the broker mid-stream: every record arrives', async (t) => {
  const broker = await startBroker(t, { persistence: true });
  const { prefix, sensor } = uniqueNames();
  const flows = `${prefix}/${sensor}/flows`;
  const sub = await subscribe(t, broker.url, flows, { clientId: `sub-${sensor}`, clean: false });
  // Parsed as they arrive: the wait below checks after every message.
  const all: number[] = [];
  const unique = new Set<number>();
  sub.client.on('message', (_topic, payload) => { for (const s of seqsOf(payload)) { all.push(s); unique.add(s); } });
  const seqs = (): number[] => all;
  const pub = runPublisher(t, {
    config: { sink: 'mqtt', sensor_id: sensor, topic_prefix: prefix, mqtt: { url: broker.url, reconnect_period: 0.2 }, buffer: { dir: tempDir(t) } },
    from: 0, count: N, batch: 50, pauseMs: 5,
  });
  await sub.waitFor(() => sub.messages.length >= 2000, 15_000, '2000 records before the outage');
  await broker.stop();
  const atStop = pub.written();
  await pub.waitFor((e) => e.kind === 'written' && e.upTo >= Math.min(N, atStop + 2000), 10_000, 'writes during the outage');
  t.ok(pub.written() > atStop, `write() kept resolving with the broker down (${atStop} -> ${pub.written()})`);
  await broker.start();
  try {
    await sub.waitFor(() => unique.size >= N, 20_000, `all ${N} records`);
  } catch (err) {
    if (pub.child.connected) pub.child.send('stats');
    await new Promise((r) => setTimeout(r, 300));
    t.comment(`publisher exit: ${pub.child.exitCode} ${pub.child.signalCode}`);
    t.comment(JSON.stringify(pub.events.filter((e) => e.kind === 'stats')), pub.stderr().slice(-3000));
    t.comment(broker.log().split('\n').filter((l) => !/PUBLISH|PUBACK/.test(l)).slice(-30).join('\n'));
    t.comment(`missing: ${audit(seqs(), N).missing.slice(0, 20).join(',')} (${audit(seqs(), N).missing.length})`);
    throw err;
  }
  const a = audit(seqs(), N);
  t.same(a.missing, [], 'no record lost');
  t.ok(a.firstSeenInOrder, 'first deliveries in order');
  t.comment(`duplicates after the restart: ${a.duplicates}`);
  const stats = await pub.close();
  t.match(stats, { accepted: N, delivered: N, buffered_records: 0 });
  t.ok((stats['reconnects'] as number) >= 1, 'reconnected');
  t.same(Object.values(stats['dropped'] as Record<string, number>).filter((n) => n > 0), [], 'nothing dropped');
});
