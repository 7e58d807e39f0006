/**
 * One PipyJS codebase per snapshot (per ModuleEnv): the routing modules' exports (`__service`,
 * `__route`, `__cluster` under `inbound-http-routing` / `outbound-http-routing`), `pipy.solve`
 * answering `config.js` with the snapshot (FSM's config.json shape), the sidecar's built-in
 * modules as chain([...]) targets, and every pipy plugin loaded and bound once.
 */
import { Codebase, Context, Message, PipyLoadError, StreamEnd, compilePipyScript, isThenable, sealForScripts, type Link, type LogLevel, type PipyModule, type Run } from '../../pipyjs/index.js';
import { MeshError } from '../../lib/errors.js';
import type { MountPoint } from '../../api/types.js';
import type { PluginScript } from '../../snapshot/types.js';
import { compose } from '../chain/compose.js';
import { RequestContext } from '../chain/context.js';
import type { Direction, HttpContext, HttpModule, RoutedCluster } from '../chain/types.js';
import { HTTP_MODULES, type ModuleEnv } from '../modules/index.js';
import { BufferBody, EMPTY_BODY } from '../http/body.js';
import type { Body } from '../http/types.js';
import { requestMessage, responseMessage, toHttpResponse, type SidecarBodySource } from './pipy-bridge.js';
import { SidecarTransport } from './pipy-transport.js';
import { pipyScriptEnv } from './script-env.js';

const ROUTING = {
  inbound: { path: 'modules/inbound-http-routing.js', ns: 'inbound-http-routing' },
  outbound: { path: 'modules/outbound-http-routing.js', ns: 'outbound-http-routing' },
} as const;

export class SidecarCodebase {
  readonly codebase: Codebase;
  readonly routing: Record<Direction, PipyModule>;
  readonly #plugins = new Map<string, PipyModule>();
  /** FSM-shaped `__cluster` objects, one per routed cluster, so identity holds across requests */
  readonly #clusters = new WeakMap<RoutedCluster, object>();

  constructor(readonly env: ModuleEnv) {
    this.codebase = new Codebase({
      log: (level, message, fields) => this.#log(level, message, fields),
      transport: new SidecarTransport(env),
      idleTimeoutMs: Math.max(1, env.snapshot.Spec.SidecarTimeout || 60) * 1000,
      env: pipyScriptEnv(),
      solve: (file) => {
        if (file === 'config.js' || file === '/config.js') return env.snapshot;
        throw new PipyLoadError(`pipy.solve('${file}'): only config.js is available in the sidecar`);
      },
      chainModule: (path, next) => this.#nativeLink(path, next),
    });
    const routingVars = { __route: null, __service: null, __cluster: null };
    this.routing = {
      inbound: this.codebase.defineNative(ROUTING.inbound.path, { [ROUTING.inbound.ns]: { ...routingVars } }),
      outbound: this.codebase.defineNative(ROUTING.outbound.path, { [ROUTING.outbound.ns]: { ...routingVars } }),
    };
    this.codebase.defineNative('modules/inbound-main.js', { inbound: { __port: null, __protocol: 'http', __isHTTP2: false, __isIngress: false } });
    this.codebase.defineNative('modules/outbound-main.js', { outbound: { __port: null, __protocol: 'http', __isHTTP2: false, __isEgress: false, __cert: null } });
  }

  /** The plugin's module, loaded once per snapshot. Throws MESH_ERR_SNAPSHOT_INVALID when it cannot load. */
  plugin(name: string, script: PluginScript): PipyModule {
    const hit = this.#plugins.get(name);
    if (hit) return hit;
    let m: PipyModule;
    try {
      m = this.codebase.load(`plugins/${name}.js`, compilePipyScript(name, script.Source));
      this.codebase.bind();
      if (!this.codebase.entry(m)) throw new PipyLoadError(`plugins/${name}.js has no entry pipeline (pipeline())`);
    } catch (err) {
      throw new MeshError('MESH_ERR_SNAPSHOT_INVALID', `plugin ${name} failed to load: ${(err as Error).message}`, { cause: err });
    }
    this.#plugins.set(name, m);
    return m;
  }

  /** Sets the routing module's exports in a request's context from what routing found. */
  setRouting(pctx: Context, ctx: HttpContext): Record<string, unknown> {
    const slots = pctx.slots(this.routing[ctx.direction]);
    slots['__service'] = ctx.service ?? null;
    slots['__route'] = ctx.route ?? null;
    slots['__cluster'] = ctx.cluster ? this.fsmCluster(ctx.cluster, ctx.direction) : null;
    // the snapshot's own objects: scripts read them, and change none of them for the sidecar
    sealForScripts(slots['__service']);
    sealForScripts(slots['__route']);
    sealForScripts(slots['__cluster']);
    return slots;
  }

