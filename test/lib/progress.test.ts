/**
 * The progress line (lib/progress.ts) on terminals that do not give their width: a pseudo-terminal
 * without a window size reports 0 columns (found by review: extract, replay and evaluate ended
 * with "Invalid count value: -1").
 */
import t from 'tap';
import { Progress, type ProgressStream } from '../../agent/lib/progress.js';

function terminal(columns: number | undefined): ProgressStream & { text: string } {
  const out = { isTTY: true, columns, text: '', write(s: string) { out.text += s; return true; } };
  return out;
}

for (const columns of [0, 1, undefined, NaN, -5]) {
  t.test(`a terminal of ${columns} columns: drawn 100 wide, cleared, no throw`, async (t) => {
    const out = terminal(columns);
    const p = new Progress(out);
    p.update(0.5, 'halfway', true);
    p.done();
    t.match(out.text, /^\r\[#{12} {12}\]  50% halfway/);
    t.ok(out.text.endsWith(`\r${' '.repeat(99)}\r`), 'the line cleared over 99 columns');
  });
}

t.test('a terminal that gives its width: the line fits it', async (t) => {
  const out = terminal(30);
  const p = new Progress(out);
  p.update(0.25, 'a long text that does not fit', true);
  t.equal(out.text.length, 1 + 29, 'cut at 29 columns after the carriage return');
});
