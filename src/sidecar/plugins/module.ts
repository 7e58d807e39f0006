/**
 * A native plugin as a chain module: gives it a PluginContext for the current request, runs its
 * hooks around the rest of the chain, and contains its failures — a plugin that throws fails only
 * that request (500) and is logged with its name. The context is one small object per request
 * whose views are created only when the plugin touches them.
 */
import type {
  NativePlugin,
  PluginContext,
  PluginFetchInit,
  PluginFetchResponse,
  PluginRequest,
  PluginResponse,
  PluginService,
} from '../../plugins/api.js';
import type { Body } from '../http/types.js';
import { makeResponse } from '../chain/context.js';
import type { HttpContext, HttpModule, HttpResponse, Next } from '../chain/types.js';
import type { ModuleEnv } from '../modules/env.js';
import { HeadersView } from './headers-view.js';
import { pluginFetch } from './fetch.js';
import { inPluginScope, outsidePluginScope, pluginScope, settleInScope, type PluginScope } from '../watchdog/index.js';

export function nativePluginModule(name: string, plugin: NativePlugin, env: ModuleEnv): HttpModule {
  const fail = (ctx: HttpContext, err: unknown, phase: string): void => {
    env.log.error('plugin failed', { plugin: name, phase, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    ctx.response = makeResponse(500, `Internal error in plugin ${name}\n`, { 'x-tessera-error': '500' });
  };
  // Every call into the plugin runs in its scope (watchdog/plugin-scope.ts): an error it throws later
  // from a callback fails this request while the plugin still works on it, and a plugin that never
  // returns is named by the watchdog. The rest of the chain runs outside it.
  if (plugin.handle) {
    const handle = plugin.handle.bind(plugin);
    return async function nativePlugin(ctx, next) {
      let nextCalled = false;
      const scope = pluginScope(name, ctx.request);
      const rest = (): Promise<void> => {
        nextCalled = true;
        return outsidePluginScope(next);
      };
      try {
        await inPluginScope(scope, () => {
          const r = handle(new PluginCtx(name, ctx, env), rest);
          return r instanceof Promise ? settleInScope(scope, r) : r;
        });
      } catch (err) {
        fail(ctx, err, nextCalled ? 'response' : 'request');
      }
    };
  }
  const onRequest = plugin.onRequest?.bind(plugin);
  const onResponse = plugin.onResponse?.bind(plugin);

  const afterResponse = (ctx: HttpContext, pctx: PluginCtx, scope: PluginScope): void | Promise<void> => {
    if (!onResponse || !ctx.response) return;
    try {
      const r = inPluginScope(scope, () => onResponse(pctx));
      if (r instanceof Promise) return settleInScope(scope, r).catch((err: unknown) => fail(ctx, err, 'response'));
    } catch (err) {
      fail(ctx, err, 'response');
    }
  };
  const continueChain = (ctx: HttpContext, pctx: PluginCtx, scope: PluginScope, next: Next): void | Promise<void> => {
    if (ctx.response) return; // the plugin answered: short-circuit
    const n = next();
    return onResponse ? n.then(() => afterResponse(ctx, pctx, scope)) : n;
  };

  return function nativePlugin(ctx, next) {
    const pctx = new PluginCtx(name, ctx, env);
    const scope = pluginScope(name, ctx.request);
    if (onRequest) {
      let r: void | Promise<void>;
      try {
        r = inPluginScope(scope, () => onRequest(pctx));
      } catch (err) {
        fail(ctx, err, 'request');
        return;
      }
      if (r instanceof Promise) {
        return settleInScope(scope, r).then(
          () => continueChain(ctx, pctx, scope, next),
          (err: unknown) => fail(ctx, err, 'request'),
        );
      }
    }
    return continueChain(ctx, pctx, scope, next);
  };
}

/** PipyJS plugins run on the compatibility runtime; until it is present, fail closed and say why. */
export function unsupportedPluginModule(name: string, kind: string, env: ModuleEnv): HttpModule {
  env.log.error('plugin cannot run in this sidecar', { plugin: name, kind });
  return function unsupportedPlugin(ctx) {
    ctx.response = makeResponse(500, `plugin ${name} (${kind}) cannot run in this sidecar\n`, { 'x-tessera-error': '500' });
  };
}

class RequestView implements PluginRequest {
  private view: HeadersView | undefined;
  constructor(private readonly ctx: HttpContext) {}
  get method(): string {
    return this.ctx.request.method;
  }
  get path(): string {
    return this.ctx.request.path;
  }
  get authority(): string {
    return this.ctx.request.authority;
  }
  get headers(): HeadersView {
    return (this.view ??= new HeadersView(this.ctx.request.headers));
  }
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.ctx.request.body.bytes());
  }
  text(): Promise<string> {
    return this.ctx.request.body.text();
  }
  json(): Promise<unknown> {
    return this.ctx.request.body.json();
  }
}

