/**
 * modules/inbound-throttle-service.js and inbound-throttle-route.js: UpstreamTrafficSetting local
 * rate limits, enforced by the host service's own sidecar on its inbound side (as FSM does). One
 * token bucket per limit (src/sidecar/traffic/token-bucket.ts): the service-wide limit, then the
 * per-route (path regex) and per-header limits. A refused request gets the configured status (429
 * by default), headers and Envoy's body `local_rate_limited`; it goes through `ctx.denial`, so the
 * access log always has it with the reason. Also the TCP connection limit on inbound TCP ports.
 * A snapshot without limits compiles to no module.
 *
 * Stats, by Envoy's local rate limit names (FSM's Envoy stat prefix `http_local_rate_limiter`):
 * `http_local_rate_limiter.http_local_rate_limit.{enabled,enforced,ok,rate_limited}`, and for TCP
 * `local_rate_limit.inbound_tcp.rate_limited`.
 */
import { makeResponse } from '../chain/context.js';
import type { HttpContext, HttpModule } from '../chain/types.js';
import type { HttpServiceRule } from '../../snapshot/types.js';
import type { HttpRateLimitConfig } from '../../snapshot/upstream-traffic.js';
import { TokenBucket, stateStore } from '../traffic/index.js';
import type { ModuleEnv, TcpModuleFactory } from './env.js';
import { denyConnection } from './deny-connection.js';

const PREFIX = 'http_local_rate_limiter.http_local_rate_limit';
const STATS = ['enabled', 'enforced', 'ok', 'rate_limited'] as const;
// the names built once: a request through a limit counts two of them
const ENABLED = `${PREFIX}.enabled`;
const OK = `${PREFIX}.ok`;
const ENFORCED = `${PREFIX}.enforced`;
const RATE_LIMITED = `${PREFIX}.rate_limited`;
const TCP_STAT = 'local_rate_limit.inbound_tcp.rate_limited';

interface Limit {
  bucket: TokenBucket;
  config: HttpRateLimitConfig['Local'];
  /** what the access log says */
  what: string;
}

interface RouteLimit extends Limit {
  path: RegExp;
}

interface HeaderLimit extends Limit {
  headers: [string, string][];
}

function perUnit(l: HttpRateLimitConfig['Local'] | { Connections: number; StatTimeWindow: number; Burst?: number }): string {
  const n = 'Requests' in l ? l.Requests : l.Connections;
  const unit = l.StatTimeWindow === 1 ? 'second' : l.StatTimeWindow === 60 ? 'minute' : l.StatTimeWindow === 3600 ? 'hour' : `${l.StatTimeWindow}s`;
  return `${n}/${unit}${l.Burst ? ` burst ${l.Burst}` : ''}`;
}

/** Each HTTP service rule of every inbound match, keyed `port/rule`. */
function* inboundRules(env: ModuleEnv): Generator<[string, HttpServiceRule, number, string]> {
  for (const m of Object.values(env.snapshot.Inbound.TrafficMatches)) {
    for (const [rule, r] of Object.entries(m.HttpServiceRouteRules ?? {})) yield [`${m.Port}/${rule}`, r, m.Port, rule];
  }
}

/** port → service rule → T: looked up per request without building a key string. */
class ByPortAndRule<T> {
  private readonly ports = new Map<number, Map<string, T>>();
  size = 0;
  set(port: number, rule: string, v: T): void {
    let m = this.ports.get(port);
    if (!m) this.ports.set(port, (m = new Map()));
    m.set(rule, v);
    this.size++;
  }
  get(port: number, rule: string): T | undefined {
    return this.ports.get(port)?.get(rule);
  }
}

function bucketStore(env: ModuleEnv, kind: string) {
  const store = stateStore<TokenBucket>(env.metrics, kind);
  const used = new Set<string>();
  return {
    bucket(key: string, l: { Requests?: number; Connections?: number; StatTimeWindow: number; Burst?: number }): TokenBucket {
      const k = `${key}\0${JSON.stringify(l)}`;
      used.add(k);
      return store.get(k, () => new TokenBucket(l.Requests ?? l.Connections ?? 0, l.StatTimeWindow, l.Burst ?? 0));
    },
    done(): void {
      store.keep(used);
    },
  };
}

function declare(env: ModuleEnv): void {
  for (const s of STATS) env.metrics.declareStat(`${PREFIX}.${s}`);
}

