/** Waiting until a starting daemon serves its API and its control-plane pods (controller, injector) are Ready. */
import type { Pod, Resource } from '../../api/types.js';
import type { MeshApi } from '../api-contract.js';
import { connectMesh } from '../client/index.js';
import { isPodReady } from '../controllers/index.js';
import { readMeshFile } from '../mesh-file.js';
import { MeshError } from '../../lib/errors.js';
import { controllerName, injectorName, systemNamespace } from './system-objects.js';

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

  // 2. The control plane runs as ordinary pods; the mesh is ready when the controller and the
  // injector are (without the injector no meshed pod can be created). Bootstrap may follow later.
  const components = [controllerName(opts.meshName), injectorName(opts.meshName)];
  let lastState = '';
  for (;;) {
    const states: string[] = [];
    for (const app of components) {
      let pods: Resource[] = [];
      try {
        pods = await api.list({ kind: 'Pod', namespace: systemNamespace(opts.meshName), labelSelector: `app=${app}` });
      } catch {
        // the API may still be settling; keep trying until the deadline
      }
      const state = describeComponent(pods);
      if (state !== 'ready') states.push(`${app} ${state}`);
    }
    if (states.length === 0) break;
    const state = states.join('; ');
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
function describeComponent(pods: Resource[]): string {
  const first = pods[0] as Pod | undefined;
  if (!first) return 'waiting for its pod to be created';
  if (pods.some(isPodReady)) return 'ready';
  const waiting = first.status?.containerStatuses?.[0]?.state?.waiting;
  const why = waiting ? ` (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})` : '';
  return `pod ${first.metadata.name} not ready${why}`;
}
