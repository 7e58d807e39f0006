/** What a module factory receives when a snapshot is applied. */
import type { ProxySnapshot } from '../../snapshot/types.js';
import type { HttpModule, TcpModule } from '../chain/types.js';
import type { AccessGate } from '../observability/access-gate.js';
import type { SidecarLog } from '../observability/log.js';
import type { SidecarMetrics } from '../observability/metrics.js';
import type { RoutingTables } from '../routing/tables.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { SidecarSelf } from './loop-guard.js';

export interface ModuleEnv {
  readonly snapshot: ProxySnapshot;
  readonly tables: RoutingTables;
  readonly upstream: UpstreamClient;
  readonly log: SidecarLog;
  /** which access lines to write (Telemetry accessLogging); refusals are written regardless */
  readonly accessLog: AccessGate;
  readonly metrics: SidecarMetrics;
  /** namespaces that have services, to tell an unknown mesh name from an external host */
  readonly namespaces: ReadonlySet<string>;
  /** mTLS between sidecars is on (FSM's sidecarDisabledMTLS is false) */
  readonly mtls: boolean;
  /** the sidecar's own listeners and hop marker (loop-guard.ts); absent in harnesses without a sidecar */
  readonly self?: SidecarSelf | undefined;
}

/** The caller's mesh identity as filters and the access log see it (`source.principal`): ours outbound, the verified peer's inbound ('' when it has none). */
export function callerPrincipal(ctx: { direction: 'inbound' | 'outbound'; source: { identity?: string | undefined } }, env: ModuleEnv): string {
  return ctx.direction === 'outbound' ? env.snapshot.Spec.ServiceIdentity : (ctx.source.identity ?? '');
}

/** Builds a module for one snapshot; null means "nothing to do under this snapshot" (elided). */
export type HttpModuleFactory = (env: ModuleEnv) => HttpModule | null;
export type TcpModuleFactory = (env: ModuleEnv) => TcpModule | null;
