/**
 * A `fetch` for JWKS documents that resolves in-cluster names (`http://jwks.auth:8080/...`) the way
 * cluster DNS would, through the snapshot's Dns table (as pluginFetch does), and hands anything else
 * (external issuers, https) to the global fetch.
 */
import { parseAuthority, resolveService } from '../routing/index.js';
import type { RoutingTables } from '../routing/tables.js';
import type { UpstreamClient } from '../upstream/client.js';

export interface FetchTarget {
  tables: RoutingTables;
  upstream: UpstreamClient;
  /** mesh mTLS on (the snapshot's SidecarDisabledMTLS is false): a meshed key server is reached over mTLS */
  mtls?: boolean;
}

export function clusterFetch(target: () => FetchTarget): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const t = target();
    const port = url.port ? Number(url.port) : 80;
    const resolved = url.protocol === 'http:' ? resolveService(t.tables, parseAuthority(url.host).host, port) : undefined;
    if (!resolved || resolved.endpoints.length === 0) return fetch(url, init);
    const endpoint = resolved.endpoints[Math.floor(Math.random() * resolved.endpoints.length)]!;
    const head = { method: 'GET', path: `${url.pathname}${url.search}`, authority: url.host, headers: { accept: 'application/json', host: url.host }, httpVersion: '1.1' };
    const signal = init?.signal ?? undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return;
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    // A meshed server (the token service, say) only speaks mTLS: prove and check identities as outbound routing does.
    const [svc, ns] = resolved.fqdn.split('.');
    const cluster = t.tables.clusters.get(`${ns}/${svc}|${port}`)?.routed;
    const identities = t.mtls && cluster && !cluster.egress && cluster.identities && cluster.identities.length > 0 ? cluster.identities : undefined;
    const res = await Promise.race([t.upstream.request(endpoint, head, null, identities), aborted]);
    const body = await Promise.race([res.body.bytes(), aborted]);
    return new Response(body, { status: res.status });
  }) as typeof fetch;
}
