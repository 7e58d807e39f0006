/**
 * modules/outbound-circuit-breaker.js: UpstreamTrafficSetting `connectionSettings` on the client
 * side, per upstream cluster. Connection-pool limits (Envoy's circuit breakers: `maxConnections`,
 * `maxRequests`, `maxPendingRequests`) answer overflow with Envoy's 503; the error/slow breaker
 * (FSM's `circuitBreaking`) answers with the degraded status and body while open. Both refusals go
 * through `ctx.denial`, so the access log always records them with the reason. A snapshot with no
 * ConnectionSettings compiles to no module.
 *
 * `tcp.maxConnections` also caps the client's TCP connections to a TCP service (FSM: "TCP settings
 * apply to both TCP and HTTP traffic"): see `withOutboundTcpConnectionLimit`.
 *
 * Stats (Envoy's names where Envoy has one): `cluster.<c>.upstream_cx_overflow`,
 * `cluster.<c>.upstream_rq_pending_overflow`, and for the breaker
 * `cluster.<c>.circuit_breakers.default.opened` / `.closed` / `.rq_degraded`.
 */
import { makeResponse } from '../chain/context.js';
import type { HttpContext, HttpModule, Next, TcpContext } from '../chain/types.js';
import { isoNow, jsonString } from '../observability/log.js';
import type { ConnectionSettings } from '../../snapshot/upstream-traffic.js';
import { CircuitBreaker, ConcurrencyLimit, stateStore } from '../traffic/index.js';
import type { ModuleEnv, TcpModuleFactory } from './env.js';

interface ClusterGuard {
  limit: ConcurrencyLimit | undefined;
  breaker: CircuitBreaker | undefined;
  policy: string;
}

const OVERFLOW_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';

function guardFor(env: ModuleEnv, cluster: string, cs: ConnectionSettings): ClusterGuard | undefined {
  const limit = new ConcurrencyLimit({
    maxConnections: cs.tcp?.MaxConnections,
    maxRequests: cs.http?.MaxRequests,
    maxPendingRequests: cs.http?.MaxPendingRequests,
  });
  const cb = cs.http?.CircuitBreaking;
  const policy = cs.Policy ?? 'UpstreamTrafficSetting';
  const breaker = cb
    ? new CircuitBreaker(cb, Date.now, (event, trip) => {
        env.metrics.countStat(`circuit_breakers.default.${event}`, cluster);
        if (event === 'opened') env.log.info('circuit breaker opened', { cluster, policy, ...trip, degradedSeconds: cb.DegradedTimeWindow });
        else env.log.info('circuit breaker closed', { cluster, policy });
      })
    : undefined;
  if (limit.unlimited && !breaker) return undefined;
  return { limit: limit.unlimited ? undefined : limit, breaker, policy };
}

export function outboundCircuitBreaker(env: ModuleEnv): HttpModule | null {
  const store = stateStore<ClusterGuard | null>(env.metrics, 'outbound-circuit-breaker');
  const guards = new Map<string, ClusterGuard>();
  const used = new Set<string>();
  for (const [cluster, cc] of Object.entries(env.snapshot.Outbound.ClustersConfigs)) {
    const cs = cc?.ConnectionSettings;
    if (!cs || typeof cs !== 'object') continue;
    const key = `${cluster}\0${JSON.stringify(cs)}`;
    used.add(key);
    const g = store.get(key, () => guardFor(env, cluster, cs) ?? null);
    if (!g) continue;
    guards.set(cluster, g);
    if (g.limit) for (const s of ['upstream_cx_overflow', 'upstream_rq_pending_overflow']) env.metrics.declareStat(s, cluster);
    if (g.breaker) for (const s of ['opened', 'closed', 'rq_degraded']) env.metrics.declareStat(`circuit_breakers.default.${s}`, cluster);
  }
  store.keep(used);
  if (guards.size === 0) return null;

  return async function outboundCircuitBreaker(ctx, next) {
    const cluster = ctx.cluster?.name;
    const g = cluster !== undefined && !ctx.denial ? guards.get(cluster) : undefined;
    if (!g) return next();
    if (g.breaker?.isOpen()) {
      env.metrics.countStat('circuit_breakers.default.rq_degraded', cluster);
      const trip = g.breaker.lastTrip;
      return refuse(ctx, next, makeResponse(g.breaker.degradedStatus, g.breaker.degradedBody), `circuit breaker open: ${g.policy}${trip ? ` (${trip.cause})` : ''}`);
    }
    if (g.limit) {
      const a = g.limit.admit();
      if (a.kind !== 'go' && a.connectionOverflow) env.metrics.countStat('upstream_cx_overflow', cluster);
      if (a.kind === 'overflow') {
        env.metrics.countStat('upstream_rq_pending_overflow', cluster);
        const response = makeResponse(503, OVERFLOW_BODY, { 'x-envoy-overloaded': 'true', 'content-type': 'text/plain' });
        return refuse(ctx, next, response, `upstream overflow: ${g.policy} connection limits (upstream_rq_pending_overflow)`);
      }
      if (a.kind === 'wait') await a.ready;
    }
    const started = Date.now();
    g.breaker?.started();
    try {
      await next();
    } finally {
      g.limit?.release();
      g.breaker?.finished(ctx.response?.status ?? 0, Date.now() - started);
    }
  };
}

