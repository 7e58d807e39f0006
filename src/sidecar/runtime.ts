/**
 * A snapshot made runnable: routing tables and the four composed chains, built once per snapshot
 * version. Applying a new snapshot builds a new Runtime and swaps one reference; requests in flight
 * finish on the runtime they started with.
 */
import { MeshError } from '../lib/errors.js';
import { MOUNT_POINTS, PATH_NORMALIZATION_MODES, type MountPoint } from '../api/types.js';
import type { ProxySnapshot } from '../snapshot/types.js';
import { compose } from './chain/compose.js';
import type { HttpContext, HttpModule, TcpContext, TcpModule } from './chain/types.js';
import { HTTP_MODULES, TCP_MODULES, type ModuleEnv } from './modules/index.js';
import { accessGate } from './observability/access-gate.js';
import type { SidecarLog } from './observability/log.js';
import type { SidecarMetrics } from './observability/metrics.js';
import type { NativePlugin } from '../plugins/api.js';
import { buildTables, type RoutingTables } from './routing/index.js';
import type { UpstreamClient } from './upstream/client.js';
import type { SidecarSelf } from './modules/loop-guard.js';
import { DEFAULT_PATH_NORMALIZATION, type PathNormalization } from './engine/index.js';

export interface Runtime {
  readonly version: string;
  readonly snapshot: ProxySnapshot;
  readonly tables: RoutingTables;
  readonly inboundHttp: (ctx: HttpContext) => Promise<void>;
  readonly outboundHttp: (ctx: HttpContext) => Promise<void>;
  readonly inboundTcp: (ctx: TcpContext) => Promise<void>;
  readonly outboundTcp: (ctx: TcpContext) => Promise<void>;
  /** MeshConfig pathNormalization, for every HTTP listener's target normalizer */
  readonly pathNormalization: PathNormalization;
}

export interface RuntimeDeps {
  upstream: UpstreamClient;
  log: SidecarLog;
  metrics: SidecarMetrics;
  /** the sidecar's own listeners and hop marker, for loop detection (modules/loop-guard.ts) */
  self?: SidecarSelf;
}

/**
 * The code each kind of plugin runs on: imported when the first snapshot that carries such a plugin
 * is applied (loadPluginKinds), so a sidecar without plugins never loads the PipyJS runtime or the
 * token plugins' schemas and JWT code (docs/benchmarks.md, "Sidecar memory"). The import happens
 * before the runtime is built, never while a request waits.
 */
interface PluginKinds {
  native?: typeof import('./plugins/index.js');
  pipy?: typeof import('./plugins/pipy.js');
  builtin?: typeof import('./token-plugins/index.js');
}
const kinds: PluginKinds = {};

/** Imports what the snapshot's plugins need; call it before buildRuntime with that snapshot. */
export async function loadPluginKinds(snapshot: ProxySnapshot): Promise<void> {
  const used = new Set(Object.values(snapshot.PluginScripts ?? {}).map((p) => p.Kind));
  // a builtin plugin is a native plugin module too
  if ((used.has('native') || used.has('builtin')) && !kinds.native) kinds.native = await import('./plugins/index.js');
  if (used.has('pipy') && !kinds.pipy) kinds.pipy = await import('./plugins/pipy.js');
  if (used.has('builtin') && !kinds.builtin) kinds.builtin = await import('./token-plugins/index.js');
}

function kind<K extends keyof PluginKinds>(k: K, plugin: string): NonNullable<PluginKinds[K]> {
  const loaded = kinds[k];
  if (!loaded) throw invalid(`plugin ${plugin}: the ${k} plugin runtime is not loaded (loadPluginKinds was not called with this snapshot)`);
  return loaded as NonNullable<PluginKinds[K]>;
}

/** Evaluated plugins, kept across versions while their code is unchanged. */
const pluginCache = new Map<string, NativePlugin>();

/** Builds a runtime or throws MeshError('MESH_ERR_SNAPSHOT_INVALID') naming what is wrong. */
export function buildRuntime(version: string, snapshot: ProxySnapshot, deps: RuntimeDeps): Runtime {
  checkShape(snapshot);
  const tables = buildTables(snapshot);
  const namespaces = new Set<string>();
  // ServiceIPs and the meshed pods' namespaces too: a scoped Dns lacks Services outside the scope,
  // whose `svc.ns` names must stay cluster names (refused) rather than look external (egress)
  for (const fqdn of [...tables.dns.keys(), ...tables.serviceIPs.values()]) namespaces.add(fqdn.split('.')[1] ?? '');
  for (const owner of Object.values(snapshot.AllowedEndpoints)) if (typeof owner === 'string') namespaces.add(owner.split('.')[0] ?? '');
  const mtls = snapshot.Spec.SidecarDisabledMTLS !== true;
  const env: ModuleEnv = { snapshot, tables, upstream: deps.upstream, log: deps.log, accessLog: accessGate(snapshot), metrics: deps.metrics, namespaces, mtls, self: deps.self };
  // forget evaluated plugins no longer in any chain (the cache lives across snapshot versions)
  const inUse = new Set(Object.values(snapshot.PluginScripts).map((p) => p.Hash));
  for (const hash of pluginCache.keys()) if (!inUse.has(hash)) pluginCache.delete(hash);
  const http = (mp: MountPoint): ((ctx: HttpContext) => Promise<void>) => compose(httpModules(mp, env));
  const tcp = (mp: MountPoint): ((ctx: TcpContext) => Promise<void>) => compose(tcpModules(mp, env));
  return {
    version,
    snapshot,
    tables,
    inboundHttp: http('inbound-http'),
    outboundHttp: http('outbound-http'),
    inboundTcp: tcp('inbound-tcp'),
    outboundTcp: tcp('outbound-tcp'),
    pathNormalization: pathNormalizationOf(snapshot),
  };
}

