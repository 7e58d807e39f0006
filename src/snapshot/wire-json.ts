/**
 * The JSON a snapshot is sent as, byte for byte what JSON.stringify gives, but with each frozen
 * section serialised once: the sections many proxies share (section-cache.ts) would otherwise be
 * re-serialised for every proxy on every push, which costs more than compiling them.
 */
import type { ProxySnapshot, VersionedSnapshot } from './types.js';

/** JSON of frozen sections, by object; frozen all the way down (section-cache.ts), their text cannot go stale. */
const frozenJson = new WeakMap<object, string>();

export function frozenAwareJson(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object' || !Object.isFrozen(v)) return JSON.stringify(v);
  let text = frozenJson.get(v);
  if (text === undefined) frozenJson.set(v, (text = JSON.stringify(v)));
  return text;
}

/** JSON.stringify(snapshot): keys in insertion order, sections JSON would drop left out. */
export function snapshotJson(s: ProxySnapshot): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(s)) {
    const text = frozenAwareJson(value);
    if (text !== undefined) parts.push(`${JSON.stringify(name)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/** JSON.stringify({ version, snapshot }), the body of a snapshot event and of GET config. */
export function versionedSnapshotJson(v: VersionedSnapshot): string {
  return `{"version":${JSON.stringify(v.version)},"snapshot":${snapshotJson(v.snapshot)}}`;
}
