/**
 * The usage types of the attribution model, and the mapping from apps and
 * nDPI-style categories to them (config/categories.yaml).
 *
 * A flow's usage type, first that applies:
 *   1. a usage type given for that very flow (an SNI rule's `category`, or a
 *      labels-file category that already names a usage type);
 *   2. its app, listed in the file (so Zoom, which nDPI files under "Video",
 *      is voip);
 *   3. its labels-file category, listed in the file ("VoIP", "Download").
 * Otherwise it has none: it fits none of the five types and is left out of
 * attribution training rather than forced into a class. An app listed under
 * `none` (a protocol such as DNS, a VPN) stops at step 2 with no usage type,
 * whatever its category says.
 */
import { readFile } from 'node:fs/promises';
import { StartupError } from '../errors.js';
import { suggest, YamlFile } from './yaml-lines.js';

export const USAGE_TYPES = ['streaming', 'file_transfer', 'voip', 'browsing', 'chat'] as const;
export type UsageType = (typeof USAGE_TYPES)[number];

const SECTIONS = [...USAGE_TYPES, 'none'] as const;

export interface CategoryMap {
  readonly source: string;
  /** Lower-case app name to its usage type (null: listed under `none`). */
  readonly byApp: ReadonlyMap<string, UsageType | null>;
  /** Lower-case category name to its usage type (null: listed under `none`). */
  readonly byCategory: ReadonlyMap<string, UsageType | null>;
}

/** The usage type a text names ("VoIP", "file-transfer", "File Transfer"), or null. */
export function asUsageType(text: string): UsageType | null {
  const t = text.trim().toLowerCase().replace(/[- ]/g, '_');
  return (USAGE_TYPES as readonly string[]).includes(t) ? (t as UsageType) : null;
}

/** Parse the text of a categories file; throws StartupError listing every problem with its line. */
export function parseCategories(text: string, file: string): CategoryMap {
  const y = new YamlFile(file, text);
  const byApp = new Map<string, UsageType | null>();
  const byCategory = new Map<string, UsageType | null>();
  const seen = new Map<string, number>();
  if (y.root !== null && y.root !== undefined && !y.isMap(y.root)) {
    y.error(y.root, `expected a mapping of usage types (${SECTIONS.join(', ')})`);
  } else if (y.isMap(y.root)) {
    for (const [name, key, value] of y.entries(y.root)) {
      if (!(SECTIONS as readonly string[]).includes(name)) {
        y.error(key, `unknown usage type "${name}"${suggest(name, SECTIONS)}`);
        continue;
      }
      const type = name === 'none' ? null : (name as UsageType);
      if (!y.isMap(value)) {
        y.error(value ?? key, `"${name}" must be a mapping with "apps" and/or "categories"`);
        continue;
      }
      for (const [list, listKey, items] of y.entries(value)) {
        if (list !== 'apps' && list !== 'categories') {
          y.error(listKey, `unknown key "${list}" under "${name}"${suggest(list, ['apps', 'categories'])}`);
          continue;
        }
        const into = list === 'apps' ? byApp : byCategory;
        for (const [text, node] of y.texts(items, `an entry of ${name}.${list}`)) {
          const k = text.toLowerCase();
          const where = `${list}:${k}`;
          const first = seen.get(where);
          if (first !== undefined) {
            y.error(node, `${list === 'apps' ? 'app' : 'category'} "${text}" is already listed at line ${first}`);
            continue;
          }
          seen.set(where, y.line(node));
          into.set(k, type);
        }
      }
    }
  }
  y.check(`categories file ${file}`, 'fix the listed lines; see config/categories.yaml for the format');
  return { source: file, byApp, byCategory };
}

export async function loadCategories(path: string): Promise<CategoryMap> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new StartupError('E_INPUT', `cannot read the categories file ${path}: ${(e as Error).message}`,
      'give --categories FILE, or restore config/categories.yaml');
  }
  return parseCategories(text, path);
}

/**
 * The usage type of a flow (see the order above), or null when it fits none.
 * `given` is a usage type stated for this flow (rule category); `category` the labels-file category.
 */
export function usageType(map: CategoryMap, app: string, category: string, given?: string | null): UsageType | null {
  if (given) return asUsageType(given);
  const direct = category ? asUsageType(category) : null;
  if (direct) return direct;
  const a = app.trim().toLowerCase();
  if (a && map.byApp.has(a)) return map.byApp.get(a) ?? null;
  const c = category.trim().toLowerCase();
  if (c && map.byCategory.has(c)) return map.byCategory.get(c) ?? null;
  return null;
}
