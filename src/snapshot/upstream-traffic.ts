/**
 * UpstreamTrafficSetting in the snapshot, on the sides FSM puts it: the connection settings and
 * circuit breaking go on the clients' outbound cluster of the host service
 * (`ClusterConfig.ConnectionSettings`); the local rate limits go on the host's own pods, inbound —
 * TCP on the traffic match (`InboundTrafficMatch.RateLimit`), HTTP on the service rule
 * (`HttpServiceRule.RateLimit`). Field names are FSM's config.json ones; durations are seconds.
 *
 * Tessera additions: FSM attaches `httpRoutes[].path` to the SMI route whose path regex is the same
 * string, so in permissive mode (one `.*` route) a per-route limit never applies. Here it is a regex
 * matched against the request path (`HttpServiceRule.RouteRateLimits`), which gives the same answer
 * under SMI and also works in permissive mode. `httpHeaders` (`HeaderRateLimits`) has no FSM twin.
 */
import { parseGoDuration } from '../api/validation/duration.js';
import { RATE_LIMIT_UNITS, type HttpLocalRateLimit, type UpstreamTrafficSetting } from '../api/upstream-traffic-types.js';
import { keyOf } from '../catalog/pods.js';
import type { Catalog } from '../catalog/types.js';

export interface CircuitBreakingConfig {
  /** seconds */
  StatTimeWindow: number;
  MinRequestAmount: number;
  /** seconds */
  DegradedTimeWindow: number;
  /** seconds */
  SlowTimeThreshold?: number;
  SlowAmountThreshold?: number;
  SlowRatioThreshold?: number;
  ErrorAmountThreshold?: number;
  ErrorRatioThreshold?: number;
  DegradedStatusCode?: number;
  DegradedResponseContent?: string;
}

/** FSM's `ClusterConfig.ConnectionSettings` (lower-case `tcp` / `http` keys, as FSM writes them). */
export interface ConnectionSettings {
  tcp?: { MaxConnections?: number; /** seconds */ ConnectTimeout?: number };
  http?: {
    MaxRequests?: number;
    MaxRequestsPerConnection?: number;
    MaxPendingRequests?: number;
    MaxRetries?: number;
    CircuitBreaking?: CircuitBreakingConfig;
  };
  /** Tessera addition: `ns/name` of the UpstreamTrafficSetting, for logs */
  Policy?: string;
}

export interface HttpLocalRateLimitConfig {
  Requests: number;
  /** seconds: the unit */
  StatTimeWindow: number;
  Burst?: number;
  ResponseStatusCode?: number;
  ResponseHeadersToAdd?: { Name: string; Value: string }[];
}

export interface HttpRateLimitConfig {
  Local: HttpLocalRateLimitConfig;
}

export interface TcpRateLimitConfig {
  Local: { Connections: number; StatTimeWindow: number; Burst?: number };
}

/** Tessera addition: a limit for the requests whose path matches `Path` (a regex over the whole path, query excluded). */
export interface RouteRateLimit {
  Path: string;
  RateLimit: HttpRateLimitConfig;
}

/** Tessera addition: a limit for the requests carrying every header listed (lower-case name → exact value). */
export interface HeaderRateLimit {
  Headers: Record<string, string>;
  RateLimit: HttpRateLimitConfig;
}

const seconds = (d: string | undefined): number | undefined => {
  if (d === undefined) return undefined;
  const ms = parseGoDuration(d);
  return ms === undefined ? undefined : ms / 1000;
};

function settingFor(catalog: Catalog, namespace: string, service: string): UpstreamTrafficSetting | undefined {
  return catalog.upstreamTrafficSettings.get(keyOf(namespace, service));
}

const policyName = (u: UpstreamTrafficSetting): string => `${u.metadata.namespace ?? 'default'}/${u.metadata.name}`;