function httpModules(mp: MountPoint, env: ModuleEnv): HttpModule[] {
  const out: HttpModule[] = [];
  for (const entry of env.snapshot.Chains[mp] ?? []) {
    if (entry.startsWith('modules/')) {
      const factory = HTTP_MODULES[entry];
      if (!factory) throw invalid(`Chains.${mp}: unknown built-in module ${entry}`);
      const m = factory(env);
      if (m) out.push(m);
      continue;
    }
    const name = pluginName(entry, mp);
    const script = env.snapshot.PluginScripts[name];
    if (!script) throw invalid(`Chains.${mp}: ${entry} has no script in PluginScripts`);
    if (script.Kind === 'builtin') {
      out.push(skipWhenDenied(kind('builtin', name).builtinPluginModule(name, env)));
      continue;
    }
    if (script.Kind !== 'native') {
      out.push(skipWhenDenied(kind('pipy', name).pipyPluginModule(name, script, env)));
      continue;
    }
    let plugin = pluginCache.get(script.Hash);
    if (!plugin) {
      try {
        plugin = kind('native', name).evaluateNativePlugin(name, script.Source);
      } catch (err) {
        throw invalid(`plugin ${name} failed to load: ${(err as Error).message}`);
      }
      pluginCache.set(script.Hash, plugin);
    }
    out.push(skipWhenDenied(kind('native', name).nativePluginModule(name, plugin, env)));
  }
  return out;
}

function tcpModules(mp: MountPoint, env: ModuleEnv): TcpModule[] {
  const out: TcpModule[] = [];
  for (const entry of env.snapshot.Chains[mp] ?? []) {
    if (entry.startsWith('modules/')) {
      const factory = TCP_MODULES[entry];
      if (!factory) throw invalid(`Chains.${mp}: unknown built-in module ${entry}`);
      const m = factory(env);
      if (m) out.push(m);
    } else {
      // The native plugin API is HTTP-level; a plugin mounted on a TCP chain is reported, not run.
      env.log.warn('plugin on a TCP chain is not run', { chain: mp, plugin: entry });
    }
  }
  return out;
}

/** A plugin never sees a request a policy already refused (ctx.denial): it goes on to the default module. */
function skipWhenDenied(m: HttpModule): HttpModule {
  return (ctx, next) => (ctx.denial ? next() : m(ctx, next));
}

function pluginName(entry: string, mp: MountPoint): string {
  const m = /^plugins\/(.+)\.js$/.exec(entry);
  if (!m) throw invalid(`Chains.${mp}: "${entry}" is neither modules/… nor plugins/NAME.js`);
  return m[1]!;
}

/** The snapshot's MeshConfig pathNormalization as the HTTP engine applies it (also read by `tessera policy check`). */
export function pathNormalizationOf(s: ProxySnapshot): PathNormalization {
  const pn = s.Spec.PathNormalization;
  if (pn === undefined) return DEFAULT_PATH_NORMALIZATION;
  return Object.freeze({ mode: pn.Normalization, lowerCase: pn.LowerCase === true, stripParameters: pn.StripPathParameters === true, ...(pn.StripTrailingSlash === true ? { stripTrailingSlash: true } : {}) });
}

function invalid(message: string): MeshError {
  return new MeshError('MESH_ERR_SNAPSHOT_INVALID', message);
}

/** The sidecar trusts nothing it receives: check the parts it dereferences. */
function checkShape(s: ProxySnapshot): void {
  const isObj = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(s)) throw invalid('snapshot is not an object');
  for (const key of ['Spec', 'Pod', 'Inbound', 'Outbound', 'Chains', 'PluginScripts', 'AllowedEndpoints'] as const) {
    if (!isObj(s[key])) throw invalid(`snapshot.${key} is missing or not an object`);
  }
  for (const mp of MOUNT_POINTS) {
    const c = s.Chains[mp];
    if (c !== undefined && (!Array.isArray(c) || c.some((e) => typeof e !== 'string'))) throw invalid(`Chains.${mp} is not a list of module paths`);
  }
  if (!isObj(s.Inbound.TrafficMatches) || !isObj(s.Outbound.TrafficMatches)) throw invalid('TrafficMatches missing');
  const pn = s.Spec.PathNormalization;
  if (pn !== undefined && (!isObj(pn) || !(PATH_NORMALIZATION_MODES as readonly unknown[]).includes(pn.Normalization))) {
    throw invalid(`Spec.PathNormalization.Normalization must be one of ${PATH_NORMALIZATION_MODES.join(', ')}`);
  }
}
