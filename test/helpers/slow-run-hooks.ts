/**
 * Module hooks for run-signals.test.ts: loading agent/commands/run.js waits 1.5 s, after writing
 * "loading" to the file ETA_TEST_SLOW_RUN names, so a test can signal the process while `run` is
 * not loaded yet (its own handlers not installed), at a moment it knows.
 */
import { writeFileSync } from 'node:fs';

type Next = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, next: Next): Promise<{ url: string }> {
  const r = await next(specifier, context);
  const marker = process.env['ETA_TEST_SLOW_RUN'];
  if (marker && r.url.endsWith('/agent/commands/run.js')) {
    writeFileSync(marker, 'loading');
    await new Promise((done) => setTimeout(done, 1500));
  }
  return r;
}
