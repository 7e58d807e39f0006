/** `ResourceStore` over one JSON file: in-memory map, atomic persistence, synchronous change events. */
import { mkdirSync } from 'node:fs';
import type { Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import { stateFiles } from '../layout.js';
import type { ResourceStore, StoreEvent, StoreKey, StoreWrite } from './types.js';
import { jsonEqual } from './canonical.js';
import { keyOf, keyString, normalizeKey, notFoundMessage, stampPut } from './object-meta.js';
import { readStoreFile, removeLeftoverTempFiles, writeStoreFileAtomic } from './persistence.js';

type TransactResult = ReturnType<ResourceStore['transact']>;

/** Opens (or creates) the store of a state directory. Throws MESH_ERR_STORE_CORRUPT on a damaged file. */
export function openStore(stateDir: string): ResourceStore {
  mkdirSync(stateDir, { recursive: true });
  const file = stateFiles.store(stateDir);
  removeLeftoverTempFiles(file);
  return new FileResourceStore(file);
}

class FileResourceStore implements ResourceStore {
  private objects = new Map<string, Resource>();
  private rev: number;
  private readonly handlers = new Set<(event: StoreEvent) => void>();

  constructor(private readonly file: string) {
    const content = readStoreFile(file);
    this.rev = content.revision;
    for (const o of content.objects) this.objects.set(keyString(keyOf(o)), o);
  }

  get revision(): number {
    return this.rev;
  }

  get(key: StoreKey): Resource | undefined {
    const o = this.objects.get(keyString(key));
    return o && structuredClone(o);
  }

  list(kind: string, namespace?: string): Resource[] {
    const out: Resource[] = [];
    for (const o of this.objects.values()) {
      if (o.kind !== kind) continue;
      if (namespace !== undefined && o.metadata.namespace !== namespace) continue;
      out.push(structuredClone(o));
    }
    return out.sort((a, b) =>
      (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
  }

  transact(writes: StoreWrite[]): TransactResult {
    // Work on a copy so that a failure at any write (or while persisting) leaves the store untouched.
    const next = new Map(this.objects);
    let revision = this.rev;
    const events: StoreEvent[] = [];
    const results: TransactResult = [];
    for (const w of writes) {
      if (w.op === 'put') {
        const k = keyString(keyOf(w.object));
        const existing = next.get(k);
        const stored = stampPut(w.object, existing, revision + 1);
        if (!stored) {
          results.push({ object: structuredClone(existing!), change: 'unchanged' });
          continue;
        }
        revision++;
        next.set(k, stored);
        events.push({ type: existing ? 'MODIFIED' : 'ADDED', object: stored, revision });
        results.push({ object: structuredClone(stored), change: existing ? 'configured' : 'created' });
      } else {
        const key = normalizeKey(w.key);
        const k = keyString(key);
        const existing = next.get(k);
        if (!existing) throw new MeshError('MESH_ERR_NOT_FOUND', notFoundMessage(key));
        revision++;
        next.delete(k);
        const gone = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(revision) } };
        events.push({ type: 'DELETED', object: gone, revision });
        results.push({ object: structuredClone(gone), change: 'deleted' });
      }
    }
    if (events.length > 0) this.commit(next, revision, events);
    return results;
  }

  updateStatus(key: StoreKey, status: unknown): Resource | undefined {
    const k = keyString(key);
    const existing = this.objects.get(k);
    if (!existing) return undefined;
    if (jsonEqual(existing.status, status)) return structuredClone(existing);
    const revision = this.rev + 1;
    const updated: Resource = {
      ...existing,
      metadata: { ...existing.metadata, resourceVersion: String(revision) },
      status: structuredClone(status),
    };
    const next = new Map(this.objects);
    next.set(k, updated);
    this.commit(next, revision, [{ type: 'MODIFIED', object: updated, revision }]);
    return structuredClone(updated);
  }

  watch(handler: (event: StoreEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Persists first: memory and subscribers only ever see state that is already on disk. */
  private commit(next: Map<string, Resource>, revision: number, events: StoreEvent[]): void {
    writeStoreFileAtomic(this.file, { version: 1, revision, objects: [...next.values()] });
    this.objects = next;
    this.rev = revision;
    for (const event of events) {
      for (const h of [...this.handlers]) {
        try {
          h({ ...event, object: structuredClone(event.object) });
        } catch (e) {
          // One broken subscriber must not stop the others or undo a committed write.
          console.error(`store watcher failed on ${event.type} ${event.object.kind}/${event.object.metadata.name}:`, e);
        }
      }
    }
  }
}
