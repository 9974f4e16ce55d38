import t from 'tap';
import { workerExecArgv } from '../../agent/lib/worker-args.js';

t.test('workers keep safe flags and drop loaders and process-wide V8 flags', async (t) => {
  t.same(workerExecArgv(['--enable-source-maps', '--import=file:///x/hook.mjs', '--import', 'tsx', '--max-semi-space-size=64',
    '--max-old-space-size=4096', '--no-warnings', '--require', 'x']), ['--enable-source-maps', '--no-warnings']);
});
