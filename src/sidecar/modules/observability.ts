/**
 * modules/*-metrics-http.js, *-tracing-http.js and *-logging-http.js: request metrics by source and
 * destination, trace propagation, and the access log.
 */
import { httpAttributes } from '../observability/access-gate.js';
import { isoNow, jsonString } from '../observability/log.js';
import { propagate } from '../observability/trace.js';
import type { HttpContext, HttpModule } from '../chain/types.js';
import { callerPrincipal, type ModuleEnv } from './env.js';
import { retriesOf } from './resilient-forward.js';
import { PushBody } from '../http/push-body.js';
import { isGrpcRequest } from './grpc-status.js';

/**
 * A gRPC call's `grpc-status`: in the response head for a trailers-only answer, else in the trailers,
 * known only once the body has streamed through (after the chain returned). Calls `done` then;
 * "none" when the call ended without one (reset, deadline).
 */
function whenGrpcStatus(ctx: HttpContext, done: (status: string) => void): boolean {
  if (!isGrpcRequest(ctx.request.headers) || !ctx.response) return false;
  const res = ctx.response;
  const head = res.headers['grpc-status'];
  if (typeof head === 'string') {
    done(head);
    return true;
  }
  if (!(res.body instanceof PushBody)) {
    done('none');
    return true;
  }
  void res.body.finished().then((t) => {
    const s = t?.['grpc-status'];
    done(typeof s === 'string' ? s : 'none');
  });
  return true;
}

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
      whenGrpcStatus(ctx, (status) => env.metrics.recordGrpc(ctx.direction, sourceOf(ctx, env), destinationOf(ctx), status));
    }
  };
}

export function tracingHttp(_env: ModuleEnv): HttpModule {
  return function tracingHttp(ctx, next) {
    ctx.traceId = propagate(ctx.request.headers).traceId;
    return next();
  };
}

/**
 * The path as the access log shows it: query values replaced, names kept. A query can carry a token
 * (`access_token`, RequestAuthentication `fromParams`), an API key or a signed URL's signature, and
 * the log must never hold a secret (a refused token included).
 */
export function loggedPath(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  return `${path.slice(0, q + 1)}${path.slice(q + 1).replace(QUERY_VALUE, '=***')}`;
}

/** `=value` up to the next parameter: every value, whatever its name. */
const QUERY_VALUE = /=[^&;]*/g;

export function loggingHttp(env: ModuleEnv): HttpModule {
  return async function loggingHttp(ctx, next) {
    try {
      await next();
    } finally {
      // a gRPC call is logged when it ends, with its grpc-status
      if (!whenGrpcStatus(ctx, (status) => writeAccessLine(ctx, env, status))) writeAccessLine(ctx, env);
    }
  };
}

/**
 * A refusal, whoever refused (a policy, a JWT, a plugin, SMI, or no route: FSM's 403), or one a
 * dry-run policy would have made: the line is written whatever the access-log rule says.
 */
const refused = (ctx: HttpContext): boolean => ctx.denial !== undefined || ctx.shadow?.allow === false || (ctx.routeMiss !== undefined && ctx.response?.status === 403);

function writeAccessLine(ctx: HttpContext, env: ModuleEnv, grpcStatus?: string): void {
  const gate = env.accessLog[ctx.direction];
  if (!gate.all && !refused(ctx) && !gate.keep(() => httpAttributes(ctx, callerPrincipal(ctx, env), env.mtls))) return;
  const q = ctx.request;
  const ua = q.headers['user-agent'];
  // built as text: an object plus JSON.stringify per request was a tenth of the chain's cost
  env.log.access(
    `{"time":"${isoNow()}","type":"access","direction":"${ctx.direction}","source":"${ctx.source.address}:${ctx.source.port}",` +
      `"sourceService":${jsonString(sourceOf(ctx, env))},"method":${jsonString(q.method)},"authority":${jsonString(q.authority)},` +
      `"path":${jsonString(loggedPath(q.path))},"status":${ctx.response?.status ?? 0},"destination":${jsonString(destinationOf(ctx))},` +
      `"upstream":${ctx.upstream ? jsonString(ctx.upstream) : 'null'},"durationMs":${Number(process.hrtime.bigint() - ctx.startedAt) / 1e6},` +
      `"traceId":${ctx.traceId ? `"${ctx.traceId}"` : 'null'},"userAgent":${typeof ua === 'string' ? jsonString(ua) : 'null'}` +
      // why a policy refused the request, at any log level (never the token itself)
      `${ctx.denial ? `,"denied":${jsonString(ctx.denial.reason)}${policyFields(ctx.denial)}` : ''}` +
      // an istio.io/dry-run policy's decision: reported, never enforced
      `${ctx.shadow ? `,"shadow":{"decision":"${ctx.shadow.allow ? 'allowed' : 'denied'}"${policyFields(ctx.shadow)}}` : ''}${retryField(ctx)}` +
      `${ctx.request.httpVersion === '2.0' ? ',"protocol":"HTTP/2"' : ''}${grpcStatus !== undefined ? `,"grpcStatus":${jsonString(grpcStatus)}` : ''}}`,
  );
}

/** `,"retries":N,"retryReason":"503"` for a request the load balancer retried; empty otherwise. */
function retryField(ctx: HttpContext): string {
  const r = retriesOf(ctx);
  return r ? `,"retries":${r.retries},"retryReason":${jsonString(r.reason)}` : '';
}

/** `,"policy":"ns/name","rule":0`: the policy that decided, for tools that filter access lines by policy. */
function policyFields(d: { policy?: string | undefined; rule?: number | undefined }): string {
  return `${d.policy !== undefined ? `,"policy":${jsonString(d.policy)}` : ''}${d.rule !== undefined && d.rule >= 0 ? `,"rule":${d.rule}` : ''}`;
}
