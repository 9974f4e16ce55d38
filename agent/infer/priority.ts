/**
 * The inference workers' CPU priority, lowered below the flow meter's (infer.nice).
 *
 * On a gateway's two cores the flow meter's thread, the inference workers and V8's helpers
 * want more CPU than there is at peaks. What the flow meter misses is lost for good (the kernel
 * drops packets, a flow's features go wrong without a trace); what inference misses waits in
 * its queue, bounded, and is published unlabeled with a reason when it waits too long. So the
 * workers yield: a nice value above the main thread's gives them a small share of a contended
 * core (nice 10: about a tenth of the main thread's) and all of an idle one.
 *
 * Linux keeps a nice value per thread, and setpriority(PRIO_PROCESS, 0) changes the calling
 * thread's only (setpriority(2), "BUGS"); elsewhere it would lower the whole process, so it is
 * not done. Raising a priority needs CAP_SYS_NICE; lowering one's own never does.
 */
import { getPriority, setPriority } from 'node:os';

/** Lower the calling thread's priority by `by` nice steps (at most to 19); why not, when it could not. */
export function lowerThreadPriority(by: number, platform: string = process.platform): string | undefined {
  if (by <= 0) return undefined;
  if (platform !== 'linux') return `threads have no priority of their own on ${platform}; the workers run at the process's`;
  try {
    setPriority(0, Math.min(19, getPriority(0) + by));
    return undefined;
  } catch (e) {
    // EPERM under a system call filter without setpriority (systemd's ~@resources).
    return (e as Error).message;
  }
}