  /** `__cluster` in FSM's shape: `{ name, Endpoints, …ClustersConfigs[name] }`. */
  fsmCluster(c: RoutedCluster, direction: Direction): object {
    let o = this.#clusters.get(c);
    if (!o) {
      const s = this.env.snapshot;
      if (direction === 'outbound' && s.Outbound.ClustersConfigs[c.name]) o = Object.assign({ name: c.name }, s.Outbound.ClustersConfigs[c.name]);
      else if (direction === 'inbound' && s.Inbound.ClustersConfigs[c.name]) o = { name: c.name, Endpoints: s.Inbound.ClustersConfigs[c.name] };
      else o = { name: c.name, Endpoints: Object.fromEntries(c.endpoints.map((ep) => [ep, { Weight: 100 }])) };
      this.#clusters.set(c, o);
    }
    return o;
  }

  /** A cluster a script wrote into `__cluster`, as the load balancer reads it. */
  routedCluster(value: unknown): RoutedCluster | undefined {
    if (!value || typeof value !== 'object') return undefined;
    const v = value as { name?: unknown; Endpoints?: unknown };
    const name = String(v.name ?? '');
    const known = this.env.tables.clusters.get(name);
    if (known) return known.routed;
    const endpoints = v.Endpoints && typeof v.Endpoints === 'object' ? Object.keys(v.Endpoints) : [];
    return { name, endpoints, egress: false };
  }

  #log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    const module = typeof fields?.['module'] === 'string' ? (fields['module'] as string) : undefined;
    const plugin = module?.startsWith('/plugins/') ? module.slice(9, -3) : undefined;
    this.env.log.log(level, message, { ...(plugin ? { plugin } : {}), ...fields });
  }

  /** `modules/*.js` of the sidecar as chain elements; consecutive ones share one request context. */
  #nativeLink(path: string, next: Link | null): Link | undefined {
    const key = path.replace(/^\//, '');
    const factory = HTTP_MODULES[key];
    if (!factory) return undefined;
    const mod = factory(this.env);
    const direction: Direction = key.startsWith('inbound-', 8) ? 'inbound' : 'outbound';
    const modules: HttpModule[] = mod ? [mod] : [];
    let tail = next;
    if (next instanceof NativeLink && next.direction === direction) {
      modules.push(...next.modules);
      tail = next.next;
    }
    return new NativeLink(this, direction, modules, tail);
  }
}

/** Runs sidecar modules on a message: a request context built from it and from `__cluster`. */
class NativeLink implements Link {
  readonly #run: (ctx: HttpContext) => Promise<void>;
  constructor(
    private readonly cb: SidecarCodebase,
    readonly direction: Direction,
    readonly modules: HttpModule[],
    readonly next: Link | null,
  ) {
    this.#run = compose([...modules, (ctx, _n) => this.#continue(ctx)]);
  }

  #runs = new WeakMap<HttpContext, Run>();

  call(msg: Message, run: Run): Promise<Message | StreamEnd | null> {
    const head = (msg.head ?? {}) as { method?: string; path?: string; headers?: Record<string, unknown> };
    const headers = { ...(head.headers ?? {}) } as Record<string, string>;
    const mp: MountPoint = this.direction === 'inbound' ? 'inbound-http' : 'outbound-http';
    const ctx = new RequestContext(
      this.direction,
      mp,
      { method: head.method ?? 'GET', path: head.path ?? '/', authority: headers['host'] ?? '', headers, httpVersion: '1.1', body: bodyOf(msg) },
      { address: '', port: 0, identity: undefined },
      { address: '', port: 0 },
      false,
    );
    const slots = run.ctx.slots(this.cb.routing[this.direction]);
    const cluster = this.cb.routedCluster(slots['__cluster']);
    if (cluster) ctx.cluster = cluster;
    else ctx.routeMiss = 'no-route';
    this.#runs.set(ctx, run);
    return this.#run(ctx).then(() => (ctx.response ? responseMessage(ctx.response) : new StreamEnd('ConnectionReset')));
  }

  /** The end of these modules: hand over to the next script module, if any. */
  async #continue(ctx: HttpContext): Promise<void> {
    const run = this.#runs.get(ctx)!;
    if (!this.next) return;
    const msg = requestMessage(ctx);
    let out = this.next.call(msg, run);
    if (isThenable(out)) out = await out;
    if (out instanceof Message) ctx.response = toHttpResponse(out, undefined);
  }
}

function bodyOf(msg: Message): Body {
  if (msg.pending) return (msg.source as SidecarBodySource).body;
  const bytes = msg.body?.toBuffer();
  return bytes && bytes.length > 0 ? new BufferBody(bytes) : EMPTY_BODY;
}

const perEnv = new WeakMap<ModuleEnv, SidecarCodebase>();

/** The codebase of the snapshot `env` was built for. */
export function sidecarCodebase(env: ModuleEnv): SidecarCodebase {
  let cb = perEnv.get(env);
  if (!cb) perEnv.set(env, (cb = new SidecarCodebase(env)));
  return cb;
}
