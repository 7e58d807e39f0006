/**
 * Keeps `daemon.log` within the container-log limits. A detached daemon's stdout and stderr are
 * that file, opened O_APPEND by `tessera up`; a process cannot reopen its own stdout, so the log is
 * rotated as logrotate's copytruncate does: copy to `daemon.log.1` (older copies shift up to
 * `maxFiles - 1`), then truncate, and the next append starts the file again. A line written between
 * the copy and the truncation can be lost; the daemon logs operational events, not traffic, so that
 * window is rarely hit and never grows with load.
 */
import { copyFileSync, fstatSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import type { LogRotation } from '../container-log/index.js';

/** True when `fd` is `file` itself (a detached daemon's stdout), so rotating it is ours to do. */
function writesTo(fd: number, file: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(file);
    return a.isFile() && a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** Rotates `file` when it has reached `maxSize`; returns whether it did. */
export function rotateDaemonLogIfFull(file: string, rotation: LogRotation): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size < rotation.maxSize) return false;
  const keep = Math.max(1, rotation.maxFiles - 1);
  rmSync(`${file}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) {
    try {
      renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    } catch {
      // a copy that does not exist yet
    }
  }
  copyFileSync(file, `${file}.1`);
  truncateSync(file, 0);
  return true;
}

/** Checks every `intervalMs` while the daemon runs detached; returns the stop function. */
export function keepDaemonLogBounded(file: string, rotation: LogRotation, opts: { fd?: number; intervalMs?: number } = {}): () => void {
  if (!writesTo(opts.fd ?? 1, file)) return () => undefined;
  const timer = setInterval(() => {
    try {
      rotateDaemonLogIfFull(file, rotation);
    } catch {
      // a full disk or a removed state directory: the next check tries again
    }
  }, opts.intervalMs ?? 10_000);
  timer.unref();
  return () => clearInterval(timer);
}
