import { execFileSync } from 'node:child_process';
import t from 'tap';

/**
 * Runs a script in a Node with V8's natives: it optimizes a function that reads a typed array,
 * then transfers a buffer, and prints whether the function is still optimized. Bit 4 of
 * %GetOptimizationStatus is "TurboFan code".
 */
function optimizedAfterTransfer(early: boolean): boolean {
  const detachEarly = new URL('../../agent/lib/detach-early.js', import.meta.url).href;
  const script = `
    const { detachEarly } = await import(${JSON.stringify(detachEarly)});
    ${early ? 'detachEarly();' : ''}
    function sum(a) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s; }
    const a = new Float64Array(64).fill(1);
    %PrepareFunctionForOptimization(sum); sum(a); sum(a); %OptimizeFunctionOnNextCall(sum); sum(a);
    if ((%GetOptimizationStatus(sum) & 16) === 0) throw new Error('sum was not optimized: the test proves nothing');
    const b = new ArrayBuffer(8);
    structuredClone(b, { transfer: [b] });
    console.log((%GetOptimizationStatus(sum) & 16) !== 0);
  `;
  return execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' }).trim() === 'true';
}

t.test('the first transfer in a thread throws away its optimized typed-array code (the reason for detachEarly)', async (t) => {
  t.equal(optimizedAfterTransfer(false), false);
});

t.test('after detachEarly, a transfer keeps the optimized code', async (t) => {
  t.equal(optimizedAfterTransfer(true), true);
});
