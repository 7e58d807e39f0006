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
 * How deep the version hash follows the snapshot's structure: the snapshot (depth 0), its sections
 * (1), their maps (2, e.g. Outbound.TrafficMatches), those maps' entries (3, e.g. one port's matches
 * or one cluster) are hashed from their children's hashes; values at depth 4 are hashed as canonical
 * JSON. A delta (delta.ts) can then replace one entry of a map of a shared section, and the sidecar
 * re-hashes only the path to it instead of the whole section.
 */
export const HASH_TREE_DEPTH = 4;

/** One memo per depth: a frozen object hashes differently as a node (above HASH_TREE_DEPTH) and as a leaf. */
const nodeHashes: WeakMap<object, string>[] = Array.from({ length: HASH_TREE_DEPTH }, () => new WeakMap());

/** Whether JSON keeps an object member with this value. */
export function jsonKeeps(v: unknown): boolean {
  return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
}

/** Whether a value is hashed from its children at this depth. */
export function isHashNode(v: unknown, depth: number): v is object {
  return depth < HASH_TREE_DEPTH && v !== null && typeof v === 'object';
}

/**
 * Combines children's hashes into a node's: arrays by position, objects by sorted key (members JSON
 * drops are left out, as canonicalJson does). The `a`/`o` prefix keeps `[]` and `{}` apart, and keys
 * and hashes contain neither NUL nor newline, so pairs cannot run into each other.
 */
export function combineHashes(kind: 'a' | 'o', entries: Iterable<readonly [string, string]>): string {
  // one string, one update: a call into the hash per entry costs more than the hashing
  let text = kind === 'a' ? 'a\n' : 'o\n';
  for (const [k, v] of entries) text += kind === 'a' ? `${v}\n` : `${k}\u0000${v}\n`;
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The hash of a value at `depth` of a snapshot: a Merkle hash down to HASH_TREE_DEPTH, canonical
 * JSON below. Content-addressed (a thawed JSON copy hashes the same). Memoized for frozen values, so
 * a section shared by many proxies, and each cluster shared by many Outbounds, is hashed once.
 */
export function treeHash(v: unknown, depth: number): string {
  if (!isHashNode(v, depth)) return leafHash(v);
  const memo = Object.isFrozen(v) ? nodeHashes[depth]! : undefined;
  const hit = memo?.get(v);
  if (hit !== undefined) return hit;
  let hash: string;
  if (Array.isArray(v)) hash = combineHashes('a', v.map((e, i) => [String(i), treeHash(e === undefined || !jsonKeeps(e) ? null : e, depth + 1)] as const));
  else {
    const record = v as Record<string, unknown>;
    const keys = Object.keys(record).filter((k) => jsonKeeps(record[k])).sort();
    hash = combineHashes('o', keys.map((k) => [k, treeHash(record[k], depth + 1)] as const));
  }
  memo?.set(v, hash);
  return hash;
}

/**
 * A leaf's hash. A short scalar stands for itself (`=` and its JSON, which holds neither a raw NUL
 * nor a newline, so it fits combineHashes' entries and cannot be taken for a hex hash): snapshots
 * hold many small strings and numbers (endpoint addresses, weights), and a sha256 for each would be
 * most of the cost of hashing a snapshot's tree.
 */
function leafHash(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    const json = canonicalJson(v);
    if (json.length <= 64) return `=${json}`;
  }
  return contentHash(v);
}

/** The version of a snapshot whose sections hash to these (section name → treeHash at depth 1). */
export function versionOfSectionHashes(hashes: ReadonlyMap<string, string>): string {
  return combineHashes('o', [...hashes].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/**
 * The snapshot's version: the Merkle hash of its sections (treeHash at depth 0). Equal content,
 * equal version; any change in any section changes it. Combining per-section hashes (instead of
 * hashing the JSON of the whole snapshot) lets a shared section be hashed once for all the proxies
 * holding it, and lets a sidecar check a delta by re-hashing only what it changed.
 */
export function snapshotVersion(s: ProxySnapshot): string {
  return treeHash(s, 0);
}
