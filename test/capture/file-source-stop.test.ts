/**
 * A stop asked for before the source runs (Ctrl-C while the models and the sink were loading)
 * ends the run at once, also when the input is a named pipe whose writer sends nothing: stop()
 * then had no input to interrupt, and the run waited on the pipe for its first bytes.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource } from '../../agent/capture/file-source.js';

const SAMPLE = new URL('../../../samples/lo-sessions.pcap', import.meta.url).pathname;

t.test('stopped before it runs: a regular file and a silent named pipe both end at once, reading nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-source-stop-'));
  const fifo = join(dir, 'silent.pcap');
  execFileSync('mkfifo', [fifo]);
  for (const path of [SAMPLE, fifo]) {
    const source = new FileSource(path);
    let frames = 0;
    source.stop();
    const running = source.run(() => void frames++);
    const started = Date.now();
    const end = await Promise.race([running, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000).unref())]);
    t.same(end, { reason: 'stopped' }, `${path === fifo ? 'named pipe' : 'file'}: stopped`);
    t.ok(Date.now() - started < 5000);
    t.equal(frames, 0);
  }
});
