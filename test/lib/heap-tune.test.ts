import { execFileSync } from 'node:child_process';
import t from 'tap';
import { keepFreedMemory } from '../../agent/lib/heap-tune.js';

const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime;

/**
 * Page faults of a child that, 6 rounds over, allocates 24 blocks of 1 MiB, writes them, and
 * frees them all at once (as a GC frees a batch of feature slabs or write buffers); the first
 * round is left out. glibc's defaults hand the freed top of the heap back to the kernel, so
 * every round faults its pages in again; kept, they are reused.
 */
function faultsOfRounds(keep: boolean): number {
  const heapTune = new URL('../../agent/lib/heap-tune.js', import.meta.url).href;
  const script = `
    const { keepFreedMemory } = await import(${JSON.stringify(heapTune)});
    if (${keep} && !keepFreedMemory()) throw new Error('not applied: the test proves nothing');
    const round = () => {
      let blocks = [];
      for (let i = 0; i < 24; i++) blocks.push(Buffer.allocUnsafeSlow(1024 * 1024).fill(i));
      blocks = null;
      gc();
    };
    round();
    const before = process.resourceUsage().minorPageFault;
    for (let r = 0; r < 5; r++) round();
    console.log(process.resourceUsage().minorPageFault - before);
  `;
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MALLOC_') || k === 'GLIBC_TUNABLES') delete env[k];
  return Number(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', env }).trim());
}

t.test('freed memory is reused instead of faulted in again', { skip: glibc ? false : 'not glibc' }, async (t) => {
  const kept = faultsOfRounds(true);
  const returned = faultsOfRounds(false);
  // 5 rounds of 24 MiB are 30,720 pages: with glibc's defaults 6,500-7,400 faulted again here, kept 260-1,030.
  t.ok(returned > 3000, `glibc's defaults fault the rounds in again: ${returned} faults (else the test proves nothing)`);
  t.ok(kept < returned / 4, `kept: ${kept} faults against ${returned}`);
});

t.test('malloc settings the operator made through the environment are left as they are', async (t) => {
  t.equal(keepFreedMemory({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1000' }), false);
  t.equal(keepFreedMemory({ MALLOC_ARENA_MAX: '2' }), false);
  t.equal(keepFreedMemory({ GLIBC_TUNABLES: 'glibc.rtld.optional_static_tls=4096' }), glibc !== undefined, 'other tunables do not count');
});