/** Drops undefined fields so the snapshot (and its hash) carry only what was written. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** The outbound cluster's ConnectionSettings for a service, or undefined when no setting names it. */
export function connectionSettingsFor(catalog: Catalog, namespace: string, service: string): ConnectionSettings | undefined {
  const u = settingFor(catalog, namespace, service);
  const cs = u?.spec?.connectionSettings;
  if (!u || !cs) return undefined;
  const out: ConnectionSettings = { Policy: policyName(u) };
  if (cs.tcp) out.tcp = defined({ MaxConnections: cs.tcp.maxConnections, ConnectTimeout: seconds(cs.tcp.connectTimeout) });
  if (cs.http) {
    const cb = cs.http.circuitBreaking;
    out.http = defined({
      MaxRequests: cs.http.maxRequests,
      MaxRequestsPerConnection: cs.http.maxRequestsPerConnection,
      MaxPendingRequests: cs.http.maxPendingRequests,
      MaxRetries: cs.http.maxRetries,
      CircuitBreaking: cb
        ? defined({
            StatTimeWindow: seconds(cb.statTimeWindow)!,
            MinRequestAmount: cb.minRequestAmount,
            DegradedTimeWindow: seconds(cb.degradedTimeWindow)!,
            SlowTimeThreshold: seconds(cb.slowTimeThreshold),
            SlowAmountThreshold: cb.slowAmountThreshold,
            SlowRatioThreshold: cb.slowRatioThreshold,
            ErrorAmountThreshold: cb.errorAmountThreshold,
            ErrorRatioThreshold: cb.errorRatioThreshold,
            DegradedStatusCode: cb.degradedStatusCode,
            DegradedResponseContent: cb.degradedResponseContent,
          })
        : undefined,
    });
  }
  return out;
}

function httpLimit(l: HttpLocalRateLimit | undefined): HttpRateLimitConfig | undefined {
  if (!l) return undefined;
  return {
    Local: defined({
      Requests: l.requests,
      StatTimeWindow: RATE_LIMIT_UNITS[l.unit],
      Burst: l.burst,
      ResponseStatusCode: l.responseStatusCode,
      ResponseHeadersToAdd: l.responseHeadersToAdd?.map((h) => ({ Name: h.name, Value: h.value })),
    }),
  };
}

/** What the host's inbound HTTP service rule gets: the service-wide, per-route and per-header limits. */
export interface InboundHttpLimits {
  RateLimit?: HttpRateLimitConfig;
  RouteRateLimits?: RouteRateLimit[];
  HeaderRateLimits?: HeaderRateLimit[];
}

export function inboundHttpLimits(catalog: Catalog, namespace: string, service: string): InboundHttpLimits | undefined {
  const spec = settingFor(catalog, namespace, service)?.spec;
  if (!spec) return undefined;
  const out: InboundHttpLimits = {};
  const service_ = httpLimit(spec.rateLimit?.local?.http);
  if (service_) out.RateLimit = service_;
  const routes: RouteRateLimit[] = [];
  for (const r of spec.httpRoutes ?? []) {
    const l = httpLimit(r.rateLimit?.local);
    if (l) routes.push({ Path: r.path, RateLimit: l });
  }
  if (routes.length) out.RouteRateLimits = routes;
  const headers: HeaderRateLimit[] = [];
  for (const h of spec.httpHeaders ?? []) {
    const l = httpLimit(h.rateLimit?.local);
    if (l) headers.push({ Headers: Object.fromEntries(h.headers.map((x) => [x.name.toLowerCase(), x.value])), RateLimit: l });
  }
  if (headers.length) out.HeaderRateLimits = headers;
  return Object.keys(out).length ? out : undefined;
}

export function inboundTcpLimit(catalog: Catalog, namespace: string, service: string): TcpRateLimitConfig | undefined {
  const t = settingFor(catalog, namespace, service)?.spec?.rateLimit?.local?.tcp;
  if (!t) return undefined;
  return { Local: defined({ Connections: t.connections, StatTimeWindow: RATE_LIMIT_UNITS[t.unit], Burst: t.burst }) };
}
