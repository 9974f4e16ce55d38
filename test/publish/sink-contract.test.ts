/** The sink contract against stdout (a real stream), file, none, and MQTT at each QoS and batching. */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import t from 'tap';
import { createTelemetry } from '../../agent/events.js';
import { FileSink, NoneSink, StreamSink, createSink } from '../../agent/publish/index.js';
import { SHARED_BROKER } from './helpers/broker.js';
import { publishConfig, uniqueNames } from './helpers/config.js';
import { records, seqsOf } from './helpers/records.js';
import { clearRetained } from './helpers/retained.js';
import { subscribe } from './helpers/subscriber.js';
import { tempDir } from './helpers/tmp.js';
import { sinkContract } from './sink-suite.js';

const linesToSeqs = (text: string): number[] => text.split('\n').filter(Boolean).flatMap((l) => seqsOf(l));

sinkContract(t, 'stdout', {
  async make() {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => { text += d.toString(); });
    return { sink: new StreamSink(createTelemetry(), out), received: async () => linesToSeqs(text) };
  },
});

sinkContract(t, 'file', {
  async make(t) {
    const file = path.join(tempDir(t), 'flows.jsonl');
    return { sink: new FileSink(createTelemetry(), file), received: async () => linesToSeqs(fs.readFileSync(file, 'utf8')) };
  },
});

sinkContract(t, 'none', {
  async make() {
    return { sink: new NoneSink(createTelemetry()), received: async () => null };
  },
});

for (const [qos, batch] of [[0, 1], [1, 1], [2, 1], [1, 10]] as const) {
  sinkContract(t, `mqtt qos ${qos} batch ${batch}`, {
    async make(t) {
      const { prefix, sensor } = uniqueNames();
      const base = `${prefix}/${sensor}`;
      t.teardown(() => clearRetained(SHARED_BROKER, `${base}/status`));
      const sub = await subscribe(t, SHARED_BROKER, `${base}/flows`);
      const sink = await createSink(publishConfig({
        sink: 'mqtt', sensor_id: sensor, topic_prefix: prefix, batch_size: batch,
        mqtt: { url: SHARED_BROKER, qos }, buffer: { dir: tempDir(t) },
      }), createTelemetry());
      const seqs = (): number[] => sub.messages.flatMap((m) => seqsOf(m.payload));
      return {
        sink,
        async received(n) {
          await sub.waitFor(() => seqs().length >= n, 10_000, `${n} records`).catch(() => undefined);
          await new Promise((r) => setTimeout(r, 100));
          return seqs();
        },
      };
    },
  });
}

t.test('stdout: a write the stream accepted and then failed loses its records, and they are counted', async (t) => {
  // A Writable that takes the first batch and fails it a moment later, as a file descriptor opened
  // read-only (EBADF) or a device error does: the sink must not have counted it delivered.
  const out = new Writable({
    write(_chunk, _enc, cb) { setTimeout(() => cb(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })), 5); },
  });
  const sink = new StreamSink(createTelemetry(), out);
  await sink.open();
  await sink.write(records(0, 3));
  await sink.write(records(3, 2));
  await sink.close(1_000);
  const s = sink.stats();
  t.equal(s.delivered, 0, 'nothing claimed delivered');
  t.equal(s.dropped['io_error'], 5, 'all five counted lost');
  t.equal(s.accepted, 5);
});

t.test('stdout: a stream that never settles its last write does not hold close() beyond the deadline, and those records count lost', async (t) => {
  const out = new Writable({ write() { /* never calls back: a wedged terminal or a stopped reader */ } });
  const sink = new StreamSink(createTelemetry(), out);
  await sink.open();
  await sink.write(records(0, 4));
  const started = Date.now();
  await sink.close(200);
  t.ok(Date.now() - started < 2_000, `close() returned after ${Date.now() - started} ms`);
  const s = sink.stats();
  t.equal(s.delivered, 0);
  t.equal(s.dropped['io_error'], 4, 'the 4 unsettled records are counted lost');
});

t.test('file: appending to a file whose last line has no newline ends that line first', async (t) => {
  // Found by review: the first record was glued onto the old last line, which made it invalid JSON.
  const file = path.join(tempDir(t), 'nonl.jsonl');
  fs.writeFileSync(file, '{"old":1}');
  const sink = new FileSink(createTelemetry(), file);
  await sink.open();
  await sink.write(records(0, 2));
  await sink.close();
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  t.equal(lines.length, 3);
  for (const l of lines) t.doesNotThrow(() => JSON.parse(l), l.slice(0, 40));
  // A file that ends its line is appended to as it is.
  const sink2 = new FileSink(createTelemetry(), file);
  await sink2.open();
  await sink2.write(records(2, 1));
  await sink2.close();
  t.equal(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 4, 'no empty line added');
  t.notMatch(fs.readFileSync(file, 'utf8'), /\n\n/);
});

t.test('file: reopen() leaves a named pipe alone: with its reader gone, an open would block the thread for good', async (t) => {
  const fifo = path.join(tempDir(t), 'out.fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = spawn('head', ['-n', '1', fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
  let got = '';
  reader.stdout.on('data', (d: Buffer) => (got += d.toString()));
  const read = new Promise((r) => reader.on('close', r));
  const sink = new FileSink(createTelemetry(), fifo);
  await sink.open();
  await sink.write(records(0, 1));
  await read; // the reader took its line and left
  const at = Date.now();
  sink.reopen(); // a blocking open() of the pipe, without the check, never returned
  t.ok(Date.now() - at < 1000, 'returned at once');
  await sink.close();
  t.equal(got.trim().split('\n').length, 1);
});
