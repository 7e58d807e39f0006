/** `tessera down`: ask the daemon to stop through its API, make sure it did, and reap leftovers. */
import { resolve } from 'node:path';
import { connectMesh } from '../client/index.js';
import { readMeshFile } from '../mesh-file.js';
import { reapStale } from '../runtime/index.js';
import { looksLikeDaemon, processExists, waitForExit } from './daemon-process.js';

/** The daemon stops every pod first (5 s grace each, in parallel), so give it well more than that. */
export const DOWN_TIMEOUT_MS = 20_000;
const KILL_GRACE_MS = 5_000;

export async function down(stateDir: string, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<void> {
  const dir = resolve(stateDir);
  const mesh = readMeshFile(dir);
  const pid = mesh?.pid;
  if (!mesh || pid === undefined || !(await daemonAlive(pid, dir))) {
    log(`no mesh is running in ${dir}`);
    await reapLeftovers(dir, log);
    return;
  }
  log(`stopping mesh "${mesh.meshName}" (pid ${pid})`);
  try {
    const api = await connectMesh(dir);
    await api.shutdown();
  } catch (e) {
    log(`the API did not take the shutdown request (${(e as Error).message}); signalling the daemon`);
  }
  if (!(await waitForExit(pid, DOWN_TIMEOUT_MS))) {
    // Only a pid that still is a tessera daemon gets signalled; a recycled pid is someone else's.
    if (looksLikeDaemon(pid)) {
      log(`daemon pid ${pid} did not stop within ${DOWN_TIMEOUT_MS / 1000}s; sending SIGTERM`);
      signal(pid, 'SIGTERM');
      if (!(await waitForExit(pid, KILL_GRACE_MS))) {
        log(`daemon pid ${pid} still running; sending SIGKILL`);
        signal(pid, 'SIGKILL');
        await waitForExit(pid, KILL_GRACE_MS);
      }
    }
  }
  await reapLeftovers(dir, log);
  log(`mesh "${mesh.meshName}" stopped`);
}

/** The pid is a tessera daemon by its command line, or (embedded daemons) by its API answering. */
async function daemonAlive(pid: number, dir: string): Promise<boolean> {
  if (pid === process.pid || !processExists(pid)) return false;
  return looksLikeDaemon(pid) || connectMesh(dir).then(() => true, () => false);
}

async function reapLeftovers(dir: string, log: (line: string) => void): Promise<void> {
  const reaped = await reapStale(dir);
  if (reaped.length > 0) log(`stopped ${reaped.length} leftover process(es): ${reaped.join(', ')}`);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}
