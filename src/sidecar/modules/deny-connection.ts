/**
 * Refuses an inbound TCP connection a policy or a limit turned down: counted beside
 * `tessera_tcp_connections_total` (the same labels), one access line with the HTTP line's fields a
 * connection has and the reason (written whatever the access-log rule says), then a reset.
 */
import type { TcpContext } from '../chain/types.js';
import { isoNow, jsonString } from '../observability/log.js';
import type { ModuleEnv } from './env.js';

export function denyConnection(env: ModuleEnv, ctx: TcpContext, reason: string): void {
  const destination = ctx.service?.name ?? ctx.cluster?.name ?? 'unknown';
  env.metrics.recordDeniedConnection(ctx.direction, ctx.source.identity ?? ctx.source.address, destination);
  // who called, as the HTTP logging module names it
  const sourceService = ctx.source.identity ?? env.snapshot.AllowedEndpoints[ctx.source.address] ?? 'unknown';
  env.log.access(
    `{"time":"${isoNow()}","type":"access","protocol":"tcp","direction":"${ctx.direction}","source":${jsonString(`${ctx.source.address}:${ctx.source.port}`)},` +
      `"sourceService":${jsonString(sourceService)},"port":${ctx.local.port},"destination":${jsonString(destination)},"upstream":null,"denied":${jsonString(reason)}}`,
  );
  ctx.cluster = undefined;
  ctx.handled = true;
  ctx.reject(reason);
}
