/** `status`: the mesh, its control plane (asked over HTTP, may be down) and every pod. */
import type { ContainerStatus, Pod } from '../../api/types.js';
import type { MeshStatus, ProxyStatus } from '../api-contract.js';
import { podIPOf } from '../controllers/index.js';
import type { ApiContext } from './context.js';

const CONTROL_PLANE_TIMEOUT_MS = 1500;

async function askControlPlane(ctx: ApiContext): Promise<ProxyStatus[] | undefined> {
  try {
    const res = await fetch(`${ctx.controllerUrl}/v1/proxies`, { signal: AbortSignal.timeout(CONTROL_PLANE_TIMEOUT_MS) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as unknown;
    return Array.isArray(body) ? (body as ProxyStatus[]) : undefined;
  } catch {
    return undefined; // down or starting: reported as not ready, never as an error
  }
}

/** kubectl's STATUS column: a waiting or terminated reason beats the phase. */
function podStatusText(pod: Pod): string {
  const statuses: ContainerStatus[] = pod.status?.containerStatuses ?? [];
  for (const s of statuses) if (s.state?.waiting?.reason) return s.state.waiting.reason;
  for (const s of statuses) if (s.state?.terminated?.reason) return s.state.terminated.reason;
  return pod.status?.phase ?? 'Pending';
}

export async function meshStatus(ctx: ApiContext): Promise<MeshStatus> {
  const proxies = await askControlPlane(ctx);
  const pods = ctx.store.list('Pod') as Pod[];
  const controller = pods.find((p) => p.metadata.namespace === `${ctx.meshName}-system` && p.metadata.name.startsWith(`${ctx.meshName}-controller`));
  const controlPlane: MeshStatus['controlPlane'] = { ready: proxies !== undefined, url: ctx.controllerUrl };
  if (controller) controlPlane.pod = `${controller.metadata.namespace}/${controller.metadata.name}`;
  return {
    meshName: ctx.meshName,
    stateDir: ctx.stateDir,
    apiUrl: ctx.url,
    pid: process.pid,
    controlPlane,
    proxies: proxies ?? [],
    workloads: pods.map((p) => {
      const statuses = p.status?.containerStatuses ?? [];
      const total = p.spec?.containers.length ?? statuses.length;
      const w: MeshStatus['workloads'][number] = {
        namespace: p.metadata.namespace!,
        name: p.metadata.name,
        ready: `${statuses.filter((s) => s.ready).length}/${total}`,
        status: podStatusText(p),
        restarts: statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0),
      };
      const ip = podIPOf(p, ctx.block);
      if (ip) w.podIP = ip;
      return w;
    }),
  };
}
