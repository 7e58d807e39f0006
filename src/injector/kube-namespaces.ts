/**
 * Kubernetes mode: the injector reads the pod's namespace from the API server with its own
 * ServiceAccount (its ClusterRole grants `get namespaces` and nothing else), as FSM's webhook does.
 * The API server sends a webhook only the pod and the namespace's name; the namespace's labels and
 * annotations decide injection.
 *
 * Where the API is comes from the environment (`INJECTOR_KUBE_ENV`): a kubeconfig file (tests, a
 * hand-started injector), or the API URL, CA file and token file (a pod: the ServiceAccount's
 * projected token, re-read as the kubelet rotates it). Without either the injector is in local mode
 * and answers only the daemon's protocol.
 */
import { readFileSync } from 'node:fs';
import type { Namespace } from '../api/types.js';
import { ApiTransport } from '../local/api-transport.js';
import { KubeMeshApi } from '../local/client/kube-mesh-api.js';
import { readKubeconfig } from '../local/client/kubeconfig.js';
import type { NamespaceInfo } from './protocol.js';

export const INJECTOR_KUBE_ENV = {
  /** a kubeconfig for the injector's ServiceAccount (its current context) */
  kubeconfig: 'TESSERA_INJECTOR_KUBECONFIG',
  /** or: the API server's URL, */
  apiUrl: 'TESSERA_INJECTOR_API_URL',
  /** the CA its certificate chains to, */
  apiCa: 'TESSERA_INJECTOR_API_CA_FILE',
  /** and the file holding the ServiceAccount's token (re-read when it changes) */
  apiTokenFile: 'TESSERA_INJECTOR_API_TOKEN_FILE',
} as const;

export type NamespaceLookup = (name: string) => Promise<NamespaceInfo>;

const REQUEST_TIMEOUT_MS = 5_000;
/** A namespace read this recently is reused: a ReplicaSet creating ten pods reads it once. */
const CACHE_MS = 2_000;
const TOKEN_RECHECK_MS = 30_000;

/** Reads namespaces through `api`, caching each for a moment (failures are not cached). */
export function namespaceLookup(api: () => KubeMeshApi, opts: { cacheMs?: number; now?: () => number } = {}): NamespaceLookup {
  const cacheMs = opts.cacheMs ?? CACHE_MS;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { at: number; info: Promise<NamespaceInfo> }>();
  return (name) => {
    const hit = cache.get(name);
    if (hit && now() - hit.at < cacheMs) return hit.info;
    const info = api()
      .request<Namespace>('GET', `/api/v1/namespaces/${encodeURIComponent(name)}`, { timeoutMs: REQUEST_TIMEOUT_MS, label: `Namespace ${name}` })
      .then((ns) => ({
        name,
        ...(ns.metadata.labels ? { labels: ns.metadata.labels } : {}),
        ...(ns.metadata.annotations ? { annotations: ns.metadata.annotations } : {}),
      }));
    cache.set(name, { at: now(), info });
    info.catch(() => cache.delete(name));
    if (cache.size > 1000) for (const [k, v] of cache) if (now() - v.at >= cacheMs) cache.delete(k);
    return info;
  };
}

/** The namespace source the environment describes, or undefined (local mode). Throws on a half-configured environment. */
export function namespaceLookupFromEnv(env: Record<string, string | undefined> = process.env): { lookup: NamespaceLookup; server: string } | undefined {
  const kubeconfig = env[INJECTOR_KUBE_ENV.kubeconfig];
  if (kubeconfig) {
    const t = readKubeconfig(kubeconfig);
    const transport = new ApiTransport(t.caPem, { ...(t.cert ? { cert: t.cert } : {}), ...(t.key ? { key: t.key } : {}) });
    const api = new KubeMeshApi({ baseUrl: t.server, transport, ...(t.token ? { token: t.token } : {}) });
    return { lookup: namespaceLookup(() => api), server: t.server };
  }
  const url = env[INJECTOR_KUBE_ENV.apiUrl];
  if (!url) return undefined;
  const caFile = env[INJECTOR_KUBE_ENV.apiCa];
  const tokenFile = env[INJECTOR_KUBE_ENV.apiTokenFile];
  if (!caFile || !tokenFile) throw new Error(`${INJECTOR_KUBE_ENV.apiUrl} needs ${INJECTOR_KUBE_ENV.apiCa} and ${INJECTOR_KUBE_ENV.apiTokenFile}`);
  const transport = ApiTransport.fromFile(caFile);
  const baseUrl = url.replace(/\/+$/, '');
  let current: { token: string; api: KubeMeshApi; checkedAt: number } | undefined;
  const api = (): KubeMeshApi => {
    if (current && Date.now() - current.checkedAt < TOKEN_RECHECK_MS) return current.api;
    const token = readFileSync(tokenFile, 'utf8').trim();
    if (!current || current.token !== token) current = { token, api: new KubeMeshApi({ baseUrl, transport, token }), checkedAt: Date.now() };
    else current.checkedAt = Date.now();
    return current.api;
  };
  return { lookup: namespaceLookup(api), server: baseUrl };
}
