/**
 * Call detachEarly() in a thread that is going to transfer ArrayBuffers (postMessage or piscina
 * transfer lists), before its hot code runs: it detaches one throwaway buffer at once.
 *
 * Why: V8 compiles typed-array code without a "detached?" check for as long as no ArrayBuffer
 * in the thread has ever been detached. The thread's first transfer then throws away every
 * optimized function that reads a typed array (most of the flow meter, the features and the
 * records), and V8 compiles them again while the thread runs them unoptimized: --trace-deopt
 * shows "code dependencies" right after "Invalidating protector cell ArrayBufferDetaching".
 * When the first transfer waits for something (replay's first batch waits for the workers to
 * open the models; extract's rows for a first full batch) that lands on code already hot.
 * Detaching first makes the first compilation the last. Measured: a replay of 84,620 flows with
 * both models went from 12-16 deoptimizations for code dependencies to 4-5 (those left have
 * other causes); extract of 200,000 packets with handshake metadata on from 2,178-2,194 M
 * instructions to 2,052 M (callgrind; 1,880-1,935 M and 1,899 M with it off); extract of 1M
 * packets, 8 alternating runs, 0.502 -> 0.453 s (metadata on) and 0.434 -> 0.398 s (off). A
 * thread that never transfers (replay without models) does not call this: its code keeps the
 * cheaper accesses.
 */
let done = false;

export function detachEarly(): void {
  if (done) return;
  done = true;
  const throwaway = new ArrayBuffer(8);
  structuredClone(throwaway, { transfer: [throwaway] });
}
