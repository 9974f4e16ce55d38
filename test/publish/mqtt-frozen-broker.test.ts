/**
 * A broker that keeps the connection but stops answering (here: SIGSTOP) when the sink closes:
 * close() must return by its deadline and leave nothing that holds the process (socket,
 * keepalive timer). mqtt.js ignores a forced end() once a clean one waits for acknowledgements,
 * so the agent stopped only when the keepalive gave up, 30 to 40 s later, past systemd's stop
 * timeout. The records not acknowledged stay in the disk buffer.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createTelemetry } from '../../agent/events.js';
import { createSink } from '../../agent/publish/index.js';
import { startBroker } from './helpers/broker.js';
import { publishConfig, uniqueNames } from './helpers/config.js';
import { records } from './helpers/records.js';
import { tempDir } from './helpers/tmp.js';

t.test('close() returns by its deadline when the broker stopped answering', async (t) => {
  const broker = await startBroker(t);
  t.teardown(() => broker.thaw());
  const { prefix, sensor } = uniqueNames();
  const config = publishConfig({ sink: 'mqtt', sensor_id: sensor, topic_prefix: prefix, mqtt: { url: broker.url, keepalive: 30 }, buffer: { dir: tempDir(t) } });
  const sink = await createSink(config, createTelemetry());
  await sink.open();
  for (let i = 0; i < 50 && !sink.stats().connected; i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(sink.stats().connected, 'connected');
  broker.freeze();
  await sink.write(records(0, 20, 'f', 200));
  const started = Date.now();
  await sink.close(2000);
  const took = Date.now() - started;
  t.ok(took < 3500, `close(2000) took ${took} ms`);
  t.ok(sink.stats().buffered_records > 0, 'the records not acknowledged stay buffered');
});

t.test('and nothing holds the process after it (checked in a process of its own)', async (t) => {
  const broker = await startBroker(t);
  t.teardown(() => broker.thaw());
  const script = `
    const { createTelemetry } = await import(${JSON.stringify(new URL('../../agent/events.js', import.meta.url).href)});
    const { createSink } = await import(${JSON.stringify(new URL('../../agent/publish/index.js', import.meta.url).href)});
    const { publishConfig } = await import(${JSON.stringify(new URL('./helpers/config.js', import.meta.url).href)});
    const { records } = await import(${JSON.stringify(new URL('./helpers/records.js', import.meta.url).href)});
    const sink = await createSink(publishConfig({ sink: 'mqtt', sensor_id: 'frozen', topic_prefix: 'eta-frozen', mqtt: { url: ${JSON.stringify(broker.url)}, keepalive: 30 },
      buffer: { dir: ${JSON.stringify(tempDir(t))} } }), createTelemetry());
    await sink.open();
    for (let i = 0; i < 50 && !sink.stats().connected; i++) await new Promise((r) => setTimeout(r, 50));
    process.send('connected');
    await new Promise((r) => process.once('message', r));
    await sink.write(records(0, 20, 'f', 200));
    await sink.close(1000);
    process.disconnect();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r) => child.once('message', r));
  broker.freeze();
  const started = Date.now();
  child.send('go');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearTimeout(timer);
  const took = Date.now() - started;
  t.equal(code, 0);
  t.ok(took < 4000, `the process ended ${took} ms after close(1000) began`);
});
