/** PipyJS `algo`: Cache (identity-keyed memo), URLRouter (host/path patterns) and uuid. */
import { randomUUID } from 'node:crypto';

interface CacheOptions {
  size?: number;
  /** seconds, or a duration string */
  ttl?: number | string;
}

/**
 * Keys compare like Pipy's: strings and numbers by value, objects by identity, undefined and null
 * as distinct keys (exactly a JS Map). A miss stores whatever the allocator returns, even falsy.
 */
export class Cache {
  #map = new Map<unknown, { value: unknown; at: number }>();
  #allocate: ((key: unknown) => unknown) | undefined;
  #free: ((key: unknown, value: unknown) => void) | undefined;
  #size: number;
  #ttlMs: number;

  constructor(allocate?: (key: unknown) => unknown, free?: (key: unknown, value: unknown) => void, options?: CacheOptions) {
    this.#allocate = typeof allocate === 'function' ? allocate : undefined;
    this.#free = typeof free === 'function' ? free : undefined;
    this.#size = options?.size && options.size > 0 ? options.size : 0;
    const ttl = options?.ttl;
    this.#ttlMs = typeof ttl === 'number' ? ttl * 1000 : typeof ttl === 'string' ? Number.parseFloat(ttl) * 1000 || 0 : 0;
  }

  get(key: unknown): unknown {
    const hit = this.#map.get(key);
    if (hit && !(this.#ttlMs > 0 && Date.now() - hit.at > this.#ttlMs)) return hit.value;
    if (hit) this.remove(key);
    if (!this.#allocate) return undefined;
    const value = this.#allocate(key);
    this.set(key, value);
    return value;
  }

  set(key: unknown, value: unknown): void {
    this.#map.delete(key);
    this.#map.set(key, { value, at: this.#ttlMs > 0 ? Date.now() : 0 });
    if (this.#size > 0 && this.#map.size > this.#size) {
      const oldest = this.#map.keys().next().value;
      this.remove(oldest);
    }
  }

  find(key: unknown): unknown {
    return this.#map.get(key)?.value;
  }

  remove(key: unknown): boolean {
    const hit = this.#map.get(key);
    if (!hit) return false;
    this.#map.delete(key);
    this.#free?.(key, hit.value);
    return true;
  }

  clear(): void {
    for (const key of [...this.#map.keys()]) this.remove(key);
  }
}

interface PathTable {
  exact: Map<string, unknown>;
  /** segment prefixes from patterns ending in `/*` (`/api/*` → `/api`, `/*` → ``) */
  prefix: Map<string, unknown>;
}

function emptyTable(): PathTable {
  return { exact: new Map(), prefix: new Map() };
}

/**
 * `[host]/path` patterns; a last segment `*` makes a segment-prefix pattern; a host may start with
 * `*.` to cover one extra label. Lookup: the exact host, then the wildcard host, then host-less
 * patterns; within each, the exact path, then the longest segment prefix. Case-sensitive.
 */
export class URLRouter {
  #hosts = new Map<string, PathTable>();
  #wildcards = new Map<string, PathTable>();
  #any = emptyTable();

  constructor(routes?: Record<string, unknown>) {
    if (routes) for (const [pattern, value] of Object.entries(routes)) this.add(pattern, value);
  }

  add(pattern: string, value: unknown): this {
    const slash = pattern.indexOf('/');
    if (slash < 0) throw new TypeError(`invalid URL pattern '${pattern}'`);
    const host = pattern.slice(0, slash);
    if (host.includes(':')) throw new TypeError(`invalid URL pattern '${pattern}': host must not contain a port`);
    let table: PathTable;
    if (host === '') table = this.#any;
    else if (host.startsWith('*.')) table = getOrAdd(this.#wildcards, host.slice(2));
    else table = getOrAdd(this.#hosts, host);
    const path = pattern.slice(slash);
    if (path === '/*' || path.endsWith('/*')) table.prefix.set(path.slice(0, -2), value);
    else table.exact.set(path, value);
    return this;
  }

  find(...parts: unknown[]): unknown {
    let url = '';
    for (const p of parts) {
      if (p === null || p === undefined) continue;
      const s = String(p);
      if (url === '') url = s;
      else if (url.endsWith('/') && s.startsWith('/')) url += s.slice(1);
      else if (url.endsWith('/') || s.startsWith('/')) url += s;
      else url += `/${s}`;
    }
    const q = url.indexOf('?');
    if (q >= 0) url = url.slice(0, q);
    const slash = url.indexOf('/');
    let host = slash < 0 ? url : url.slice(0, slash);
    const path = slash < 0 ? '/' : url.slice(slash);
    const colon = host.lastIndexOf(':');
    if (colon >= 0) host = host.slice(0, colon);
    if (host !== '') {
      const t = this.#hosts.get(host);
      if (t) {
        const v = lookup(t, path);
        if (v !== undefined) return v;
      }
      const dot = host.indexOf('.');
      if (dot >= 0) {
        const w = this.#wildcards.get(host.slice(dot + 1));
        if (w) {
          const v = lookup(w, path);
          if (v !== undefined) return v;
        }
      }
    }
    return lookup(this.#any, path);
  }
}

function getOrAdd(m: Map<string, PathTable>, key: string): PathTable {
  let t = m.get(key);
  if (!t) m.set(key, (t = emptyTable()));
  return t;
}

function lookup(t: PathTable, path: string): unknown {
  const exact = t.exact.get(path);
  if (exact !== undefined) return exact;
  if (t.prefix.size === 0) return undefined;
  for (let cand = path; ; ) {
    const v = t.prefix.get(cand);
    if (v !== undefined) return v;
    const i = cand.lastIndexOf('/');
    if (i < 0) return undefined;
    cand = cand.slice(0, i);
  }
}

export function uuid(): string {
  return randomUUID();
}

export const algo = Object.freeze({ Cache, URLRouter, uuid });
