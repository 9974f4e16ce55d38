/**
 * JSON straight into bytes, for the published records.
 *
 * Why not JSON.stringify: every flow is published, and on `replay` encoding the
 * records (JSON.stringify, then a string per batch, then its bytes) was a fifth
 * of the main thread, the pipeline's bottleneck. Here numbers and ASCII strings
 * (addresses, labels, SNI) are written as bytes without intermediate strings,
 * and anything unusual (non-ASCII or escaped text, objects with toJSON, deep
 * nesting) goes through JSON.stringify, so the output is byte for byte what
 * JSON.stringify gives for the plain data records are made of (a test checks it
 * on generated records).
 */
import type { AsciiBuffer } from '../lib/ascii-buffer.js';

/** Characters copied as they are: printable ASCII but `"` and `\`. */
const PLAIN = new Uint8Array(128);
for (let c = 0x20; c < 0x7f; c++) PLAIN[c] = 1;
PLAIN[0x22] = 0;
PLAIN[0x5c] = 0;

const MAX_DEPTH = 32;
const MAX_SAFE = 9007199254740992;

function text(out: AsciiBuffer, s: string): void {
  const n = s.length;
  if (n <= 512) {
    out.ensure(n + 2);
    const b = out.buf;
    let p = out.pos;
    b[p++] = 0x22;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f || PLAIN[c] === 0) break;
      b[p++] = c;
    }
    if (i === n) {
      b[p++] = 0x22;
      out.pos = p;
      return;
    }
  }
  out.str(JSON.stringify(s));
}

function number(out: AsciiBuffer, v: number): void {
  if (Number.isInteger(v) && v < MAX_SAFE && v > -MAX_SAFE) out.int(v === 0 ? 0 : v); // -0 prints as 0
  else if (!Number.isFinite(v)) out.str('null');
  // Up to 6 decimals and below 1e9, the shortest round-trip form (what JSON.stringify prints) is
  // the fixed form with trailing zeros dropped; anything else is left to String().
  else if (v < 1e9 && v > -1e9 && Math.round(v * 1e6) / 1e6 === v) out.num(v);
  else out.str(String(v));
}

/** Writes `v`; false when JSON has no text for it (undefined, a function, a symbol). */
function value(out: AsciiBuffer, v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
      text(out, v);
      return true;
    case 'number':
      number(out, v);
      return true;
    case 'boolean':
      out.str(v ? 'true' : 'false');
      return true;
    case 'object':
      break;
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    default:
      return false;
  }
  if (v === null) {
    out.str('null');
    return true;
  }
  if (depth > MAX_DEPTH || typeof (v as { toJSON?: unknown }).toJSON === 'function' || ArrayBuffer.isView(v)
    || v instanceof Number || v instanceof String || v instanceof Boolean) {
    const s = JSON.stringify(v); // also the one that throws on cycles, as it should
    if (s === undefined) return false;
    out.str(s);
    return true;
  }
  if (Array.isArray(v)) {
    out.byte(0x5b);
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.byte(0x2c);
      if (!value(out, v[i], depth + 1)) out.str('null');
    }
    out.byte(0x5d);
    return true;
  }
  out.byte(0x7b);
  let first = true;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    const x = o[k];
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
    if (!first) out.byte(0x2c);
    first = false;
    text(out, k);
    out.byte(0x3a);
    value(out, x, depth + 1);
  }
  out.byte(0x7d);
  return true;
}

/**
 * Append `v` as JSON. Returns false, writing nothing, when JSON has no text for it; throws
 * as JSON.stringify does (a BigInt, a cycle), leaving `out.pos` where it was.
 */
export function writeJson(out: AsciiBuffer, v: unknown): boolean {
  const start = out.pos;
  try {
    if (value(out, v, 0)) return true;
  } catch (e) {
    out.pos = start;
    throw e;
  }
  out.pos = start;
  return false;
}
