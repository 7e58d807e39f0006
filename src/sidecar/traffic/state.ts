/**
 * Traffic-policy state (token buckets, breakers, in-flight counts) outlives a snapshot: a runtime is
 * rebuilt on every snapshot version, and a bucket refilled by an unrelated endpoint change would
 * let a burst through. State is kept per sidecar (keyed by its metrics object, one per sidecar even
 * when tests run several in one process) and per policy content, so a changed limit starts afresh
 * and entries no snapshot uses any more are dropped.
 */
const bySidecar = new WeakMap<object, Map<string, Map<string, unknown>>>();

/** The store of one kind of state (`kind`) for one sidecar. Call `keep` with the keys the new runtime uses. */
export function stateStore<T>(sidecar: object, kind: string): { get(key: string, make: () => T): T; keep(keys: ReadonlySet<string>): void } {
  let kinds = bySidecar.get(sidecar);
  if (!kinds) bySidecar.set(sidecar, (kinds = new Map()));
  let store = kinds.get(kind) as Map<string, T> | undefined;
  if (!store) kinds.set(kind, (store = new Map<string, T>()));
  const s = store;
  return {
    get(key, make) {
      let v = s.get(key);
      if (v === undefined) s.set(key, (v = make()));
      return v;
    },
    keep(keys) {
      for (const k of s.keys()) if (!keys.has(k)) s.delete(k);
    },
  };
}
