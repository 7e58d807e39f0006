/**
 * modules/{inbound,outbound}-tcp-routing.js, -tcp-load-balancing.js and -tcp-default.js: pick the
 * service from the port (and, outbound, the host), pick an endpoint, and pipe bytes.
 */
import { outsideClientRoute, parseAuthority, type CompiledServiceRule, type RoutingTables, type TcpRule } from '../routing/index.js';
import type { TcpContext, TcpModule } from '../chain/types.js';
import { tcpAttributes } from '../observability/access-gate.js';
import { isoNow, jsonString } from '../observability/log.js';
import { callerPrincipal, type ModuleEnv } from './env.js';
import { outboundScopeNote, outsideMeshCluster } from './outside-mesh.js';
import { chooseUpstream, type Cursors } from './upstream-choice.js';

export function inboundTcpRouting(env: ModuleEnv): TcpModule {
  return function inboundTcpRouting(ctx, next) {
    const t = env.tables.inbound.get(ctx.local.port);
    // AccessControl: an admitted client outside the mesh connects to the backend; SMI lists only mesh identities
    const outside = t ? outsideClientRoute(t, ctx.source, env.mtls) : undefined;
    const rule = outside?.tcp ?? (t ? [...t.tcp.values()][0] : undefined);
    if (rule) {
      ctx.service = rule.service;
      if (rule.allowed && !(ctx.source.identity !== undefined && rule.allowed.includes(ctx.source.identity))) {
        ctx.routeMiss = 'denied'; // SMI TCPRoute: only the listed identities, proven by certificate
        return next();
      }
      const name = rule.pickCluster();
      const c = name ? env.tables.clusters.get(name) : undefined;
      if (c) ctx.cluster = c.routed;
    } else ctx.routeMiss = 'unknown-host';
    return next();
  };
}

/**
 * The mesh service a CONNECT or redirected connection to `host:port` is for, as outbound TCP routing
 * selects it: a TCP service by its names first, else an HTTP service by its host names. The CONNECT
 * handler asks too (sidecar/tunnels): a tunnel to an HTTP service is served as HTTP.
 */
export function outboundMeshService(
  tables: RoutingTables,
  host: string,
  port: number,
): { kind: 'tcp'; rule: TcpRule } | { kind: 'http'; rule: CompiledServiceRule } | undefined {
  const t = tables.outbound.get(port);
  if (!t) return undefined;
  const a = parseAuthority(`${host}:${port}`);
  const httpRule = t.hosts.get(`${a.host}:${port}`) ?? t.hosts.get(a.host);
  for (const [ruleName, rule] of t.tcp) {
    if (t.hosts.get(`${a.host}:${port}`)?.service.name === ruleName || tcpNameMatches(ruleName, a.host, tables)) return { kind: 'tcp', rule };
  }
  return httpRule ? { kind: 'http', rule: httpRule } : undefined;
}

export function outboundTcpRouting(env: ModuleEnv): TcpModule {
  return function outboundTcpRouting(ctx, next) {
    const port = ctx.target.port;
    const a = parseAuthority(`${ctx.target.host}:${port}`);
    const mesh = outboundMeshService(env.tables, ctx.target.host, port);
    if (mesh?.kind === 'tcp') {
      ctx.service = mesh.rule.service;
      const name = mesh.rule.pickCluster();
      const c = name ? env.tables.clusters.get(name) : undefined;
      if (c) ctx.cluster = c.routed;
      return next();
    }
    if (mesh) {
      // an HTTP service reached as TCP: a redirected non-HTTP connection, or a CONNECT tunnel whose
      // bytes are not HTTP (sidecar/tunnels serves the HTTP ones through the HTTP chain)
      ctx.service = { name: mesh.rule.service.name, namespace: mesh.rule.service.namespace, port };
      const route = mesh.rule.routes[0];
      const name = route?.pickCluster();
      const c = name ? env.tables.clusters.get(name) : undefined;
      if (c) ctx.cluster = c.routed;
      return next();
    }
    const outside = outsideMeshCluster(env, a.host.replace(/^\[|\]$/g, ''), port);
    if (typeof outside === 'string') ctx.routeMiss = outside;
    else ctx.cluster = outside;
    return next();
  };
}

/** `svc.ns` rule against a host written as svc, svc.ns, svc.ns.svc… (short name only in our namespace). */
function tcpNameMatches(ruleName: string, host: string, tables: RoutingTables): boolean {
  if (host === ruleName || host.startsWith(`${ruleName}.svc`)) return true;
  const dot = ruleName.lastIndexOf('.');
  return dot > 0 && host === ruleName.slice(0, dot) && ruleName.slice(dot + 1) === tables.namespace;
}