class ResponseView implements PluginResponse {
  private view: HeadersView | undefined;
  constructor(readonly res: HttpResponse) {}
  get status(): number {
    return this.res.status;
  }
  set status(s: number) {
    this.res.status = s;
  }
  get headers(): HeadersView {
    return (this.view ??= new HeadersView(this.res.headers));
  }
  private get body(): Body {
    return this.res.body;
  }
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.body.bytes());
  }
  text(): Promise<string> {
    return this.body.text();
  }
  json(): Promise<unknown> {
    return this.body.json();
  }
}

/** The request each plugin context stands for; not reachable from the plugin API itself. */
const requestOf = new WeakMap<PluginContext, HttpContext>();

/**
 * Answers the request with a refusal and records why, so its access line carries `"denied"` at any
 * log level, as RequestAuthentication and AuthorizationPolicy refusals do. For the sidecar's own
 * built-in plugins; `reason` is fixed text (codes, names), never token or key bytes.
 */
export function refuseRequest(pctx: PluginContext, reason: string, status: number, body: string, headers: Record<string, string>): void {
  // the caller learns which plugin check refused it, as for policy refusals (printable ASCII only)
  pctx.respond(status, body, { 'x-tessera-reason': reason.replace(/[^\x20-\x7e]/g, '?'), ...headers });
  const ctx = requestOf.get(pctx);
  if (ctx?.response) ctx.denial = { response: ctx.response, reason };
}

class PluginCtx implements PluginContext {
  private requestView: RequestView | undefined;
  private responseView: ResponseView | undefined;
  constructor(
    readonly plugin: string,
    private readonly ctx: HttpContext,
    private readonly env: ModuleEnv,
  ) {
    requestOf.set(this, ctx);
  }
  get config(): unknown {
    return this.ctx.service?.Plugins?.[this.plugin];
  }
  get direction(): 'inbound' | 'outbound' {
    return this.ctx.direction;
  }
  get service(): PluginService | undefined {
    const s = this.ctx.service;
    return s ? { name: s.name, namespace: s.namespace } : undefined;
  }
  get source(): { address: string; identity: string | undefined } {
    return { address: this.ctx.source.address, identity: this.ctx.source.identity };
  }
  get request(): RequestView {
    return (this.requestView ??= new RequestView(this.ctx));
  }
  get response(): ResponseView | undefined {
    const r = this.ctx.response;
    if (!r) return undefined;
    if (this.responseView?.res !== r) this.responseView = new ResponseView(r);
    return this.responseView;
  }
  respond(status: number, body?: string | Uint8Array | object, headers?: Record<string, string>): void {
    const b = body instanceof Uint8Array && !Buffer.isBuffer(body) ? Buffer.from(body) : body;
    this.ctx.response = makeResponse(status, b as string | Buffer | object | undefined, headers);
  }
  fetch(url: string, init?: PluginFetchInit): Promise<PluginFetchResponse> {
    return pluginFetch(this.env, url, init);
  }
  log(message: string): void {
    this.env.log.info(message, { plugin: this.plugin });
  }
}
