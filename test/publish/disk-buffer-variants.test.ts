/** The disk buffer contract against each configuration a deployment can choose. */
import t from 'tap';
import { diskBufferContract } from './disk-buffer-suite.js';

const common = { maxBytes: 8 * 1024 * 1024, fsyncIntervalMs: 1000 } as const;

diskBufferContract(t, 'fsync interval, drop-oldest, default segments', { ...common, fsync: 'interval', overflow: 'drop-oldest' });
diskBufferContract(t, 'fsync always, drop-newest, 16 KiB segments', { ...common, fsync: 'always', overflow: 'drop-newest', segmentBytes: 16 * 1024 });
diskBufferContract(t, 'fsync interval, drop-oldest, 4 KiB segments', { ...common, fsync: 'interval', overflow: 'drop-oldest', segmentBytes: 4096 });
// Thousands of segment files: every boundary case of the segment bookkeeping (no fsync, or it would take seconds).
diskBufferContract(t, 'fsync never, drop-newest, three records per segment', { ...common, fsync: 'never', overflow: 'drop-newest', segmentBytes: 324 });
