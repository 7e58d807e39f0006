/** The last good snapshot on disk (0600, atomic replace), so a restarted sidecar serves at once. */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProxySnapshot } from '../../snapshot/types.js';

export interface SavedSnapshot {
  version: string;
  snapshot: ProxySnapshot;
}

export async function saveSnapshot(dir: string, saved: SavedSnapshot): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'snapshot.json');
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(saved));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

export async function loadSnapshot(dir: string): Promise<SavedSnapshot | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, 'snapshot.json'), 'utf8')) as SavedSnapshot;
    if (typeof parsed?.version === 'string' && parsed.snapshot) return parsed;
  } catch {
    // no snapshot yet, or a damaged one: start empty and wait for the control plane
  }
  return undefined;
}
