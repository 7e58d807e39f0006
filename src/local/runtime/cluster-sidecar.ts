/**
 * The sidecar a Kubernetes injector prepared for a cluster, run by a local runtime: `tessera node`'s
 * pods, and `tessera up`'s pods injected by an installed mesh's webhook (its env names
 * `TESSERA_PROXY_TOKEN_FILE`). Where it finds its controller: a URL the runtime was given, or the one
 * its spec names, with a Service's `<name>.<namespace>.svc` resolved to one of its ready endpoints
 * (what cluster DNS and kube-proxy do for it on a cluster), the certificate still checked for the name.
 */
import type { Resource } from '../../api/types.js';
import { SIDECAR_ENV } from '../layout.js';
import { HEALTH_PROBES_ENV } from '../../sidecar/health-probes/index.js';
import { specEnv } from './app-env.js';
import type { ImageRuntime } from './types.js';

/**
 * The sidecar runtime as the node runs it. A sidecar the Kubernetes injector prepared for a cluster
 * (its env names `TESSERA_PROXY_TOKEN_FILE`: a projected ServiceAccount token the controller checks
 * with a TokenReview) gets no token minted with the mesh key. In namespace mode it gets the env its
 * container spec declares, as a kubelet would start it (the pod is a sandbox like a cluster's, its
 * volumes bind-mounted at their paths). In loopback mode the pod is not (its apps on their own
 * loopback address, no interception), so only the bootstrap comes from the spec — the controller's
 * URL, the CA file and the token file, their paths rewritten to the volumes — and the runtime's
 * env stays for the rest. `--controller-url` then still says where the controller is for this node
 * (a host process in tests); in namespace mode the sidecar dials it through the node's relay on the
 * bridge gateway (same port) and verifies the certificate for the URL's own host.
 */
export function sidecarForNode(runtime: ImageRuntime, url: string | undefined, gateway: string | undefined, serverName?: string): ImageRuntime {
  const target = url ? new URL(url) : undefined;
  const at: Record<string, string> = !target ? {} : gateway
    ? { [SIDECAR_ENV.controllerUrl]: `https://${gateway}:${target.port || '443'}`, [SIDECAR_ENV.controllerServerName]: target.hostname.replace(/^\[|\]$/g, '') }
    : { [SIDECAR_ENV.controllerUrl]: url!, ...(serverName ? { [SIDECAR_ENV.controllerServerName]: serverName } : {}) };
  return {
    ...runtime,
    matches: (...args) => runtime.matches(...args),
    command: (ctx) => {
      const c = runtime.command(ctx);
      const env = { ...c.env };
      const declared = specEnv(ctx);
      if (SIDECAR_ENV.proxyTokenFile in declared) {
        if (ctx.sandbox) Object.assign(env, declared);
        else {
          // (the mesh it joins is the injector's, not the runtime's own)
          for (const name of [SIDECAR_ENV.meshName, SIDECAR_ENV.controllerUrl, SIDECAR_ENV.controllerCa, SIDECAR_ENV.proxyTokenFile, HEALTH_PROBES_ENV]) {
            if (declared[name] !== undefined) env[name] = declared[name];
          }
        }
        delete env[SIDECAR_ENV.proxyToken];
      } else if (HEALTH_PROBES_ENV in declared) {
        // the probes the injector rewrote to the sidecar's ports: it serves them from their originals
        env[HEALTH_PROBES_ENV] = declared[HEALTH_PROBES_ENV]!;
      }
      return { ...c, env: { ...env, ...at } };
    },
  };
}

/** Whether the sidecar was injected for a cluster (it bootstraps with a projected token, not the mesh key). */
export function isClusterSidecar(env: Record<string, string>): boolean {
  return SIDECAR_ENV.proxyTokenFile in env;
}

const SERVICE_HOST = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?\.?$/;

interface Slice {
  ports?: { name?: string; port?: number }[];
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean } }[];
}

/** `http(s)://<svc>.<ns>.svc[.cluster.local][:<port>]…` → the Service and port it names (the certificate's name: `serverName`). */
export function serviceOfUrl(url: string): { name: string; namespace: string; port: number; serverName: string; url: URL } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const m = SERVICE_HOST.exec(u.hostname);
  if (!m) return undefined;
  return { name: m[1]!, namespace: m[3]!, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)), serverName: u.hostname.replace(/\.$/, ''), url: u };
}

/**
 * `https://<svc>.<ns>.svc[.cluster.local]:<port>` → a ready endpoint of that Service (the service
 * port mapped to the endpoint's port by name), and the name the certificate must carry; undefined
 * for other URLs or a Service without a ready endpoint.
 */
export function resolveServiceUrl(url: string, lookup: { get(kind: string, namespace: string, name: string, group?: string): Resource | undefined; slices(namespace: string, service: string): Resource[] }): { url: string; serverName: string } | undefined {
  const named = serviceOfUrl(url);
  if (!named) return undefined;
  const { name, namespace, port, url: u } = named;
  const svc = lookup.get('Service', namespace, name) as { spec?: { ports?: { name?: string; port: number }[] } } | undefined;
  const sp = svc?.spec?.ports?.find((p) => p.port === port);
  if (!sp) return undefined;
  for (const slice of lookup.slices(namespace, name) as unknown as Slice[]) {
    const target = (slice.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? ''))?.port;
    const ready = (slice.endpoints ?? []).find((e) => e.conditions?.ready !== false && (e.addresses ?? []).length > 0);
    if (target === undefined || !ready) continue;
    const ip = ready.addresses![0]!;
    return { url: `${u.protocol}//${ip.includes(':') ? `[${ip}]` : ip}:${target}${u.pathname === '/' ? '' : u.pathname}`, serverName: named.serverName };
  }
  return undefined;
}
