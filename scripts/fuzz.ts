/**
 * Long fuzzing run of the capture readers and decoders (CI runs a short one):
 *   node dist/scripts/fuzz.js [iterations] [seed]
 * Mutants that crash are kept in the temp directory it prints.
 */
import { spawnSync } from 'node:child_process';

const iterations = process.argv[2] ?? '100000';
const seed = process.argv[3] ?? String(Date.now() % 2 ** 31);
const test = new URL('../test/reliability/fuzz-captures.test.js', import.meta.url).pathname;
console.log(`fuzzing ${iterations} mutants, seed ${seed}`);
const r = spawnSync(process.execPath, [test], { stdio: 'inherit', env: { ...process.env, ETA_FUZZ_ITERATIONS: iterations, ETA_FUZZ_SEED: seed } });
process.exit(r.status ?? 1);
