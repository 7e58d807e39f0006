/**
 * `ResourceStore` over SQLite (schema.ts). Every read goes to the database: parsing a row is as
 * cheap as the structuredClone an in-memory cache would need to hand out a copy (bench/store.ts),
 * and without a cache a second opener of the same directory never sees stale objects.
 */
import { mkdirSync } from 'node:fs';
import type { Statement } from 'better-sqlite3';
import type { Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import { stateFiles } from '../layout.js';
import type { ResourceStore, StoreEvent, StoreEventType, StoreKey, StoreOptions, StoreWrite } from './types.js';
import { jsonEqual } from './canonical.js';
import { keyOf, normalizeKey, notFoundMessage, resourceName, stampPut, type FullKey } from './object-meta.js';
import { removeLeftoverTempFiles } from './persistence.js';
import { migrateJsonStore } from './migrate.js';
import { SQL, openDatabase, storeError, type Db } from './schema.js';

type TransactResult = ReturnType<ResourceStore['transact']>;

/** A committed change: the object as JSON text, parsed once per subscriber so each gets its own copy. */
interface Logged {
  type: StoreEventType;
  revision: number;
  text: string;
}

const DEFAULT_COMPACT_EVERY_MS = 60_000;
const DEFAULT_KEEP_REVISIONS = 1000;
/** rows per read while replaying history, so a handler may write to the store between batches */
const REPLAY_BATCH = 500;

/**
 * Opens (or creates) the store of a state directory, importing an old store.json on first open.
 * Throws MESH_ERR_STORE_CORRUPT on a damaged file, MESH_ERR_STORE_WRITE when it cannot be written.
 */
export function openSqliteStore(stateDir: string, opts: StoreOptions = {}): ResourceStore {
  mkdirSync(stateDir, { recursive: true });
  const file = stateFiles.storeDb(stateDir);
  const jsonFile = stateFiles.store(stateDir);
  removeLeftoverTempFiles(jsonFile);
  const db = openDatabase(file, opts);
  try {
    migrateJsonStore(db, jsonFile);
  } catch (e) {
    db.close();
    throw storeError(file, e);
  }
  return new SqliteResourceStore(db, file, opts);
}

class SqliteResourceStore implements ResourceStore {
  private readonly handlers = new Set<(event: StoreEvent) => void>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly keep: number;
  private readonly stmt: { [K in keyof typeof SQL]: Statement };

  constructor(private readonly db: Db, private readonly file: string, opts: StoreOptions) {
    this.stmt = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as typeof this.stmt;
    this.stmt.getMeta.pluck();
    this.stmt.getCurrent.pluck();
    this.stmt.listKind.pluck();
    this.stmt.listNamespace.pluck();
    this.keep = checkKeep(opts.keepRevisions ?? DEFAULT_KEEP_REVISIONS);
    const every = opts.compactEvery ?? DEFAULT_COMPACT_EVERY_MS;
    if (every > 0) {
      this.timer = setInterval(() => {
        try {
          this.compact();
        } catch (e) {
          // The next tick tries again; a failed compaction loses nothing.
          console.error(`store compaction of ${this.file} failed:`, e);
        }
      }, every);
      this.timer.unref();
    }
  }

  get revision(): number {
    return this.meta('revision');
  }

  get compactedRevision(): number {
    return this.meta('compacted');
  }

  get(key: StoreKey): Resource | undefined {
    const k = normalizeKey(key);
    const text = this.stmt.getCurrent.get(k.group, k.kind, k.namespace, k.name) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as Resource);
  }

  list(kind: string, namespace?: string, group?: string): Resource[] {
    const { group: g } = normalizeKey({ kind, name: '', group });
    const rows = (namespace === undefined
      ? this.stmt.listKind.all(g, kind)
      : this.stmt.listNamespace.all(g, kind, namespace)) as string[];
    return rows.map((text) => JSON.parse(text) as Resource);
  }

  listWithRevision(kind: string, namespace?: string, group?: string): { items: Resource[]; revision: number } {
    // A read transaction is one WAL snapshot: no write by another connection lands between the two reads.
    return this.db.transaction(() => ({ items: this.list(kind, namespace, group), revision: this.revision })).deferred();
  }

  transact(writes: StoreWrite[]): TransactResult {
    const run = this.db.transaction(() => {
      let revision = this.meta('revision');
      const logged: Logged[] = [];
      const results: TransactResult = [];
      const record = (type: StoreEventType, key: FullKey, obj: Resource): Resource => {
        const text = JSON.stringify(obj);
        this.stmt.insertLog.run(revision, type, key.group, key.kind, key.namespace, key.name, text);
        if (type === 'DELETED') this.stmt.deleteCurrent.run(key.group, key.kind, key.namespace, key.name);
        else this.stmt.upsertCurrent.run(key.group, key.kind, key.namespace, key.name, revision, text);
        logged.push({ type, revision, text });
        return JSON.parse(text) as Resource;
      };
      for (const w of writes) {
        if (w.op === 'delete') {
          const key = normalizeKey(w.key);
          const existing = this.current(key);
          if (!existing) throw new MeshError('MESH_ERR_NOT_FOUND', notFoundMessage(key));
          checkPreconditions(key, existing, w.expectResourceVersion, w.expectUid);
          revision++;
          const gone = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(revision) } };
          results.push({ object: record('DELETED', key, gone), change: 'deleted' });
          continue;
        }
        const key = keyOf(w.object);
        const existing = this.current(key);
        if (w.op === 'create' && existing) {
          throw new MeshError('MESH_ERR_ALREADY_EXISTS', `${resourceName(key)} "${key.name}" already exists`);
        }
        if (w.op === 'put' && w.expectResourceVersion !== undefined) {
          if (!existing) throw new MeshError('MESH_ERR_NOT_FOUND', notFoundMessage(key));
          checkPreconditions(key, existing, w.expectResourceVersion, undefined);
        }
        const stored = stampPut(w.object, existing, revision + 1, { replaceStatus: w.op === 'put' && w.replaceStatus === true });
        if (!stored) {
          results.push({ object: existing!, change: 'unchanged' });
          continue;
        }
        revision++;
        results.push({ object: record(existing ? 'MODIFIED' : 'ADDED', key, stored), change: existing ? 'configured' : 'created' });
      }
      if (logged.length > 0) this.stmt.setMeta.run(revision, 'revision');
      return { logged, results };
    });
    const { logged, results } = this.write(() => run.immediate());
    this.emit(logged);
    return results;
  }

  updateStatus(key: StoreKey, status: unknown): Resource | undefined {
    const k = normalizeKey(key);
    const run = this.db.transaction((): { object: Resource | undefined; logged?: Logged } => {
      const existing = this.current(k);
      if (!existing || jsonEqual(existing.status, status)) return { object: existing };
      const revision = this.meta('revision') + 1;
      const updated: Resource = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(revision) }, status };
      const text = JSON.stringify(updated);
      this.stmt.insertLog.run(revision, 'MODIFIED', k.group, k.kind, k.namespace, k.name, text);
      this.stmt.upsertCurrent.run(k.group, k.kind, k.namespace, k.name, revision, text);
      this.stmt.setMeta.run(revision, 'revision');
      return { object: JSON.parse(text) as Resource, logged: { type: 'MODIFIED', revision, text } };
    });
    const { object, logged } = this.write(() => run.immediate());
    if (logged) this.emit([logged]);
    return object;
  }

  watch(handler: (event: StoreEvent) => void, fromRevision?: number): () => void {
    if (fromRevision !== undefined) {
      // Replay in batches until caught up, and subscribe only then: the handler may itself write,
      // and its events must come after the history, in order, exactly once.
      let from = fromRevision;
      let batch = this.db.transaction(() => {
        const compacted = this.meta('compacted');
        if (from < compacted) {
          throw new MeshError(
            'MESH_ERR_GONE',
            `revision ${from} of the mesh store is too old: history up to revision ${compacted} was compacted; list again and watch from the list's revision`,
          );
        }
        return this.logSince(from);
      }).deferred();
      while (batch.length > 0) {
        for (const row of batch) {
          deliver(handler, row);
          from = row.revision;
        }
        batch = this.logSince(from);
      }
    }
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  compact(keepRevisions: number = this.keep): void {
    const keep = checkKeep(keepRevisions);
    const run = this.db.transaction(() => {
      const target = this.meta('revision') - keep;
      if (target <= this.meta('compacted')) return;
      this.stmt.compactLog.run(target);
      this.stmt.setMeta.run(target, 'compacted');
    });
    this.write(() => run.immediate());
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.handlers.clear();
    if (this.db.open) this.db.close();
  }

  private meta(name: 'revision' | 'compacted'): number {
    return this.stmt.getMeta.get(name) as number;
  }

  private current(k: FullKey): Resource | undefined {
    const text = this.stmt.getCurrent.get(k.group, k.kind, k.namespace, k.name) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as Resource);
  }

  private logSince(from: number): Logged[] {
    const rows = this.stmt.logSince.all(from, REPLAY_BATCH) as { rev: number; type: StoreEventType; object: string }[];
    return rows.map((r) => ({ type: r.type, revision: r.rev, text: r.object }));
  }

  /** Runs a write transaction; SQLite has already rolled it back when this throws. */
  private write<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storeError(this.file, e);
    }
  }

  /** Only after the commit: subscribers only ever see state that is already on disk. */
  private emit(logged: Logged[]): void {
    for (const row of logged) for (const h of [...this.handlers]) deliver(h, row);
  }
}

