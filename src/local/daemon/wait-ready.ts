/** Waiting until a starting daemon serves its API and its control-plane pods (controller, injector) are Ready. */
import type { Pod, Resource } from '../../api/types.js';
import type { MeshApi } from '../api-contract.js';
import { connectMesh } from '../client/index.js';
import { isPodReady } from '../controllers/index.js';
import { readMeshFile } from '../mesh-file.js';
import { MeshError } from '../../lib/errors.js';
import { readFileSync } from 'node:fs';
import { CONTROLLER_PORT, INJECTOR_PORT, controllerAddress, injectorAddress, stateFiles } from '../layout.js';
import { whoAnswers } from '../runtime/readiness.js';
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

/** Something that holds a component's address without completing a TLS handshake for this long is not ours. */
const NOT_TLS_GRACE_MS = 5_000;

/**
 * Notices a process squatting a control-plane address: whatever answers there must present a
 * certificate of this mesh's cluster CA. A wrong certificate is conclusive at once; a listener that
 * does not speak TLS is, once it has done so for NOT_TLS_GRACE_MS (our own server always does).
 */
export class SquatterCheck {
  private notTlsSince = new Map<string, number>();

  constructor(private readonly caPem: string, private readonly targets: { component: string; host: string; port: number }[]) {}

  static forMesh(stateDir: string, meshName: string, block: number): SquatterCheck | undefined {
    let ca: string;
    try {
      ca = readFileSync(stateFiles.apiCa(stateDir), 'utf8');
    } catch {
      return undefined;
    }
    return new SquatterCheck(ca, [
      { component: controllerName(meshName), host: controllerAddress(block), port: CONTROLLER_PORT },
      { component: injectorName(meshName), host: injectorAddress(block), port: INJECTOR_PORT },
    ]);
  }

  /** Throws MESH_ERR_FORBIDDEN naming the address and what answered if a component's address is taken. */
  async check(components: Set<string>, now = Date.now()): Promise<void> {
    for (const t of this.targets) {
      if (!components.has(t.component)) continue;
      const who = await whoAnswers(t.host, t.port, this.caPem);
      const where = `${t.host}:${t.port}`;
      if (who.kind === 'impostor') throw squatted(t.component, where, who.reason);
      if (who.kind !== 'not-tls') {
        this.notTlsSince.delete(where);
        continue;
      }
      const since = this.notTlsSince.get(where) ?? now;
      this.notTlsSince.set(where, since);
      if (now - since >= NOT_TLS_GRACE_MS) throw squatted(t.component, where, who.reason);
    }
  }
}

function squatted(component: string, where: string, reason: string): MeshError {
  return new MeshError(
    'MESH_ERR_FORBIDDEN',
    `another process holds ${component}'s address ${where}: ${reason}. It is not this mesh's ${component}; `
      + 'stop it (e.g. `ss -ltnp` shows who listens there) and run `tessera up` again',
  );
}

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
  const block = readMeshFileQuietly(opts.stateDir)?.block;
  const squatters = block === undefined ? undefined : SquatterCheck.forMesh(opts.stateDir, opts.meshName, block);
  let lastState = '';
  for (;;) {
    const states: string[] = [];
    const notReady = new Set<string>();
    for (const app of components) {
      let pods: Resource[] = [];
      try {
        pods = await api.list({ kind: 'Pod', namespace: systemNamespace(opts.meshName), labelSelector: `app=${app}` });
      } catch {
        // the API may still be settling; keep trying until the deadline
      }
      const state = describeComponent(pods);
      if (state !== 'ready') {
        states.push(`${app} ${state}`);
        notReady.add(app);
      }
    }
    if (states.length === 0) break;
    // Not ready yet: is it starting, or has another process taken its address (it never would be)?
    await squatters?.check(notReady);
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
