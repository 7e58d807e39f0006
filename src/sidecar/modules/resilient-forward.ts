/**
 * Forwarding with the outbound cluster's RetryPolicy, the service's request timeouts and outlier
 * detection (docs/traffic-management.md). Built per snapshot only for what some cluster or service
 * configures; the load balancer keeps its one-shot path for everything else.
 *
 * Replays are idempotent-safe: a request is sent again only when its body is absent or was buffered
 * whole before the first attempt, which is done only for bodies of known length up to
 * MAX_REPLAY_BODY; a longer or chunked body streams upstream once and is never retried.
 */
import { makeResponse } from '../chain/context.js';
import { rescue } from '../chain/rescue.js';
import type { HttpContext, HttpResponse } from '../chain/types.js';
import type { Body, BodySink } from '../http/types.js';
import type { ProxySnapshot, RequestTimeoutConfig } from '../../snapshot/types.js';
import { compileOutlierSettings, OutlierTracker } from '../upstream/outlier.js';
import { backoffMs, classifyUpstreamError, compileRetryPolicy, retriable, type AttemptOutcome, type CompiledRetry } from '../upstream/retry.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { RequestOptions } from '../engine/client.js';
import type { ForwardOptions } from '../upstream/client.js';
import type { ModuleEnv } from './env.js';
import { chooseUpstream, type Cursors, type UpstreamChoice } from './upstream-choice.js';

/** The largest request body buffered so that it can be replayed (64 KiB). */
export const MAX_REPLAY_BODY = 64 * 1024;

export interface ClusterPolicy {
  retry: CompiledRetry | undefined;
  outlier: OutlierTracker | undefined;
  /**
   * UpstreamTrafficSetting `connectionSettings.http.maxRetries` (Envoy's circuit breaker of the same
   * name): retries outstanding to the cluster at once; past it a request is not retried and
   * `upstream_rq_retry_overflow` counts
   */
  maxRetries: number | undefined;
  /** retries in flight now, against `maxRetries` */
  activeRetries: number;
}

/**
 * The per-request settings of each outbound cluster with an UpstreamTrafficSetting's
 * `connectionSettings` (`tcp.connectTimeout`, `http.maxRequestsPerConnection`), for the upstream pools.
 */
export function clusterRequestOptions(s: ProxySnapshot): Map<string, RequestOptions> {
  const out = new Map<string, RequestOptions>();
  for (const [name, cfg] of Object.entries(s.Outbound.ClustersConfigs)) {
    const cs = cfg.ConnectionSettings;
    const connect = cs?.tcp?.ConnectTimeout;
    const perConnection = cs?.http?.MaxRequestsPerConnection;
    const o: RequestOptions = {
      ...(connect !== undefined && connect > 0 ? { connectTimeoutMs: Math.max(1, Math.round(connect * 1000)) } : {}),
      ...(perConnection !== undefined && perConnection > 0 ? { maxRequestsPerConnection: perConnection } : {}),
    };
    if (o.connectTimeoutMs !== undefined || o.maxRequestsPerConnection !== undefined) out.set(name, o);
  }
  return out;
}

/** What the forwarder needs under one snapshot; undefined when nothing is configured. */
export interface UpstreamPolicies {
  clusters: Map<string, ClusterPolicy>;
  /** rule name (`svc.ns`) → timeouts by prefix, longest first */
  timeouts: Map<string, readonly RequestTimeoutConfig[]>;
}

/** Outlier state outlives snapshots: it belongs to the sidecar's upstream client, by cluster. */
const trackers = new WeakMap<UpstreamClient, Map<string, OutlierTracker>>();

/** What was retried on each forwarded request, for its access line. */
export interface RetryRecord {
  retries: number;
  /** the last outcome retried: a status code, `connect-failure`, `reset` or `per-try-timeout` */
  reason: string;
}
const retryRecords = new WeakMap<HttpContext, RetryRecord>();
export function retriesOf(ctx: HttpContext): RetryRecord | undefined {
  return retryRecords.get(ctx);
}

export const STATS = {
  retry: 'upstream_rq_retry',
  retrySuccess: 'upstream_rq_retry_success',
  retryLimitExceeded: 'upstream_rq_retry_limit_exceeded',
  retryOverflow: 'upstream_rq_retry_overflow',
  retryBackoff: 'upstream_rq_retry_backoff_exponential',
  retryAbandoned: 'retry_or_shadow_abandoned',
  timeout: 'upstream_rq_timeout',
  perTryTimeout: 'upstream_rq_per_try_timeout',
  ejectionsActive: 'outlier_detection.ejections_active',
  ejectionsTotal: 'outlier_detection.ejections_enforced_total',
} as const;

/** Listed at 0 for every cluster with a RetryPolicy, as Envoy lists them (FSM's retry demo greps these). */
const RETRY_STATS = [STATS.retry, STATS.retrySuccess, STATS.retryLimitExceeded, STATS.retryOverflow, STATS.retryBackoff, 'upstream_rq_retry_backoff_ratelimited', STATS.perTryTimeout, STATS.timeout];

