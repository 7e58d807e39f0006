/** Asks an `envoyExtAuthzHttp` provider about one request: 2xx allows, anything else, a timeout or an error denies (security-rules.md §1 CUSTOM, §11 rule 3). */
import type { InboundExtAuthz } from '../../snapshot/types.js';
import type { HeaderMap, RequestHead } from '../http/types.js';
import { resolveService } from '../routing/index.js';
import type { FetchTarget } from './cluster-fetch.js';

export type ExtAuthzVerdict = { allow: true; headers: HeaderMap } | { allow: false; reason: string };

/** Envoy's defaults when includeRequestHeadersInCheck is unset are broader; these are what authorizers read. */
function defaultIncluded(name: string): boolean {
  return name === 'authorization' || name === 'cookie' || name.startsWith('x-');
}

/** The check request's headers: every value of a multi-valued header is kept (CVE-2021-32777, §3). */
export function checkHeaders(p: InboundExtAuthz, request: RequestHead, sourceIp: string): HeaderMap {
  const out: HeaderMap = {};
  const wanted = p.IncludeRequestHeaders ? new Set(p.IncludeRequestHeaders) : undefined;
  for (const [k, v] of Object.entries(request.headers)) {
    if (v === undefined) continue;
    const name = k.toLowerCase();
    if (wanted ? wanted.has(name) : defaultIncluded(name)) out[name] = Array.isArray(v) ? [...v] : v;
  }
  // The socket peer, never a client-supplied chain: the authorizer may decide on it.
  out['x-forwarded-for'] = sourceIp;
  out['host'] = `${p.Service}:${p.Port}`;
  // No body is sent; say so, so a POST check is well framed.
  out['content-length'] = '0';
  delete out['transfer-encoding'];
  return out;
}

/** Only the headers the provider lists are copied upstream, so an authorizer cannot inject others. */
export function upstreamHeaders(p: InboundExtAuthz, answer: HeaderMap): HeaderMap {
  const out: HeaderMap = {};
  const byLower = new Map(Object.entries(answer).map(([k, v]) => [k.toLowerCase(), v]));
  for (const name of p.HeadersToUpstreamOnAllow) {
    const v = byLower.get(name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function timeout(ms: number): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  promise.catch(() => undefined);
  return { promise, cancel: () => clearTimeout(timer) };
}

export async function askExtAuthz(p: InboundExtAuthz, request: RequestHead, sourceIp: string, target: FetchTarget): Promise<ExtAuthzVerdict> {
  const where = `${p.Service}:${p.Port}`;
  // Only names the mesh can resolve: an unknown or deleted authorizer must deny, not leak to outside DNS.
  const resolved = resolveService(target.tables, p.Service, p.Port);
  if (!resolved || resolved.endpoints.length === 0) return { allow: false, reason: `provider ${p.Name}: ${where} has no endpoints` };
  const endpoint = resolved.endpoints[Math.floor(Math.random() * resolved.endpoints.length)]!;
  const head: RequestHead = { method: request.method, path: `${p.PathPrefix}${request.path}`, authority: where, headers: checkHeaders(p, request, sourceIp), httpVersion: '1.1' };
  // A meshed authorizer only speaks mTLS: check its identity as outbound routing does (as cluster-fetch).
  const [svc, ns] = resolved.fqdn.split('.');
  const cluster = target.tables.clusters.get(`${ns}/${svc}|${p.Port}`)?.routed;
  const identities = target.mtls && cluster && !cluster.egress && cluster.identities && cluster.identities.length > 0 ? cluster.identities : undefined;
  const t = timeout(p.TimeoutMs);
  try {
    const res = await Promise.race([target.upstream.request(endpoint, head, null, identities), t.promise]);
    // Drain the answer so the pooled connection is reusable; its content is not used.
    await Promise.race([res.body.bytes(), t.promise]);
    if (res.status >= 200 && res.status < 300) return { allow: true, headers: upstreamHeaders(p, res.headers) };
    return { allow: false, reason: `provider ${p.Name} answered ${res.status}` };
  } catch (e) {
    return { allow: false, reason: `provider ${p.Name} at ${where}: ${(e as Error).message}` };
  } finally {
    t.cancel();
  }
}
