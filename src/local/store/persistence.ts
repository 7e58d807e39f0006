/** The single JSON file that held the whole local store before store.db: read once, to import it (migrate.ts). */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';

export interface StoreFileContent {
  version: 1;
  revision: number;
  objects: Resource[];
}

const TEMP_MARKER = '.tmp-';

/**
 * Loads the store file. A missing file is an empty store; anything unreadable is corruption, which
 * we refuse to paper over (silently starting empty would delete the user's mesh).
 */
export function readStoreFile(file: string): StoreFileContent {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, revision: 0, objects: [] };
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw storeCorrupt(file, `not valid JSON (${(e as Error).message})`, e);
  }
  const o = parsed as Partial<StoreFileContent> | null;
  if (!o || typeof o !== 'object' || typeof o.revision !== 'number' || !Number.isInteger(o.revision) || !Array.isArray(o.objects)) {
    throw storeCorrupt(file, 'missing "revision" or "objects"');
  }
  for (const [i, obj] of o.objects.entries()) {
    const meta = (obj as Resource | null)?.metadata;
    if (!obj || typeof obj !== 'object' || typeof obj.kind !== 'string' || !meta || typeof meta.name !== 'string') {
      throw storeCorrupt(file, `objects[${i}] has no kind or metadata.name`);
    }
  }
  return { version: 1, revision: o.revision, objects: o.objects };
}

/** The error for a store file we cannot read; we never silently start empty over it. */
export function storeCorrupt(file: string, why: string, cause?: unknown): MeshError {
  return new MeshError(
    'MESH_ERR_STORE_CORRUPT',
    `the mesh store ${file} is corrupt: ${why}; restore it from a backup or remove it to start empty`,
    { cause },
  );
}

/** Removes temp files the old JSON writer left when it crashed; they never held committed state. */
export function removeLeftoverTempFiles(file: string): void {
  const prefix = `${basename(file)}${TEMP_MARKER}`;
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(prefix)) rmSync(join(dirname(file), n), { force: true });
}
