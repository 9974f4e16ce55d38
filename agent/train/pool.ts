/**
 * Builds trees on worker threads (or in this thread when threads <= 1).
 *
 * The training data is posted once per worker; its bin codes and gradients
 * live in SharedArrayBuffers, so that post copies only the small arrays
 * (labels, row lists, edges), never the matrix. Trees come back with their
 * buffers transferred. Results are returned in job order, and each job is a
 * pure function of (data, job), so the model does not depend on the thread
 * count or on which worker finished first.
 */
import { Worker } from 'node:worker_threads';
import { runJob } from './build-tree.js';
import type { Tree } from './model.js';
import type { BoostShared, TreeJob, TreeRequest, WorkerReply } from './pool-types.js';
import type { TrainData } from './train-data.js';

/**
 * The worker runs compiled JS only: drop module loaders/hooks the parent was
 * started with (a test runner's TypeScript hook costs seconds per worker).
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const m = /^(--import|--loader|--experimental-loader|--require|-r)(=.*)?$/.exec(a);
    if (!m) out.push(a);
    else if (m[2] === undefined) i++; // value in the next argument
  }
  return out;
}

export class TreePool {
  private readonly workers: Worker[] = [];
  private nextId = 0;

  private constructor(
    private readonly data: TrainData,
    private readonly boost: BoostShared | undefined,
    threads: number,
  ) {
    if (threads <= 1) return;
    for (let i = 0; i < threads; i++) {
      const w = new Worker(new URL('./worker.js', import.meta.url), { execArgv: workerExecArgv() });
      w.postMessage({ type: 'init', data, boost });
      this.workers.push(w);
    }
  }

  static create(data: TrainData, boost: BoostShared | undefined, threads: number): TreePool {
    return new TreePool(data, boost, Math.max(1, Math.floor(threads)));
  }

  /**
   * Build all jobs; `onTree` is called as each finishes (for progress). Stops
   * handing out new jobs once `signal` is aborted and then rejects.
   */
  async run(jobs: readonly TreeJob[], onTree?: () => void, signal?: AbortSignal): Promise<Tree[]> {
    const out: Tree[] = new Array<Tree>(jobs.length);
    if (this.workers.length === 0) {
      for (let i = 0; i < jobs.length; i++) {
        if (signal?.aborted) throw new Error('training interrupted');
        out[i] = runJob(this.data, this.boost, jobs[i] as TreeJob);
        onTree?.();
        // Let progress output and signals through between trees.
        if ((i & 3) === 3) await new Promise((r) => setImmediate(r));
      }
      return out;
    }
    let next = 0;
    const lane = (w: Worker): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const send = (): void => {
          if (next >= jobs.length) return finish(resolve);
          if (signal?.aborted) return finish(() => reject(new Error('training interrupted')));
          const slot = next++;
          const id = this.nextId++;
          const req: TreeRequest = { type: 'tree', id, job: jobs[slot] as TreeJob };
          pending.set(id, slot);
          w.postMessage(req);
        };
        const pending = new Map<number, number>();
        const onMessage = (m: WorkerReply): void => {
          const slot = pending.get(m.id);
          if (slot === undefined) return;
          pending.delete(m.id);
          if (m.type === 'error') return finish(() => reject(new Error(`tree ${slot}: ${m.message}`)));
          out[slot] = m.tree;
          onTree?.();
          send();
        };
        const onError = (e: Error): void => finish(() => reject(e));
        const finish = (then: () => void): void => {
          w.off('message', onMessage);
          w.off('error', onError);
          then();
        };
        w.on('message', onMessage);
        w.on('error', onError);
        send();
      });
    await Promise.all(this.workers.map(lane));
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