export function tcpLoadBalancing(env: ModuleEnv): TcpModule {
  const cursors: Cursors = new Map();
  return async function tcpLoadBalancing(ctx, next) {
    const choice = chooseUpstream(ctx, env, cursors);
    if (!choice) return next();
    const { endpoint, identities } = choice;
    const c = ctx.cluster!;
    ctx.upstream = endpoint;
    ctx.handled = true;
    const destination = ctx.service?.name ?? c.name;
    env.metrics.recordConnection(ctx.direction, ctx.source.identity ?? ctx.source.address, destination);
    const started = process.hrtime.bigint();
    // an UpstreamTrafficSetting's connectionSettings.tcp.connectTimeout (seconds) for this cluster
    const connectTimeout = ctx.direction === 'outbound' ? env.snapshot.Outbound.ClustersConfigs[c.name]?.ConnectionSettings?.tcp?.ConnectTimeout : undefined;
    const transfer = await ctx.pipeTo(endpoint, identities, connectTimeout !== undefined && connectTimeout > 0 ? Math.max(1, Math.round(connectTimeout * 1000)) : undefined);
    if (!transfer) return;
    const gate = env.accessLog[ctx.direction];
    if (!gate.all && !gate.keep(() => tcpAttributes(ctx, callerPrincipal(ctx, env), env.mtls))) return;
    // one line per relayed connection, when it ends (as Envoy's tcp_proxy access log), next to the
    // line an authorization refusal writes; the bytes are counted, never read
    const sourceService = sourceServiceOf(ctx, env);
    env.log.access(
      `{"time":"${isoNow()}","type":"access","protocol":"tcp","direction":"${ctx.direction}","source":${jsonString(`${ctx.source.address}:${ctx.source.port}`)},` +
        `"sourceService":${jsonString(sourceService)},"port":${ctx.local.port},"target":${jsonString(`${ctx.target.host}:${ctx.target.port}`)},` +
        `"destination":${jsonString(destination)},"upstream":${jsonString(endpoint)},"bytesFromClient":${transfer.fromClient},` +
        `"bytesToClient":${transfer.toClient},"durationMs":${Number(process.hrtime.bigint() - started) / 1e6}}`,
    );
  };
}

/** Who opened the connection, as the access log names it: this proxy outbound, the peer inbound. */
function sourceServiceOf(ctx: TcpContext, env: ModuleEnv): string {
  return callerPrincipal(ctx, env) || (env.snapshot.AllowedEndpoints[ctx.source.address] ?? 'unknown');
}

export function tcpDefault(env: ModuleEnv): TcpModule {
  const scope = outboundScopeNote(env.snapshot);
  return function tcpDefault(ctx) {
    if (ctx.handled) return;
    const why =
      ctx.routeMiss === 'unknown-host'
        ? `no mesh service at ${ctx.target.host}:${ctx.target.port}${ctx.direction === 'outbound' ? scope : ''}`
        : ctx.routeMiss === 'denied'
          ? ctx.direction === 'outbound'
            ? `egress is off (MeshConfig spec.traffic.enableEgress) and no mesh service is at ${ctx.target.host}:${ctx.target.port}`
            : `access denied: no SMI TCPRoute lists ${ctx.source.identity ?? 'a peer without identity'}`
          : 'no ready endpoint';
    env.log.warn('tcp connection refused', { direction: ctx.direction, target: `${ctx.target.host}:${ctx.target.port}`, reason: why });
    // an access line too (written at every log level, as a relayed connection's is), so a refusal
    // shows where the connections that went through do
    const sourceService = sourceServiceOf(ctx, env);
    const destination = ctx.service?.name ?? ctx.cluster?.name;
    env.log.access(
      `{"time":"${isoNow()}","type":"access","protocol":"tcp","direction":"${ctx.direction}","source":${jsonString(`${ctx.source.address}:${ctx.source.port}`)},` +
        `"sourceService":${jsonString(sourceService)},"port":${ctx.local.port},"target":${jsonString(`${ctx.target.host}:${ctx.target.port}`)},` +
        `"destination":${destination === undefined ? 'null' : jsonString(destination)},"upstream":null,"refused":${jsonString(why)}}`,
    );
    ctx.reject(why);
  };
}
