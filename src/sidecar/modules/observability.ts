/**
 * modules/*-metrics-http.js, *-tracing-http.js and *-logging-http.js: request metrics by source and
 * destination, trace propagation, and the access log.
 */
import { propagate } from '../observability/trace.js';
import type { HttpContext, HttpModule } from '../chain/types.js';
import type { ModuleEnv } from './env.js';

function destinationOf(ctx: HttpContext): string {
  return ctx.service?.name ?? ctx.cluster?.name ?? 'unknown';
}

/** Who called: our own identity outbound; inbound the verified peer identity, else the peer pod. */
function sourceOf(ctx: HttpContext, env: ModuleEnv): string {
  if (ctx.direction === 'outbound') return env.snapshot.Spec.ServiceIdentity;
  return ctx.source.identity ?? env.snapshot.AllowedEndpoints[ctx.source.address] ?? 'unknown';
}

export function metricsHttp(env: ModuleEnv): HttpModule {
  return async function metricsHttp(ctx, next) {
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - ctx.startedAt) / 1e9;
      env.metrics.recordRequest(ctx.direction, sourceOf(ctx, env), destinationOf(ctx), ctx.response?.status ?? 0, seconds);
    }
  };
}

export function tracingHttp(_env: ModuleEnv): HttpModule {
  return function tracingHttp(ctx, next) {
    ctx.traceId = propagate(ctx.request.headers).traceId;
    return next();
  };
}

export function loggingHttp(env: ModuleEnv): HttpModule {
  return async function loggingHttp(ctx, next) {
    try {
      await next();
    } finally {
      const r = ctx.response;
      env.log.access({
        time: new Date().toISOString(),
        type: 'access',
        direction: ctx.direction,
        source: `${ctx.source.address}:${ctx.source.port}`,
        sourceService: sourceOf(ctx, env),
        method: ctx.request.method,
        authority: ctx.request.authority,
        path: ctx.request.path,
        status: r?.status ?? 0,
        destination: destinationOf(ctx),
        upstream: ctx.upstream ?? null,
        durationMs: Number(process.hrtime.bigint() - ctx.startedAt) / 1e6,
        traceId: ctx.traceId ?? null,
        userAgent: ctx.request.headers['user-agent'] ?? null,
      });
    }
  };
}
