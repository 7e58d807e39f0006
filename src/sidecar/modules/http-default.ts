/**
 * modules/{inbound,outbound}-http-default.js: the end of every HTTP chain. Answers what nothing
 * else answered with a status that tells the client why.
 */
import { makeResponse } from '../chain/context.js';
import type { HttpModule } from '../chain/types.js';
import type { ModuleEnv } from './env.js';

export function httpDefault(_env: ModuleEnv): HttpModule {
  return function httpDefault(ctx) {
    if (ctx.response) return;
    const error = (status: number, text: string): void => {
      ctx.response = makeResponse(status, `${text}\n`, { 'x-tessera-error': String(status) });
    };
    if (ctx.routeMiss === 'unknown-host') error(404, `Not found: no mesh service answers to "${ctx.request.authority}"`);
    else if (ctx.routeMiss === 'no-route' || ctx.routeMiss === 'denied') error(403, 'Access denied');
    else if (ctx.cluster) error(503, `Service unavailable: no ready endpoint for ${ctx.cluster.name}`);
    else error(404, 'Not found');
  };
}