function deliver(handler: (event: StoreEvent) => void, row: Logged): void {
  const object = JSON.parse(row.text) as Resource;
  try {
    handler({ type: row.type, object, revision: row.revision });
  } catch (e) {
    // One broken subscriber must not stop the others or undo a committed write.
    console.error(`store watcher failed on ${row.type} ${object.kind}/${object.metadata.name}:`, e);
  }
}

/** kubectl's conflict wording, plus both versions so the caller sees how stale it was. */
function checkPreconditions(key: FullKey, existing: Resource, expectVersion: string | undefined, expectUid: string | undefined): void {
  const what = `${resourceName(key)} "${key.name}"`;
  const stored = existing.metadata.resourceVersion;
  if (expectVersion !== undefined && expectVersion !== stored) {
    throw new MeshError(
      'MESH_ERR_CONFLICT',
      `Operation cannot be fulfilled on ${what}: the object has been modified; please apply your changes to the latest version and try again (resourceVersion ${expectVersion} expected, the store has ${stored})`,
    );
  }
  if (expectUid !== undefined && expectUid !== existing.metadata.uid) {
    throw new MeshError(
      'MESH_ERR_CONFLICT',
      `Operation cannot be fulfilled on ${what}: the UID in the precondition (${expectUid}) does not match the UID in record (${existing.metadata.uid}); the object might have been deleted and then recreated`,
    );
  }
}

function checkKeep(keep: number): number {
  if (!Number.isInteger(keep) || keep < 0) throw new MeshError('MESH_ERR_USAGE', `keepRevisions must be a non-negative integer, not ${keep}`);
  return keep;
}
