/**
 * Commands an image puts on PATH for `exec`: a fortio pod has `fortio`, as in its image. Each is a
 * small shell script next to the compiled runtime that starts the built-in app with this Node,
 * written by the build (scripts/postbuild.mjs) and refreshed (atomically) on use when this Node
 * differs; exec prepends its directory to the pod's PATH.
 */
import { accessSync, chmodSync, constants, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FORTIO_ENTRY, isFortioImage } from './fortio-image.js';
import type { PodShape } from './types.js';

const TOOLS_DIR = fileURLToPath(new URL('../../apps/fortio/bin/', import.meta.url));

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function ensureShim(dir: string, name: string, entry: string): void {
  const path = join(dir, name);
  const script = `#!/bin/sh\n# written by Tessera: the ${name} of the image, on the built-in runtime\nexec ${quote(process.execPath)} ${quote(entry)} "$@"\n`;
  try {
    if (readFileSync(path, 'utf8') === script) return;
  } catch {
    // not written yet
  }
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, script, { mode: 0o755 });
  chmodSync(tmp, 0o755);
  renameSync(tmp, path);
}

/** Writes every image tool; the build calls this so a read-only install has them. */
export function installImageTools(): void {
  ensureShim(TOOLS_DIR, 'fortio', FORTIO_ENTRY);
}

/** Directories to put before PATH for exec in this pod (none for images without tools). */
export function imageToolDirs(pod: PodShape): string[] {
  const images = (pod.spec?.containers ?? []).map((c) => c.image ?? '');
  if (!images.some(isFortioImage)) return [];
  try {
    ensureShim(TOOLS_DIR, 'fortio', FORTIO_ENTRY);
  } catch {
    // a read-only install: the build's script still runs fortio; without one, exec says "not found"
    try {
      accessSync(join(TOOLS_DIR, 'fortio'), constants.X_OK);
    } catch {
      return [];
    }
  }
  return [TOOLS_DIR.replace(/\/$/, '')];
}
