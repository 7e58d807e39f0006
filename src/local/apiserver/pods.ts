/** Per-pod endpoints: process info for `exec`, container logs, and GETs relayed to the sidecar admin port. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import type { PodProcessInfo } from '../api-contract.js';
import { hasSidecar, podIPOf, SIDECAR_CONTAINER_NAME } from '../controllers/index.js';
import { localIPFor, SIDECAR_ADMIN_PORT, SIDECAR_OUTBOUND_PORT, stateFiles } from '../layout.js';
import { UPSTREAMS_FILE_ENV } from '../runtime/app-env.js';
import { UPSTREAMS_FILE } from '../../sidecar/listeners/upstreams.js';
import type { ApiContext } from './context.js';
import { getResource } from './queries.js';

const PROXY_TIMEOUT_MS = 2000;

function podOf(ctx: ApiContext, namespace: string, name: string): Pod {
  return getResource(ctx, 'Pod', name, namespace) as Pod;
}

function podIPOrThrow(ctx: ApiContext, pod: Pod): string {
  const ip = podIPOf(pod, ctx.block);
  if (!ip) throw new MeshError('MESH_ERR_NOT_FOUND', `pod "${pod.metadata.name}" has no IP yet`);
  return ip;
}

export function podInfo(ctx: ApiContext, namespace: string, name: string): PodProcessInfo {
  const pod = podOf(ctx, namespace, name);
  const podIP = podIPOrThrow(ctx, pod);
  const localIP = localIPFor(podIP);
  const sidecar = hasSidecar(pod);
  // What `tessera exec` sets so the command behaves as if inside the pod. NO_PROXY is cleared so a
  // NO_PROXY inherited from the user's shell cannot route mesh traffic around the sidecar.
  const env: Record<string, string> = {
    POD_NAME: name,
    POD_NAMESPACE: namespace,
    POD_IP: podIP,
    NO_PROXY: '',
    no_proxy: '',
  };
  const info: PodProcessInfo = { namespace, name, podIP, localIP, containers: (pod.spec?.containers ?? []).map((c) => c.name), env };
  if (sidecar) {
    info.proxyUrl = `http://${localIP}:${SIDECAR_OUTBOUND_PORT}`;
    info.adminUrl = `http://${podIP}:${SIDECAR_ADMIN_PORT}`;
    env.http_proxy = info.proxyUrl;
    env.HTTP_PROXY = info.proxyUrl;
    env[UPSTREAMS_FILE_ENV] = join(stateFiles.podDir(ctx.stateDir, namespace, name), UPSTREAMS_FILE);
  }
  return info;
}

/** Log text of one container; the default is the first app container, as kubectl picks. */
export async function podLogs(ctx: ApiContext, namespace: string, name: string, container?: string): Promise<string> {
  const pod = podOf(ctx, namespace, name);
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const chosen = container || names.find((n) => n !== SIDECAR_CONTAINER_NAME) || names[0];
  if (!chosen || !names.includes(chosen)) {
    throw new MeshError('MESH_ERR_USAGE', `container ${container} is not valid for pod ${name}: choose one of: [${names.join(' ')}]`);
  }
  try {
    return await readFile(stateFiles.containerLog(ctx.stateDir, namespace, name, chosen), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ''; // not started yet: nothing logged
    throw e;
  }
}

export interface RelayedResponse {
  status: number;
  contentType: string;
  body: string;
}

/** GETs `query` (e.g. `config_dump`, `stats?format=json`) on the pod's sidecar admin server. */
export async function proxyGet(ctx: ApiContext, namespace: string, name: string, query: string): Promise<RelayedResponse> {
  const pod = podOf(ctx, namespace, name);
  if (!hasSidecar(pod)) {
    throw new MeshError('MESH_ERR_USAGE',
      `pod ${namespace}/${name} has no sidecar: its namespace is not part of mesh "${ctx.meshName}" with sidecar injection enabled (tessera namespace add ${namespace})`);
  }
  const url = `http://${podIPOrThrow(ctx, pod)}:${SIDECAR_ADMIN_PORT}/${query.replace(/^\/+/, '')}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROXY_TIMEOUT_MS), redirect: 'manual' });
    return { status: res.status, contentType: res.headers.get('content-type') ?? 'text/plain', body: await res.text() };
  } catch (e) {
    const why = (e as Error).name === 'TimeoutError' ? `no answer within ${PROXY_TIMEOUT_MS} ms` : causeText(e);
    throw new MeshError('MESH_ERR_UPSTREAM', `the sidecar of pod ${namespace}/${name} did not answer at ${url}: ${why}`, { cause: e });
  }
}

function causeText(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}