export function compileUpstreamPolicies(env: Pick<ModuleEnv, 'snapshot' | 'upstream' | 'metrics'>): UpstreamPolicies | undefined {
  const s: ProxySnapshot = env.snapshot;
  const clusters = new Map<string, ClusterPolicy>();
  let byCluster = trackers.get(env.upstream);
  for (const [name, cfg] of Object.entries(s.Outbound.ClustersConfigs)) {
    const retry = compileRetryPolicy(cfg.RetryPolicy);
    const settings = compileOutlierSettings(cfg.OutlierDetection);
    let outlier: OutlierTracker | undefined;
    if (settings) {
      if (!byCluster) trackers.set(env.upstream, (byCluster = new Map()));
      outlier = byCluster.get(name);
      if (outlier) outlier.settings = settings;
      else byCluster.set(name, (outlier = new OutlierTracker(settings)));
      outlier.retain(new Set(Object.keys(cfg.Endpoints)));
      env.metrics.declareStat(STATS.ejectionsActive, name);
      env.metrics.declareStat(STATS.ejectionsTotal, name);
    }
    if (retry) for (const stat of RETRY_STATS) env.metrics.declareStat(stat, name);
    const maxRetries = cfg.ConnectionSettings?.http?.MaxRetries;
    if (retry || outlier) clusters.set(name, { retry, outlier, maxRetries, activeRetries: 0 });
  }
  const timeouts = new Map<string, readonly RequestTimeoutConfig[]>();
  for (const matches of Object.values(s.Outbound.TrafficMatches)) {
    for (const m of matches) {
      for (const [rule, r] of Object.entries(m.HttpServiceRouteRules ?? {})) if (r.RequestTimeouts?.length) timeouts.set(rule, r.RequestTimeouts);
    }
  }
  if (clusters.size === 0 && timeouts.size === 0) return undefined;
  return { clusters, timeouts };
}

/** ms; undefined when no timeout applies to `path` (no prefix matches, or the match says 0). */
export function requestTimeoutMs(timeouts: readonly RequestTimeoutConfig[] | undefined, path: string): number | undefined {
  if (!timeouts) return undefined;
  const q = path.indexOf('?');
  const p = q < 0 ? path : path.slice(0, q);
  const t = timeouts.find((x) => p.startsWith(x.Prefix));
  return t && t.Timeout > 0 ? t.Timeout * 1000 : undefined;
}

