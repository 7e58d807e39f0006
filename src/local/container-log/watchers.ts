/**
 * Followers of a log in this process learn of each rotation as it happens: the writer calls
 * `notifyRotated` between renaming the full file and removing the oldest one, and every follower of
 * that log opens the renamed file at once. A burst that rotates several times between two polls of a
 * follower (and removes files it has not read yet) loses it nothing: an open file stays readable
 * after it is removed. A follower holds at most MAX_HELD such files; one that falls further behind
 * loses the oldest, as a node's reader would, so a stuck client cannot hold the disk.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';

export const MAX_HELD = 8;

export interface HeldFile {
  fd: number;
  ino: number;
}

const watchers = new Map<string, Set<RotationWatcher>>();

export class RotationWatcher {
  readonly #file: string;
  #held: HeldFile[] = [];
  #closed = false;

  constructor(file: string) {
    this.#file = file;
    let set = watchers.get(file);
    if (!set) watchers.set(file, (set = new Set()));
    set.add(this);
  }

  /** Called by notifyRotated: keeps the rotated file open until the follower reads it. */
  rotated(path: string): void {
    if (this.#closed) return;
    try {
      const fd = openSync(path, 'r');
      this.#held.push({ fd, ino: fstatSync(fd).ino });
    } catch {
      return; // gone already: nothing to keep
    }
    while (this.#held.length > MAX_HELD) closeSync(this.#held.shift()!.fd);
  }

  /** The files rotated since the last call, oldest first; the caller closes them. */
  take(): HeldFile[] {
    const out = this.#held;
    this.#held = [];
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const h of this.take()) closeSync(h.fd);
    const set = watchers.get(this.#file);
    set?.delete(this);
    if (set?.size === 0) watchers.delete(this.#file);
  }
}

/** The writer of `file` has just renamed it to `rotatedPath`. */
export function notifyRotated(file: string, rotatedPath: string): void {
  for (const w of watchers.get(file) ?? []) w.rotated(rotatedPath);
}
