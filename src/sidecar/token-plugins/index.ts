/**
 * Built-in token plugins as chain modules. Each destination service's PluginConfig is parsed and
 * its keys set up when the snapshot is applied; a bad config is logged once, by service, and that
 * plugin then answers 500 for the service (fail closed). A service without a PluginConfig for the
 * plugin is not touched: the config says what to verify, so there is nothing to enforce without it.
 */
import type { NativePlugin, PluginContext } from '../../plugins/api.js';
import type { BuiltinPluginName } from '../../plugins/builtin.js';
import { isBuiltinPlugin } from '../../plugins/builtin.js';
import type { HttpServiceRule } from '../../snapshot/types.js';
import type { HttpModule } from '../chain/types.js';
import type { ModuleEnv } from '../modules/env.js';
import { nativePluginModule, refuseRequest } from '../plugins/module.js';
import { parseTokenPluginConfig } from './config.js';
import { claimsToHeadersHandler, passThroughHandler, reissueHandler, type Handler } from './plugins.js';
import { compileVerifier } from './verify.js';

export { controlPlaneSecretSource, setSecretSource, type SecretRef, type SecretSource } from './secrets.js';

type Compiled = { ok: true; handle: Handler } | { ok: false; error: string };

function compile(name: BuiltinPluginName, raw: unknown, env: ModuleEnv): Compiled {
  const parsed = parseTokenPluginConfig(name, raw);
  if (!parsed.ok) return parsed;
  const p = parsed.value;
  try {
    const verifier = compileVerifier(p.config.verify, { tables: env.tables, upstream: env.upstream, mtls: env.mtls });
    switch (p.plugin) {
      case 'jwt-reissue':
        return { ok: true, handle: reissueHandler(p.config, verifier) };
      case 'claims-to-headers':
        return { ok: true, handle: claimsToHeadersHandler(p.config, verifier) };
      case 'jwt-pass-through':
        return { ok: true, handle: passThroughHandler(verifier) };
    }
  } catch (err) {
    return { ok: false, error: `verify: ${(err as Error).message}` };
  }
}

/** Every (rule name, HTTP rule) of the snapshot, inbound and outbound. */
function httpRules(env: ModuleEnv): [string, HttpServiceRule][] {
  const out: [string, HttpServiceRule][] = [];
  const add = (rules: Record<string, HttpServiceRule> | undefined): void => {
    for (const [k, r] of Object.entries(rules ?? {})) out.push([k, r]);
  };
  for (const m of Object.values(env.snapshot.Inbound.TrafficMatches)) add(m.HttpServiceRouteRules);
  for (const list of Object.values(env.snapshot.Outbound.TrafficMatches)) for (const m of list ?? []) add(m.HttpServiceRouteRules);
  return out;
}

export function builtinPluginModule(name: string, env: ModuleEnv): HttpModule {
  if (!isBuiltinPlugin(name)) {
    env.log.error('unknown built-in plugin (failing closed)', { plugin: name });
    return (ctx) => {
      ctx.respond(500, `unknown built-in plugin ${name}\n`, { 'content-type': 'text/plain' });
    };
  }
  // Configs are the snapshot's own objects (routing hands them to ctx.service), so identity works as a key.
  const compiled = new WeakMap<object, Compiled>();
  for (const [rule, r] of httpRules(env)) {
    const raw = r.Plugins?.[name];
    if (typeof raw !== 'object' || raw === null || compiled.has(raw)) continue;
    const c = compile(name, raw, env);
    compiled.set(raw, c);
    if (!c.ok) env.log.error('built-in plugin config is invalid; the plugin fails closed for this service', { plugin: name, service: rule, error: c.error });
  }
  const report = { warn: (message: string, fields: Record<string, unknown>) => env.log.warn(message, fields) };
  const plugin: NativePlugin = {
    onRequest(ctx: PluginContext) {
      const raw = ctx.config;
      if (raw === undefined || !ctx.service) return;
      let c = typeof raw === 'object' && raw !== null ? compiled.get(raw) : undefined;
      if (!c) c = compile(name, raw, env);
      if (!c.ok) {
        refuseRequest(ctx, `${name}: misconfigured for this service (failing closed)`, 500, `plugin ${name} is misconfigured for this service\n`, { 'content-type': 'text/plain' });
        return;
      }
      return c.handle(ctx, report);
    },
  };
  return nativePluginModule(name, plugin, env);
}
