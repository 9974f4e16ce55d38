/**
 * Builds trees on `threads` lanes: this thread plus threads - 1 workers.
 *
 * This thread is a lane rather than an idle dispatcher because a worker
 * starts cold: it loads the modules and V8 optimises the tree builder again
 * in every isolate (a few hundred ms of CPU). On small data that start-up is
 * most of the run, and a second core is often busy on an edge box; the
 * calling thread is warm after the first fit (cross-validation, a second
 * model), so it takes trees from the first moment. It yields to the event
 * loop between its trees so worker replies, progress and signals get through.
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
import { workerExecArgv } from '../lib/worker-args.js';

/**
 * Workers kept between fits of one process (cross-validation folds, a second
 * model): a warm worker skips the module load and the JIT warm-up. Idle
 * workers are unref'd, so they never keep the process alive.
 */
const idle: Worker[] = [];
const MAX_IDLE = 16;
/** Request ids are unique per process, so a reused worker can never answer for an older pool. */
let nextId = 0;

function takeWorker(): Worker {
  let w = idle.pop();
  if (!w) {
    const fresh = new Worker(new URL('./worker.js', import.meta.url), { execArgv: workerExecArgv() });
    // A worker that dies while idle leaves the idle list; while in use, its lane reports the error.
    fresh.on('error', () => undefined);
    fresh.on('exit', () => {
      const i = idle.indexOf(fresh);
      if (i >= 0) idle.splice(i, 1);
    });
    w = fresh;
  }
  w.ref();
  return w;
}

/** Terminate the idle workers now (they also go when the process exits). */
export async function releaseIdleWorkers(): Promise<void> {
  await Promise.all(idle.splice(0).map((w) => w.terminate()));
}

export class TreePool {
  private readonly workers: Worker[] = [];
  /** Set when a run failed or was interrupted: its workers may still be busy, so they are not reused. */
  private dirty = false;

  private constructor(
    private readonly data: TrainData,
    private readonly boost: BoostShared | undefined,
    threads: number,
  ) {
    for (let i = 1; i < threads; i++) {
      const w = takeWorker();
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
    let next = 0;
    let failed: Error | undefined;
    // Jobs are handed out in order to whichever lane is free; results land in their slot.
    const take = (): number => (failed || next >= jobs.length ? -1 : next++);
    const interrupted = (): boolean => {
      if (signal?.aborted && !failed) failed = new Error('training interrupted');
      return failed !== undefined;
    };
    const mainLane = async (): Promise<void> => {
      for (;;) {
        // Let worker replies, progress output and signals through between trees.
        await new Promise((r) => setImmediate(r));
        if (interrupted()) return;
        const slot = take();
        if (slot < 0) return;
        out[slot] = runJob(this.data, this.boost, jobs[slot] as TreeJob);
        onTree?.();
      }
    };
    // Two requests in flight per worker: it never waits for this thread to finish a tree of its own.
    const workerLane = (w: Worker): Promise<void> =>
      new Promise<void>((resolve) => {
        const pending = new Map<number, number>();
        const send = (): void => {
          if (interrupted()) return finish();
          const slot = take();
          if (slot < 0) return finish();
          const id = nextId++;
          pending.set(id, slot);
          const req: TreeRequest = { type: 'tree', id, job: jobs[slot] as TreeJob };
          w.postMessage(req);
        };
        const onMessage = (m: WorkerReply): void => {
          const slot = pending.get(m.id);
          if (slot === undefined) return;
          pending.delete(m.id);
          if (m.type === 'error') {
            failed ??= new Error(`tree ${slot}: ${m.message}`);
            return finish();
          }
          out[slot] = m.tree;
          onTree?.();
          send();
        };
        const onError = (e: Error): void => {
          failed ??= e;
          pending.clear();
          finish();
        };
        // Resolves once nothing is in flight, so the pool never closes under a running request.
        const finish = (): void => {
          if (pending.size > 0 && !failed) return;
          w.off('message', onMessage);
          w.off('error', onError);
          resolve();
        };
        w.on('message', onMessage);
        w.on('error', onError);
        send();
        send();
      });
    await Promise.all([mainLane(), ...this.workers.map(workerLane)]);
    if (failed) {
      this.dirty = true;
      throw failed;
    }
    return out;
  }

  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    if (this.dirty) {
      await Promise.all(ws.map((w) => w.terminate()));
      return;
    }
    for (const w of ws) {
      if (idle.length >= MAX_IDLE) {
        await w.terminate();
        continue;
      }
      w.unref();
      idle.push(w);
    }
  }
}
