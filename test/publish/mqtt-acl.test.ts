/**
 * A topic the broker's ACL denies: Mosquitto 2.0 answers the denied message and closes the
 * connection. The records must stay buffered (nothing counted as delivered, nothing lost), the log
 * must name the ACL, and they must go once the ACL allows them. Found by review: the log named
 * only the packet size.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { startBroker } from './helpers/broker.js';
import { uniqueNames } from './helpers/config.js';
import { openMqttSink } from './helpers/mqtt-sink.js';
import { records } from './helpers/records.js';
import { tempDir } from './helpers/tmp.js';
import { waitUntil } from './helpers/wait.js';

t.test('a topic the ACL denies: records kept, the log names the ACL, and they go once it allows them', async (t) => {
  const { prefix, sensor } = uniqueNames();
  const acl = path.join(tempDir(t), 'acl');
  fs.writeFileSync(acl, `topic readwrite ${prefix}/${sensor}/status\n`); // the status topic only
  const broker = await startBroker(t, { extra: [`acl_file ${acl}`] });
  const { sink, cap } = await openMqttSink(t, broker.url, { prefix, sensor }, 0.2);
  await sink.write(records(0, 10));
  await waitUntil(() => /closed_with_nothing_acknowledged/.test(cap.logs()), 10_000, 'the repeated closes reported');
  t.match(cap.logs(), new RegExp(`"reason":"closed_with_nothing_acknowledged".*allow ${prefix}/${sensor}/flows in the broker's ACL`));
  t.match(sink.stats(), { accepted: 10, delivered: 0, buffered_records: 10 }, 'nothing counted as delivered, nothing lost');
  fs.writeFileSync(acl, `topic readwrite ${prefix}/${sensor}/#\n`);
  await broker.stop();
  await broker.start();
  await waitUntil(() => sink.stats().delivered === 10, 10_000, 'delivery once the ACL allows it');
  t.match(sink.stats(), { delivered: 10, buffered_records: 0 });
});
