/**
 * A native plugin as a chain module: gives it a PluginContext for the current request, runs its
 * hooks around the rest of the chain, and contains its failures — a plugin that throws fails only
 * that request (500) and is logged with its name.
 */
import type { NativePlugin, PluginContext, PluginFetchInit, PluginFetchResponse } from '../../plugins/api.js';
import type { Body } from '../http/types.js';
import { makeResponse } from '../chain/context.js';
import type { HttpContext, HttpModule } from '../chain/types.js';
import type { ModuleEnv } from '../modules/env.js';
import { headersView } from './headers-view.js';
import { pluginFetch } from './fetch.js';

export function nativePluginModule(name: string, plugin: NativePlugin, env: ModuleEnv): HttpModule {
  const fail = (ctx: HttpContext, err: unknown, phase: string): void => {
    env.log.error('plugin failed', { plugin: name, phase, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    ctx.response = makeResponse(500, `Internal error in plugin ${name}\n`, { 'x-tessera-error': '500' });
  };
  return async function nativePlugin(ctx, next) {
    const pctx = pluginContext(name, ctx, env);
    let nextCalled = false;
    const guardedNext = async (): Promise<void> => {
      nextCalled = true;
      await next();
    };
    try {
      if (plugin.handle) {
        await plugin.handle(pctx, guardedNext);
        return;
      }
      if (plugin.onRequest) await plugin.onRequest(pctx);
    } catch (err) {
      fail(ctx, err, nextCalled ? 'response' : 'request');
      return;
    }
    if (ctx.response) return; // the plugin answered: short-circuit
    await next();
    if (plugin.onResponse && ctx.response) {
      try {
        await plugin.onResponse(pctx);
      } catch (err) {
        fail(ctx, err, 'response');
      }
    }
  };
}

/** PipyJS plugins run on the compatibility runtime; until it is present, fail closed and say why. */
export function unsupportedPluginModule(name: string, kind: string, env: ModuleEnv): HttpModule {
  env.log.error('plugin cannot run in this sidecar', { plugin: name, kind });
  return function unsupportedPlugin(ctx) {
    ctx.response = makeResponse(500, `plugin ${name} (${kind}) cannot run in this sidecar\n`, { 'x-tessera-error': '500' });
  };
}

function bodyApi(get: () => Body) {
  return {
    async bytes() {
      return new Uint8Array(await get().bytes());
    },
    text() {
      return get().text();
    },
    json() {
      return get().json();
    },
  };
}

function pluginContext(name: string, ctx: HttpContext, env: ModuleEnv): PluginContext {
  const req = ctx.request;
  const request = {
    get method() {
      return req.method;
    },
    get path() {
      return req.path;
    },
    get authority() {
      return req.authority;
    },
    headers: headersView(req.headers),
    ...bodyApi(() => req.body),
  };
  let responseView: PluginContext['response'];
  let viewOf: unknown;
  return {
    plugin: name,
    get config() {
      return ctx.service?.Plugins?.[name];
    },
    direction: ctx.direction,
    get service() {
      return ctx.service ? { name: ctx.service.name, namespace: ctx.service.namespace } : undefined;
    },
    source: { address: ctx.source.address, identity: ctx.source.identity },
    request,
    get response() {
      const r = ctx.response;
      if (!r) return undefined;
      if (viewOf !== r) {
        viewOf = r;
        responseView = {
          get status() {
            return r.status;
          },
          set status(s: number) {
            r.status = s;
          },
          headers: headersView(r.headers),
          ...bodyApi(() => r.body),
        };
      }
      return responseView;
    },
    respond(status, body, headers) {
      if (body instanceof Uint8Array && !Buffer.isBuffer(body)) body = Buffer.from(body);
      ctx.response = makeResponse(status, body as string | Buffer | object | undefined, headers);
    },
    fetch(url: string, init?: PluginFetchInit): Promise<PluginFetchResponse> {
      return pluginFetch(env, url, init);
    },
    log(message: string) {
      env.log.info(message, { plugin: name });
    },
  };
}

