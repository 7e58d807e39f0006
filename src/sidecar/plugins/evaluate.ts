/**
 * Turns compiled plugin code (CommonJS from the control plane) into a NativePlugin. The code runs in
 * the sidecar's own realm with a `require` that only hands out the modules plugins may import: a
 * convenience, not a boundary. Native plugins are trusted code (docs/plugins.md, "Trust"); who may
 * create one is an RBAC decision. PipyJS scripts, which are not trusted, run confined instead
 * (src/pipyjs/confine).
 */
import { createRequire } from 'node:module';
import { Script } from 'node:vm';
import { PLUGIN_IMPORTS } from '../../plugins/imports.js';
import * as pluginApi from '../../plugins/api.js';
import type { NativePlugin } from '../../plugins/api.js';

const nodeRequire = createRequire(import.meta.url);

function restrictedRequire(name: string): unknown {
  if (name === 'tessera/plugin') return pluginApi;
  if (PLUGIN_IMPORTS.includes(name)) return nodeRequire(name);
  throw new Error(`plugins may not import "${name}"`);
}

export function evaluateNativePlugin(name: string, source: string): NativePlugin {
  const wrapped = `(function (exports, require, module) {\n${source}\n})`;
  const fn = new Script(wrapped, { filename: `plugins/${name}.js`, lineOffset: -1 }).runInThisContext() as (
    exports: object,
    require: (n: string) => unknown,
    module: { exports: Record<string, unknown> },
  ) => void;
  const module = { exports: {} as Record<string, unknown> };
  fn(module.exports, restrictedRequire, module);
  const exported = (module.exports['default'] ?? module.exports) as unknown;
  if (typeof exported === 'function') return { handle: exported as NativePlugin['handle'] } as NativePlugin;
  if (exported && typeof exported === 'object') {
    const p = exported as NativePlugin;
    if (typeof p.onRequest === 'function' || typeof p.onResponse === 'function' || typeof p.handle === 'function') return p;
  }
  throw new Error(`plugin ${name}: the default export must be a plugin (onRequest, onResponse or handle) or a (ctx, next) function`);
}
