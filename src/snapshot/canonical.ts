/** Canonical JSON (sorted keys, no whitespace) and the content-hash version of a snapshot. */
import { createHash } from 'node:crypto';
import type { ProxySnapshot } from './types.js';

/**
 * JSON with object keys sorted (by UTF-16 code units) and no whitespace, so equal values always give
 * equal text. Follows JSON.stringify for everything else: `undefined`, functions and symbols are
 * dropped from objects and become `null` in arrays; non-finite numbers become `null`. Throws on cycles.
 */
export function canonicalJson(v: unknown): string {
  return write(v, new Set()) ?? 'null';
}

function write(v: unknown, seen: Set<object>): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('canonicalJson: BigInt is not JSON');
    case 'object':
      break;
    default:
      return undefined;
  }
  const obj = v as object;
  if (seen.has(obj)) throw new TypeError('canonicalJson: cyclic value');
  seen.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = `[${obj.map((e) => write(e, seen) ?? 'null').join(',')}]`;
  } else {
    const record = obj as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(record).sort()) {
      const s = write(record[k], seen);
      if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
    }
    out = `{${parts.join(',')}}`;
  }
  seen.delete(obj);
  return out;
}

/** The snapshot's version: hex sha256 of its canonical JSON. Equal content, equal version. */
export function snapshotVersion(s: ProxySnapshot): string {
  return createHash('sha256').update(canonicalJson(s)).digest('hex');
}