export interface ForwardDeps {
  env: ModuleEnv;
  /** the cluster's connect timeout and requests per connection, when its UpstreamTrafficSetting sets them */
  requestOptions?: ForwardOptions | undefined;
  cursors: Cursors;
  policies: UpstreamPolicies;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const DISCARD: BodySink = { write: () => true, end: () => {}, error: () => {} };
const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Forwards `ctx.request` to `first` and, as the policies say, to other endpoints; sets ctx.response. */
export async function forwardResilient(ctx: HttpContext, first: UpstreamChoice, deps: ForwardDeps): Promise<void> {
  const { env, policies } = deps;
  const now = deps.now ?? Date.now;
  const cluster = ctx.cluster!.name;
  const policy = policies.clusters.get(cluster);
  const retry = policy?.retry;
  const outlier = policy?.outlier;
  const clusterSize = env.tables.clusters.get(cluster)?.endpoints.length ?? ctx.cluster!.endpoints.length;
  const timeoutMs = requestTimeoutMs(ctx.service ? policies.timeouts.get(ctx.service.name) : undefined, ctx.request.path);
  const deadline = timeoutMs === undefined ? undefined : now() + timeoutMs;

  // What can be sent more than once: nothing, a buffer, or (not replayable) the stream itself.
  let body: Body | Buffer | null = ctx.request.body;
  let replayable = retry !== undefined && retry.numRetries > 0;
  if (replayable) {
    const b = ctx.request.body;
    if (b.empty) body = null;
    else if (b.buffered() !== undefined) body = await b.buffered()!;
    else if (b.length !== undefined && b.length <= MAX_REPLAY_BODY) body = await b.bytes();
    else {
      replayable = false;
      env.metrics.countStat(STATS.retryAbandoned, cluster);
    }
  }

  const tried = new Set<string>();
  let choice: UpstreamChoice | undefined = first;
  let retries = 0;
  // a slot of the cluster's maxRetries, held while a retry attempt is in flight
  let holding = false;
  const releaseSlot = (): void => {
    if (holding) policy!.activeRetries--;
    holding = false;
  };
  try {
    for (;;) {
      const endpoint = choice.endpoint;
      tried.add(endpoint);
      ctx.upstream = endpoint;
      const remaining = deadline === undefined ? undefined : deadline - now();
      const perTry = retry?.perTryTimeoutMs;
      const limit = remaining === undefined ? perTry : perTry === undefined ? remaining : Math.min(perTry, remaining);
      const perTryBinds = perTry !== undefined && (remaining === undefined || perTry < remaining);
      let outcome: AttemptOutcome;
      let response: HttpResponse | undefined;
      let error: unknown;
      try {
        response = await withTimeout(env.upstream.request(endpoint, ctx.request, body, choice.identities, deps.requestOptions), limit);
        outcome = response ? { kind: 'response', status: response.status } : perTryBinds ? { kind: 'per-try-timeout' } : { kind: 'response', status: 504 };
      } catch (err) {
        error = err;
        outcome = { kind: classifyUpstreamError(err) };
      }
      releaseSlot();
      const timedOut = response === undefined && error === undefined;
      if (timedOut && perTryBinds) env.metrics.countStat(STATS.perTryTimeout, cluster);
      if (outlier) recordOutlier(env, cluster, outlier, endpoint, outcome, clusterSize, now());

      const routeTimedOut = timedOut && !perTryBinds;
      const wantsRetry = !routeTimedOut && retry !== undefined && retriable(retry.on, outcome);
      if (wantsRetry && replayable && retries < retry.numRetries) {
        const wait = backoffMs(retries + 1, retry.backoffBaseMs, deps.random);
        const overflow = policy!.maxRetries !== undefined && policy!.activeRetries >= policy!.maxRetries;
        if (overflow) env.metrics.countStat(STATS.retryOverflow, cluster);
        else if (deadline === undefined || now() + wait < deadline) {
          policy!.activeRetries++;
          holding = true;
          if (response) response.body.pipeTo(DISCARD);
          retries++;
          retryRecords.set(ctx, { retries, reason: outcome.kind === 'response' ? String(outcome.status) : outcome.kind });
          env.metrics.countStat(STATS.retry, cluster);
          env.metrics.countStat(STATS.retryBackoff, cluster);
          await (deps.sleep ?? sleepReal)(wait);
          choice = pickAnother(ctx, deps, tried, outlier, now()) ?? choice;
          continue;
        }
      }
      if (wantsRetry && replayable && retries >= retry.numRetries) env.metrics.countStat(STATS.retryLimitExceeded, cluster);
      if (retries > 0 && !wantsRetry) env.metrics.countStat(STATS.retrySuccess, cluster);
      if (response) {
        ctx.response = response;
        return;
      }
      if (timedOut) {
        if (!perTryBinds) env.metrics.countStat(STATS.timeout, cluster);
        ctx.response = makeResponse(504, 'upstream request timeout\n', { 'x-tessera-error': '504' });
        env.log.warn('upstream request timed out', { upstream: endpoint, retries, perTry: perTryBinds });
        return;
      }
      const status = rescue(ctx, error);
      env.log.warn('upstream request failed', { upstream: endpoint, status, retries, error: (error as Error).message });
      return;
    }
  } finally {
    releaseSlot();
  }
}

function recordOutlier(env: ModuleEnv, cluster: string, tracker: OutlierTracker, endpoint: string, outcome: AttemptOutcome, size: number, now: number): void {
  const before = tracker.active;
  const event = tracker.record(endpoint, outcome, size, now);
  if (event.ejected) {
    env.metrics.countStat(STATS.ejectionsTotal, cluster);
    env.metrics.countStat(`outlier_detection.ejections_enforced_${event.cause}`, cluster);
    env.log.warn('outlier detection ejected an endpoint', { cluster, upstream: endpoint });
  }
  const delta = tracker.active - before;
  if (delta !== 0) env.metrics.countStat(STATS.ejectionsActive, cluster, delta);
}

/**
 * The next endpoint by round robin that was not tried yet and is not ejected; else one not ejected;
 * else whatever round robin gives (a cluster never runs out of endpoints through ejection).
 */
export function pickAnother(ctx: HttpContext, deps: ForwardDeps, tried: ReadonlySet<string> | undefined, outlier: OutlierTracker | undefined, now: number): UpstreamChoice | undefined {
  const size = deps.env.tables.clusters.get(ctx.cluster!.name)?.ring.length ?? ctx.cluster!.endpoints.length;
  let fallback: UpstreamChoice | undefined;
  let any: UpstreamChoice | undefined;
  for (let i = 0; i < Math.max(1, size); i++) {
    const c = chooseUpstream(ctx, deps.env, deps.cursors);
    if (!c) return undefined;
    any ??= c;
    if (outlier?.isEjected(c.endpoint, now)) continue;
    if (!tried?.has(c.endpoint)) return c;
    fallback ??= c;
  }
  return fallback ?? any;
}

/** The response, or undefined when `ms` passed first; a late response is drained and dropped. */
function withTimeout(p: Promise<HttpResponse>, ms: number | undefined): Promise<HttpResponse | undefined> {
  if (ms === undefined) return p;
  if (ms <= 0) {
    p.then((r) => r.body.pipeTo(DISCARD), () => {});
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      resolve(undefined);
    }, ms);
    p.then(
      (r) => {
        if (done) r.body.pipeTo(DISCARD);
        else {
          clearTimeout(timer);
          resolve(r);
        }
      },
      (e) => {
        if (!done) {
          clearTimeout(timer);
          reject(e);
        }
      },
    );
  });
}
