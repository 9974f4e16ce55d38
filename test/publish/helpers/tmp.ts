/** Temporary directories removed at the end of the test, also when it fails. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

interface Teardown { teardown(fn: () => unknown): void }

export function tempDir(t: Teardown, prefix = 'eta-publish-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
