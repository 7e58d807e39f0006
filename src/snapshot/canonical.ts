/** Canonical JSON (sorted keys, no whitespace) and the content-hash versions of sections and snapshots. */
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

/**
 * Hashes of frozen values, by object. A frozen value cannot change, and the sections many proxies
 * share (section-cache.ts) are frozen, so each is serialised and hashed once however many snapshots
 * hold it. Mutable values are hashed every time: memoizing them would go stale. The memo trusts
 * that a frozen section is frozen all the way down, as cachedSection leaves it; a shallowly frozen
 * value with mutable children must not be hashed here. (Marking deep-frozen objects in a WeakSet
 * instead was tried: with millions of entries, one compile at 3,000 services took 97 s instead of
 * about 4 s, likely the GC walking the weak entries.)
 */
const frozenHashes = new WeakMap<object, string>();

/** Hex sha256 of a value's canonical JSON: equal content, equal hash, whoever built it. */
export function contentHash(v: unknown): string {
  const memo = v !== null && typeof v === 'object' && Object.isFrozen(v);
  if (memo) {
    const hit = frozenHashes.get(v);
    if (hit !== undefined) return hit;
  }
  const hash = createHash('sha256').update(canonicalJson(v)).digest('hex');
  if (memo) frozenHashes.set(v, hash);
  return hash;
}

/**
 * The snapshot's version: hex sha256 over its sections' names and content hashes, in name order.
 * Equal content, equal version; any change in any section changes it. Combining per-section hashes
 * (instead of hashing the JSON of the whole snapshot) lets a shared section be hashed once for all
 * the proxies holding it. Sections JSON would drop (undefined) are left out, as canonicalJson does.
 */
export function snapshotVersion(s: ProxySnapshot): string {
  const h = createHash('sha256');
  const sections = s as unknown as Record<string, unknown>;
  for (const name of Object.keys(sections).sort()) {
    const value = sections[name];
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    // name and hash contain neither NUL nor newline, so the pairs cannot run into each other
    h.update(`${name}\u0000${contentHash(value)}\n`);
  }
  return h.digest('hex');
}
