/** Renders a schema as a commented YAML example: every option, its default and its documentation. */
import { stringify } from 'yaml';
import type { Node, Section, Shape } from './schema.js';

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

function scalar(v: unknown): string {
  return stringify(v, { lineWidth: 0 }).trimEnd();
}

function render(node: Node, key: string, indent: string, out: string[]): void {
  for (const l of wrap(node.doc, 96 - indent.length)) out.push(`${indent}# ${l}`);
  if (node.kind === 'section') {
    out.push(`${indent}${key}:`);
    for (const [k, child] of Object.entries(node.shape)) render(child, k, `${indent}  `, out);
    return;
  }
  if (node.env) out.push(`${indent}# Environment override: ${node.env}`);
  const v = node.default;
  if (Array.isArray(v) && v.length > 0) {
    out.push(`${indent}${key}:`);
    for (const item of v) out.push(`${indent}  - ${scalar(item)}`);
  } else {
    out.push(`${indent}${key}: ${scalar(v)}`);
  }
}

export function exampleYaml(schema: Section<Shape>, header: string): string {
  const out: string[] = header.split('\n').map((l) => (l ? `# ${l}` : '#'));
  for (const [k, node] of Object.entries(schema.shape)) {
    out.push('');
    render(node, k, '', out);
  }
  return out.join('\n') + '\n';
}
