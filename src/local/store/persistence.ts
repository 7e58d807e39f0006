/** Reads and atomically rewrites the single JSON file that holds the whole local store. */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
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
    throw corrupt(file, `not valid JSON (${(e as Error).message})`, e);
  }
  const o = parsed as Partial<StoreFileContent> | null;
  if (!o || typeof o !== 'object' || typeof o.revision !== 'number' || !Number.isInteger(o.revision) || !Array.isArray(o.objects)) {
    throw corrupt(file, 'missing "revision" or "objects"');
  }
  for (const [i, obj] of o.objects.entries()) {
    const meta = (obj as Resource | null)?.metadata;
    if (!obj || typeof obj !== 'object' || typeof obj.kind !== 'string' || !meta || typeof meta.name !== 'string') {
      throw corrupt(file, `objects[${i}] has no kind or metadata.name`);
    }
  }
  return { version: 1, revision: o.revision, objects: o.objects };
}

function corrupt(file: string, why: string, cause?: unknown): MeshError {
  return new MeshError(
    'MESH_ERR_STORE_CORRUPT',
    `the mesh store ${file} is corrupt: ${why}; restore it from a backup or remove it to start empty`,
    { cause },
  );
}

/**
 * Writes the store so that a crash at any moment leaves either the old or the new file: temp file
 * in the same directory (same filesystem, so rename is atomic), fsync, rename, fsync the directory
 * (so the rename itself survives power loss).
 */
export function writeStoreFileAtomic(file: string, content: StoreFileContent): void {
  const dir = dirname(file);
  const temp = join(dir, `${basename(file)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`);
  const data = Buffer.from(JSON.stringify(content));
  const fd = openSync(temp, 'wx', 0o600);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
  fsyncDirectory(dir);
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Removes temp files a crashed writer left behind; they never hold the committed state. */
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
