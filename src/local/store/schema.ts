/**
 * The store's SQLite file, kine-style: `log` holds every change (revision = INTEGER PRIMARY KEY =
 * the written object's resourceVersion), `current` the latest object per key. `current` keeps its
 * own copy of the object so that listing is one index range scan and compaction can drop any old
 * log row without checking whether the current state still points at it.
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MeshError } from '../../lib/errors.js';
import { storeCorrupt } from './persistence.js';

export type Db = Database.Database;

const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', ${SCHEMA_VERSION}), ('revision', 0), ('compacted', 0);
CREATE TABLE IF NOT EXISTS log (
  rev INTEGER PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
  grp TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  object TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS current (
  grp TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  rev INTEGER NOT NULL,
  object TEXT NOT NULL
);
-- The key, and the listing index: (grp, kind) and (grp, kind, namespace) are prefixes of it, and
-- its order is the order list() returns.
CREATE UNIQUE INDEX IF NOT EXISTS current_key ON current (grp, kind, namespace, name);
`;

/** Statement texts shared by the store and the one-off JSON import. */
export const SQL = {
  getMeta: `SELECT value FROM meta WHERE name = ?`,
  setMeta: `UPDATE meta SET value = ? WHERE name = ?`,
  getCurrent: `SELECT object FROM current WHERE grp = ? AND kind = ? AND namespace = ? AND name = ?`,
  listKind: `SELECT object FROM current WHERE grp = ? AND kind = ? ORDER BY namespace, name`,
  listNamespace: `SELECT object FROM current WHERE grp = ? AND kind = ? AND namespace = ? ORDER BY name`,
  countCurrent: `SELECT count(*) FROM current`,
  upsertCurrent: `INSERT INTO current (grp, kind, namespace, name, rev, object) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (grp, kind, namespace, name) DO UPDATE SET rev = excluded.rev, object = excluded.object`,
  deleteCurrent: `DELETE FROM current WHERE grp = ? AND kind = ? AND namespace = ? AND name = ?`,
  insertLog: `INSERT INTO log (rev, type, grp, kind, namespace, name, object) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  logSince: `SELECT rev, type, object FROM log WHERE rev > ? ORDER BY rev LIMIT ?`,
  compactLog: `DELETE FROM log WHERE rev <= ?`,
} as const;

/**
 * Opens (creating if needed) the database file, owner-only: SQLite gives its -wal and -shm files
 * the database file's mode, so creating the file ourselves with 0600 covers all three.
 */
export function openDatabase(file: string, opts: { maxBytes?: number; synchronous?: 'FULL' | 'NORMAL' } = {}): Db {
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  let db: Db | undefined;
  try {
    chmodSync(file, 0o600);
    db = new Database(file);
    // The first statement reads the header: a file that is not a database fails here.
    if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') throw new Error('cannot switch to WAL mode');
    // FULL: a commit is on disk (WAL fsynced) before transact returns, so it survives power loss
    // too, not only a killed process. See bench/store.ts for what it costs.
    db.pragma(`synchronous = ${opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    // A second opener (a CLI check, a test) waits for the writer instead of failing at once.
    db.pragma('busy_timeout = 5000');
    if (opts.maxBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(opts.maxBytes / pageSize))}`);
    }
    db.exec(DDL);
    const version = db.prepare(SQL.getMeta).pluck().get('schema') as number;
    if (version !== SCHEMA_VERSION) throw storeCorrupt(file, `schema version ${version} is not ${SCHEMA_VERSION} (written by another Tessera version?)`);
    return db;
  } catch (e) {
    db?.close();
    throw storeError(file, e);
  }
}

/** Maps SQLite's failures to the store's error codes; MeshErrors (preconditions, not found) pass through. */
export function storeError(file: string, e: unknown): unknown {
  if (e instanceof MeshError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return e;
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return storeCorrupt(file, (e as Error).message, e);
  if (code.startsWith('SQLITE_') || code === 'EACCES' || code === 'EROFS' || code === 'ENOSPC' || code === 'EPERM') {
    return new MeshError(
      'MESH_ERR_STORE_WRITE',
      `the mesh store ${file} could not be written: ${(e as Error).message} (${code}); nothing of this change was stored`,
      { cause: e },
    );
  }
  return e;
}
