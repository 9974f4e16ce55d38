/**
 * Values as --set and the environment give them: text, read into what a YAML file would hold,
 * for the schema's fields to check alike (schema.ts).
 */

/** The number a text is, or the text (a field that wants a number then says what it got). */
export function numberText(s: string): unknown {
  const t = s.trim();
  return t !== '' && Number.isFinite(Number(t)) ? Number(t) : s;
}

/**
 * A list as --set or the environment gives it: comma-separated, or written as YAML's flow list
 * (`[eth0, eth1]`, `[]`). Why both: `--set capture.interfaces=[]` was read as one interface named
 * "[]", and `[eth0,eth1]` as "[eth0" and "eth1]", each refused later as an unknown interface.
 * A bracket opened and not closed (or the reverse) is no list: the text itself is returned, for
 * the field to say it is not one (found by review: `[lo, eth0` became the interfaces "[lo" and "eth0").
 */
export function listText(s: string): unknown {
  const t = s.trim();
  if (t.startsWith('[') !== t.endsWith(']')) return s;
  const bracketed = /^\s*\[(.*)\]\s*$/s.exec(s);
  const inner = bracketed ? bracketed[1]! : s;
  if (bracketed && inner.trim() === '') return [];
  return inner.split(',').map((x) => numberText(bracketed ? unquote(x.trim()) : x.trim()));
}

/** An item of a flow list, without the quotes YAML allows around it. */
function unquote(s: string): string {
  return s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0] ? s.slice(1, -1) : s;
}