/** Takes a token; on none left, records the refusal (denial) and says so. */
function limited(env: ModuleEnv, ctx: HttpContext, l: Limit): boolean {
  env.metrics.countStat(ENABLED);
  if (l.bucket.take()) {
    env.metrics.countStat(OK);
    return false;
  }
  env.metrics.countStat(ENFORCED);
  env.metrics.countStat(RATE_LIMITED);
  const headers: Record<string, string> = { 'content-type': 'text/plain', 'x-local-rate-limit': 'true' };
  for (const h of l.config.ResponseHeadersToAdd ?? []) headers[h.Name.toLowerCase()] = h.Value;
  ctx.denial = { response: makeResponse(l.config.ResponseStatusCode || 429, 'local_rate_limited', headers), reason: `local rate limit: ${l.what}` };
  ctx.cluster = undefined;
  ctx.route = undefined;
  return true;
}

export function inboundThrottleService(env: ModuleEnv): HttpModule | null {
  const buckets = bucketStore(env, 'throttle-service');
  const limits = new ByPortAndRule<Limit>();
  for (const [key, r, port, rule] of inboundRules(env)) {
    const l = r.RateLimit?.Local;
    if (l) limits.set(port, rule, { bucket: buckets.bucket(key, l), config: l, what: `${rule} ${perUnit(l)}` });
  }
  buckets.done();
  if (limits.size === 0) return null;
  declare(env);
  return function inboundThrottleService(ctx, next) {
    if (ctx.denial || !ctx.service) return next();
    const l = limits.get(ctx.local.port, ctx.service.name);
    if (l) limited(env, ctx, l);
    return next();
  };
}

export function inboundThrottleRoute(env: ModuleEnv): HttpModule | null {
  const buckets = bucketStore(env, 'throttle-route');
  const byRule = new ByPortAndRule<{ routes: RouteLimit[]; headers: HeaderLimit[] }>();
  for (const [key, r, port, rule] of inboundRules(env)) {
    const routes = (r.RouteRateLimits ?? []).map((x, i): RouteLimit => ({
      path: new RegExp(`^(?:${x.Path})$`),
      bucket: buckets.bucket(`${key}/route/${i}`, x.RateLimit.Local),
      config: x.RateLimit.Local,
      what: `${rule} path ${x.Path} ${perUnit(x.RateLimit.Local)}`,
    }));
    const headers = (r.HeaderRateLimits ?? []).map((x, i): HeaderLimit => ({
      headers: Object.entries(x.Headers),
      bucket: buckets.bucket(`${key}/headers/${i}`, x.RateLimit.Local),
      config: x.RateLimit.Local,
      what: `${rule} headers ${Object.entries(x.Headers).map(([k, v]) => `${k}=${v}`).join(',')} ${perUnit(x.RateLimit.Local)}`,
    }));
    if (routes.length || headers.length) byRule.set(port, rule, { routes, headers });
  }
  buckets.done();
  if (byRule.size === 0) return null;
  declare(env);
  return function inboundThrottleRoute(ctx, next) {
    if (ctx.denial || !ctx.service) return next();
    const limits = byRule.get(ctx.local.port, ctx.service.name);
    if (!limits) return next();
    const q = ctx.request.path.indexOf('?');
    const path = q < 0 ? ctx.request.path : ctx.request.path.slice(0, q);
    // the first route whose path matches; then every header match (each takes its own token)
    let route: RouteLimit | undefined;
    for (const r of limits.routes) {
      if (r.path.test(path)) {
        route = r;
        break;
      }
    }
    if (route && limited(env, ctx, route)) return next();
    for (const h of limits.headers) {
      if (h.headers.every(([name, value]) => ctx.request.headers[name] === value) && limited(env, ctx, h)) break;
    }
    return next();
  };
}

/**
 * UpstreamTrafficSetting `rateLimit.local.tcp`: wraps modules/inbound-tcp-routing.js (FSM's chains
 * have no TCP throttle entry, and config_dump keeps FSM's lists). A connection beyond the limit is
 * closed before anything is forwarded.
 */
export function withInboundTcpThrottle(routing: TcpModuleFactory): TcpModuleFactory {
  return (env) => {
    const inner = routing(env);
    const buckets = bucketStore(env, 'throttle-tcp');
    const limits = new Map<number, { bucket: TokenBucket; what: string }>();
    for (const m of Object.values(env.snapshot.Inbound.TrafficMatches)) {
      const l = m.RateLimit?.Local;
      if (l) limits.set(m.Port, { bucket: buckets.bucket(String(m.Port), l), what: `port ${m.Port} ${perUnit(l)}` });
    }
    buckets.done();
    if (limits.size === 0 || !inner) return inner;
    env.metrics.declareStat(TCP_STAT);
    const route = inner;
    return function inboundTcpRoutingThenThrottle(ctx, next) {
      return route(ctx, () => {
        const l = ctx.service && !ctx.handled ? limits.get(ctx.local.port) : undefined;
        if (!l || l.bucket.take()) return next();
        env.metrics.countStat(TCP_STAT);
        denyConnection(env, ctx, `local rate limit: ${l.what}`);
        return Promise.resolve();
      });
    };
  };
}


