/**
 * The words and the fix for each cause of a failed open (fs-problem.ts). The permission cases
 * cannot be made for real here (the tests run as root, which reads and writes anything), so the
 * errors are made by hand, as Node reports them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readProblem, writeProblem } from '../../agent/lib/fs-problem.js';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: test`), { code });
const dir = mkdtempSync(join(tmpdir(), 'eta-fsp-'));

t.test('writing', async (t) => {
  t.match(writeProblem('/nope/a/x.csv', errno('ENOENT')), { why: 'its directory /nope/a does not exist (ENOENT)', fix: 'create it first (mkdir -p /nope/a) or choose another output' });
  // The directory is there, and still nothing can be made in it (/proc, for one).
  t.match(writeProblem(join(dir, 'x.csv'), errno('ENOENT')), { why: `no file can be made in ${dir} (ENOENT)`, fix: 'choose an output path in a writable directory' });
  t.match(writeProblem('/root/x.csv', errno('EACCES')), { why: 'permission denied (EACCES)', fix: /^choose a directory that \S+ may write to, or change the permissions of \/root$/ });
  t.match(writeProblem('/tmp', errno('EISDIR')), { why: 'it is a directory (EISDIR)', fix: 'name a file inside it, e.g. /tmp/out' });
  t.match(writeProblem('/mnt/x', errno('EROFS')), { why: 'its file system is read-only (EROFS)' });
  t.match(writeProblem('/mnt/x', errno('ENOSPC')), { why: 'no space left on its disk (ENOSPC)', fix: 'free space on that disk or choose another output' });
  t.match(writeProblem('/mnt/x', errno('EIO'), 'the caller\'s fix'), { why: 'EIO', fix: 'the caller\'s fix' });
});

t.test('reading', async (t) => {
  t.same(readProblem('/x.pcap', errno('ENOENT'), 'give a capture'), { why: 'no such file', fix: 'give a capture' });
  t.match(readProblem('/x.pcap', errno('EACCES'), 'give a capture'), { why: 'permission denied', fix: /^run as a user that may read it, or let \S+ read it \(chmod o\+r \/x\.pcap\)$/ });
  t.same(readProblem('/d', errno('EISDIR'), 'give a capture'), { why: 'is a directory', fix: 'give a capture' });
  t.same(readProblem('/x', new Error('odd'), 'f'), { why: 'odd', fix: 'f' });
});
