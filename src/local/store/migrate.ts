/**
 * One-off import of the old whole-file store (store.json) into store.db. Revisions continue after
 * the file's: each object gets the next revision as its resourceVersion, logged as ADDED, and the
 * file's revision becomes the compacted revision (older history never existed in the log).
 */
import { existsSync, renameSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Resource } from '../../api/types.js';
import { keyOf, keyString, kubeTimestamp } from './object-meta.js';
import { readStoreFile } from './persistence.js';
import { SQL, type Db } from './schema.js';

/**
 * Imports `jsonFile` when it exists and the database is still empty, in one transaction, then
 * renames it to `.migrated`. Crash-safe: a crash before the commit imports again next time; one
 * between the commit and the rename finds a non-empty database and only renames.
 */
export function migrateJsonStore(db: Db, jsonFile: string): { imported: number } {
  if (!existsSync(jsonFile)) return { imported: 0 };
  const run = db.transaction((): number => {
    const revision = db.prepare(SQL.getMeta).pluck().get('revision') as number;
    const count = db.prepare(SQL.countCurrent).pluck().get() as number;
    if (revision !== 0 || count !== 0) return 0;
    const content = readStoreFile(jsonFile);
    const insertLog = db.prepare(SQL.insertLog);
    const upsert = db.prepare(SQL.upsertCurrent);
    const setMeta = db.prepare(SQL.setMeta);
    // Oldest write first, so the new revisions keep the old relative order.
    const objects = [...content.objects].sort((a, b) => oldVersion(a) - oldVersion(b));
    const seen = new Set<string>();
    let rev = content.revision;
    for (const given of objects) {
      rev++;
      const obj = withServerFields(given, rev);
      const key = keyOf(obj);
      const k = keyString(key);
      insertLog.run(rev, seen.has(k) ? 'MODIFIED' : 'ADDED', key.group, key.kind, key.namespace, key.name, JSON.stringify(obj));
      upsert.run(key.group, key.kind, key.namespace, key.name, rev, JSON.stringify(obj));
      seen.add(k);
    }
    setMeta.run(content.revision, 'compacted');
    setMeta.run(rev, 'revision');
    return objects.length;
  });
  const imported = run.immediate();
  renameSync(jsonFile, `${jsonFile}.migrated`);
  return { imported };
}

function oldVersion(r: Resource): number {
  const v = Number(r.metadata.resourceVersion);
  return Number.isFinite(v) ? v : 0;
}

/** Keeps uid, creationTimestamp and generation; fills any a hand-edited file lacks. */
function withServerFields(given: Resource, rev: number): Resource {
  const obj = structuredClone(given);
  const key = keyOf(obj);
  obj.metadata = {
    ...obj.metadata,
    namespace: key.namespace || undefined,
    uid: obj.metadata.uid ?? randomUUID(),
    creationTimestamp: obj.metadata.creationTimestamp ?? kubeTimestamp(),
    generation: obj.metadata.generation ?? 1,
    resourceVersion: String(rev),
  };
  if (obj.metadata.namespace === undefined) delete obj.metadata.namespace;
  return obj;
}
