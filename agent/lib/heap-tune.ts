/**
 * Tells glibc's malloc to keep the memory the process frees for reuse (native/heap_tune.c says
 * why and what it saved). Called once at start-up by every command; the settings hold for the
 * whole process, worker threads included.
 *
 * Memory: what is kept is memory the process already used, so the peak RSS stays the same; after
 * a peak, up to TRIM_THRESHOLD of free memory at the top of each malloc arena stays resident
 * instead of going back to the kernel.
 */
import { loadAddon } from './addon.js';

/** Blocks up to this size come from malloc's heap, which reuses them, rather than a fresh mmap each. */
const MMAP_THRESHOLD = 4 * 1024 * 1024;
/** Free memory at the top of a heap returned to the kernel only beyond this. */
const TRIM_THRESHOLD = 32 * 1024 * 1024;

interface HeapAddon {
  keepFreedMemory(mmapThreshold: number, trimThreshold: number): boolean;
}

/**
 * Applies the settings; false where they do not apply (no glibc, the addon not built) or where
 * the operator tuned malloc through the environment, which is left as set.
 */
export function keepFreedMemory(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env['GLIBC_TUNABLES'] ?? '').includes('glibc.malloc.') || Object.keys(env).some((k) => k.startsWith('MALLOC_'))) return false;
  try {
    return loadAddon<HeapAddon>('heap_tune', 'malloc tuning addon').keepFreedMemory(MMAP_THRESHOLD, TRIM_THRESHOLD);
  } catch {
    return false; // a speed-up only: the commands work without it
  }
}
