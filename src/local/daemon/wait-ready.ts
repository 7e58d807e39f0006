/** Waiting until a starting daemon serves its API and its control-plane pod is Ready. */
import type { Pod, Resource } from '../../api/types.js';
import type { MeshApi } from '../api-contract.js';
import { connectMesh } from '../apiserver/index.js';
import { isPodReady } from '../controllers/index.js';
import { readMeshFile } from '../mesh-file.js';
import { MeshError } from '../../lib/errors.js';
import { controllerName, systemNamespace } from './system-objects.js';

export interface WaitReadyOptions {
  stateDir: string;
  meshName: string;
  /** the daemon's pid, as it will write it into mesh.json */
  pid: number;
  timeoutMs: number;
  log: (line: string) => void;
  /** rejects (or resolves) when the daemon ends early; waiting stops then */
  daemonEnded: Promise<unknown>;
  /** extra text for a timeout error (e.g. where the daemon log is) */
  hint?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Returns a connected API once the mesh is ready. */
export async function waitUntilReady(opts: WaitReadyOptions): Promise<MeshApi> {
  let ended: unknown;
  let hasEnded = false;
  opts.daemonEnded.then(
    () => ((hasEnded = true), (ended = new Error('the daemon stopped while starting'))),
    (e: unknown) => ((hasEnded = true), (ended = e)),
  );
  const deadline = Date.now() + opts.timeoutMs;
  const check = async () => {
    await sleep(100);
    if (hasEnded) throw ended;
    if (Date.now() > deadline) {
      throw new MeshError('MESH_ERR_TIMEOUT', `mesh "${opts.meshName}" was not ready within ${opts.timeoutMs / 1000}s${opts.hint ? `; ${opts.hint}` : ''}`);
    }
  };

  // 1. The daemon writes mesh.json with its pid once its API server listens.
  while (readMeshFileQuietly(opts.stateDir)?.pid !== opts.pid) await check();
  const api = await connectMesh(opts.stateDir);
  opts.log(`API server is up at ${readMeshFileQuietly(opts.stateDir)?.apiUrl ?? '?'}; waiting for the control plane`);

  // 2. The control plane runs as an ordinary pod; the mesh is ready when that pod is.
  const query = { kind: 'Pod', namespace: systemNamespace(opts.meshName), labelSelector: `app=${controllerName(opts.meshName)}` };
  let lastState = '';
  for (;;) {
    let pods: Resource[] = [];
    try {
      pods = await api.list(query);
    } catch {
      // the API may still be settling; keep trying until the deadline
    }
    const state = describeControlPlane(pods);
    if (state === 'ready') break;
    if (state !== lastState) opts.log(`control plane: ${state}`);
    lastState = state;
    await check();
  }
  opts.log('control plane is ready');
  return api;
}

function readMeshFileQuietly(stateDir: string) {
  try {
    return readMeshFile(stateDir);
  } catch {
    return undefined; // being written
  }
}

/** `ready`, or a short phrase a person can act on. */
function describeControlPlane(pods: Resource[]): string {
  const first = pods[0] as Pod | undefined;
  if (!first) return 'waiting for its pod to be created';
  if (pods.some(isPodReady)) return 'ready';
  const waiting = first.status?.containerStatuses?.[0]?.state?.waiting;
  const why = waiting ? ` (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})` : '';
  return `pod ${first.metadata.name} not ready${why}`;
}
