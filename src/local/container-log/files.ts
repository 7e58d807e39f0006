/**
 * Where a container's log lives: the current run writes `<container>.log`, rotated to
 * `<container>.log.<n>` (n grows with every rotation, so a higher n is newer); the run before writes
 * `<container>.previous.log` and `<container>.previous.log.<n>` (`logs --previous`). Container names are
 * DNS labels, so no container's files can be mistaken for another's.
 */
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface RunFile {
  path: string;
  /** the rotation number; undefined for the file the run writes now */
  seq: number | undefined;
}

/** The previous run's current-file path for a current run's `<container>.log`. */
export function previousRunFile(file: string): string {
  return file.replace(/\.log$/, '.previous.log');
}

/** A run's files, oldest first: rotated ones by number, then the one being written (when it exists). */
export function runFiles(file: string): RunFile[] {
  const dir = dirname(file);
  const base = basename(file);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const rotated: RunFile[] = [];
  let current = false;
  for (const name of names) {
    if (name === base) current = true;
    else if (name.startsWith(`${base}.`)) {
      const rest = name.slice(base.length + 1);
      if (/^[0-9]{1,15}$/.test(rest)) rotated.push({ path: join(dir, name), seq: Number(rest) });
    }
  }
  rotated.sort((a, b) => a.seq! - b.seq!);
  return current ? [...rotated, { path: file, seq: undefined }] : rotated;
}

/**
 * A new run of the container starts: what the last run wrote becomes the previous run (replacing the
 * one before), as the kubelet keeps exactly one terminated instance per container.
 */
export function retireRun(file: string): void {
  const current = runFiles(file);
  if (current.length === 0) return;
  const previous = previousRunFile(file);
  for (const f of runFiles(previous)) rmSync(f.path, { force: true });
  for (const f of current) renameSync(f.path, f.seq === undefined ? previous : `${previous}.${f.seq}`);
}
