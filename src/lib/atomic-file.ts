/**
 * Files written whole or not at all: a temp file beside the target, fsync, then rename (replace) or
 * link (create once). On any failure, a full disk included, no temp file is left and the previous
 * content stays; the caller decides how to word the error.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

function writeTemp(file: string, data: string, mode: number): string {
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fd = openSync(temp, 'wx', mode);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return temp;
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/** Replaces `file` with `data` (created with `mode`). */
export function writeFileAtomic(file: string, data: string, mode: number): void {
  const temp = writeTemp(file, data, mode);
  try {
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/** Creates `file` with `data` only if it does not exist yet; false when it did. */
export function createFileOnce(file: string, data: string, mode: number): boolean {
  const temp = writeTemp(file, data, mode);
  try {
    linkSync(temp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(temp, { force: true });
  }
}
