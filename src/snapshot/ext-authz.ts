/** Resolves a CUSTOM AuthorizationPolicy's `provider.name` against MeshConfig `spec.extensionProviders` (security-rules.md §1 CUSTOM). */
import type { MeshConfigSpec } from '../api/types.js';
import { parseGoDuration } from '../api/validation/duration.js';
import type { InboundExtAuthz } from './types.js';

/** Istio's ext_authz default timeout is 600 ms; the mesh uses 2 s so a cold authorizer pod is not a denial. */
export const DEFAULT_EXT_AUTHZ_TIMEOUT_MS = 2000;

const lower = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').map((x) => x.toLowerCase()) : undefined);

/** undefined when the name is unknown or the entry is unusable: the sidecar then fails closed and says why. */
export function resolveExtAuthz(spec: MeshConfigSpec, name: string): InboundExtAuthz | undefined {
  const list = Array.isArray(spec.extensionProviders) ? spec.extensionProviders : [];
  const http = list.find((p) => p && p.name === name)?.envoyExtAuthzHttp;
  if (!http || typeof http.service !== 'string' || !http.service || typeof http.port !== 'number') return undefined;
  const timeout = typeof http.timeout === 'string' ? parseGoDuration(http.timeout) : undefined;
  const include = lower(http.includeRequestHeadersInCheck);
  return {
    Name: name,
    Service: http.service,
    Port: http.port,
    TimeoutMs: timeout && timeout > 0 ? timeout : DEFAULT_EXT_AUTHZ_TIMEOUT_MS,
    PathPrefix: typeof http.pathPrefix === 'string' ? http.pathPrefix : '',
    ...(include ? { IncludeRequestHeaders: include } : {}),
    HeadersToUpstreamOnAllow: lower(http.headersToUpstreamOnAllow) ?? [],
  };
}
