/**
 * Memoizes the sections many proxies share, per catalog: Dns and AllowedEndpoints are the same for
 * every proxy, and Outbound only depends on the client's namespace, identity and mounted outbound
 * plugins. A catalog is immutable, so this is pure memoization; cached sections are deep-frozen
 * because several snapshots hold the same objects.
 */
import { byString } from '../catalog/pods.js';
import type { Catalog } from '../catalog/types.js';

const caches = new WeakMap<Catalog, Map<string, unknown>>();

export function cachedSection<T>(catalog: Catalog, key: string, build: () => T): T {
  let cache = caches.get(catalog);
  if (!cache) caches.set(catalog, (cache = new Map()));
  if (cache.has(key)) return cache.get(key) as T;
  const value = deepFreeze(build());
  cache.set(key, value);
  return value;
}

/** A cache key part for a set of names, independent of insertion order. */
export function setKey(names: ReadonlySet<string>): string {
  return [...names].sort(byString).join(',');
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v as object)) deepFreeze(child);
  }
  return v;
}
