/**
 * modules/{inbound,outbound}-http-default.js: the end of every HTTP chain. Answers what nothing
 * else answered. As in FSM, a request with no route gets `403 Access denied` (pipyjs-surface.md
 * §4.1.4) — for an unknown name too, so a client cannot probe which services exist — and
 * `x-tessera-reason` says which case it was for the person debugging; a routed request whose
 * cluster has no ready endpoint gets 503.
 */
import { makeResponse } from '../chain/context.js';
import type { HttpModule } from '../chain/types.js';
import type { HttpContext, HttpResponse } from '../chain/types.js';
import type { ModuleEnv } from './env.js';
import { grpcRefusal, isGrpcRequest } from './grpc-status.js';
import { outboundScopeNote } from './outside-mesh.js';

export function httpDefault(env: ModuleEnv): HttpModule {
  const scope = outboundScopeNote(env.snapshot);
  return function httpDefault(ctx) {
    if (ctx.response) return;
    answer(ctx, ctx.direction === 'outbound' ? scope : '');
    // a gRPC client learns of a refusal from grpc-status, never from the HTTP status (grpc-status.ts)
    if (ctx.request.httpVersion === '2.0' && isGrpcRequest(ctx.request.headers)) {
      const res = ctx.response as HttpResponse | undefined;
      if (res && res.status >= 400) ctx.response = grpcRefusal(res, ctx.denial?.reason ?? String(res.headers['x-tessera-reason'] ?? 'refused by the mesh'));
    }
  };
}

function answer(ctx: HttpContext, scope: string): void {
  if (ctx.denial) {
    ctx.response = ctx.denial.response;
    return;
  }
  if (ctx.route === undefined && ctx.cluster === undefined) {
    const reason =
      ctx.routeMiss === 'unknown-host'
        ? `no mesh service answers to ${JSON.stringify(ctx.request.authority)}${scope}`
        : ctx.routeMiss === 'no-route'
          ? `no route of ${ctx.service?.name ?? 'the service'} matches ${ctx.request.method} ${ctx.request.path.split('?')[0]}`
          : 'not allowed';
    ctx.response = makeResponse(403, 'Access denied', { 'x-tessera-reason': reason });
    return;
  }
  if (ctx.cluster) {
    ctx.response = makeResponse(503, `Service unavailable: no ready endpoint for ${ctx.cluster.name}\n`, {
      'x-tessera-reason': 'no ready endpoint',
    });
    return;
  }
  ctx.response = makeResponse(404, 'Not found');
}