/** Records the refusal and lets the chain go on (logging, metrics); the load balancer sees no cluster. */
function refuse(ctx: HttpContext, next: Next, response: NonNullable<HttpContext['response']>, reason: string): Promise<void> {
  ctx.denial = { response, reason };
  ctx.cluster = undefined;
  ctx.route = undefined;
  return next();
}

/** Open TCP connections to one cluster, against its `tcp.maxConnections`. */
interface TcpConnections {
  open: number;
  max: number;
  policy: string;
}

/**
 * Wraps modules/outbound-tcp-load-balancing.js: a connection to a cluster already holding
 * `maxConnections` open connections from this sidecar is closed at once, counted as Envoy's
 * `upstream_cx_overflow` and written to the access log with the reason. No TCP limit: the module as is.
 */
export function withOutboundTcpConnectionLimit(loadBalancing: TcpModuleFactory): TcpModuleFactory {
  return (env) => {
    const inner = loadBalancing(env);
    const store = stateStore<TcpConnections>(env.metrics, 'outbound-tcp-connections');
    const limits = new Map<string, TcpConnections>();
    const used = new Set<string>();
    for (const [cluster, cc] of Object.entries(env.snapshot.Outbound.ClustersConfigs)) {
      const max = cc?.ConnectionSettings?.tcp?.MaxConnections;
      if (typeof max !== 'number') continue;
      const key = `${cluster}\0${max}`;
      used.add(key);
      limits.set(cluster, store.get(key, () => ({ open: 0, max, policy: cc.ConnectionSettings?.Policy ?? 'UpstreamTrafficSetting' })));
      env.metrics.declareStat('upstream_cx_overflow', cluster);
    }
    store.keep(used);
    if (limits.size === 0 || !inner) return inner;
    const lb = inner;
    return async function outboundTcpLoadBalancingWithLimit(ctx, next) {
      const cluster = ctx.cluster?.name;
      const l = cluster !== undefined ? limits.get(cluster) : undefined;
      if (!l) return lb(ctx, next);
      if (l.open >= l.max) {
        env.metrics.countStat('upstream_cx_overflow', cluster);
        return refuseConnection(env, ctx, `upstream overflow: ${l.policy} maxConnections ${l.max} (upstream_cx_overflow)`);
      }
      l.open++;
      try {
        await lb(ctx, next);
      } finally {
        l.open--;
      }
    };
  };
}

function refuseConnection(env: ModuleEnv, ctx: TcpContext, reason: string): void {
  const destination = ctx.service?.name ?? ctx.cluster?.name ?? 'unknown';
  env.log.access(
    `{"time":"${isoNow()}","type":"access","protocol":"tcp","direction":"${ctx.direction}","source":${jsonString(`${ctx.source.address}:${ctx.source.port}`)},` +
      `"sourceService":${jsonString(env.snapshot.Spec.ServiceIdentity)},"target":${jsonString(`${ctx.target.host}:${ctx.target.port}`)},` +
      `"destination":${jsonString(destination)},"upstream":null,"denied":${jsonString(reason)}}`,
  );
  ctx.cluster = undefined;
  ctx.handled = true;
  ctx.reject(reason);
}
