/** Worker thread: builds the trees the pool asks for from the shared training data. */
import { parentPort } from 'node:worker_threads';
import { detachEarly } from '../lib/detach-early.js';
import { runJob, treeBuffers } from './build-tree.js';
import type { BoostShared, InitMessage, TreeRequest, WorkerReply } from './pool-types.js';
import type { TrainData } from './train-data.js';

detachEarly(); // every tree goes back transferred (lib/detach-early.ts)

let data: TrainData | undefined;
let boost: BoostShared | undefined;

parentPort?.on('message', (msg: InitMessage | TreeRequest) => {
  if (msg.type === 'init') {
    data = msg.data;
    boost = msg.boost;
    return;
  }
  let reply: WorkerReply;
  try {
    if (!data) throw new Error('worker used before init');
    const tree = runJob(data, boost, msg.job);
    reply = { type: 'done', id: msg.id, tree };
    parentPort?.postMessage(reply, treeBuffers(tree));
  } catch (e) {
    reply = { type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e) };
    parentPort?.postMessage(reply);
  }
});
