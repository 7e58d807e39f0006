/**
 * The realms PipyJS scripts run in: `node:vm` contexts that can compile no code from strings and
 * no WebAssembly, whose `Error.prepareStackTrace` cannot be set (a script's formatter would be
 * handed the call sites of host frames), without `SharedArrayBuffer`, `Atomics`, `WebAssembly`
 * (Pipy has none of them; `Atomics.wait` would block the sidecar) and V8's own `console`, and whose
 * every contact with the host goes through one Membrane each. One realm per module (a plugin's
 * `plugins/NAME.js`): a plugin that changes its built-ins (`Array.prototype`) changes nobody
 * else's; made on first use and kept, so a plugin keeps its realm from snapshot to snapshot.
 */
import { Script, createContext, type Context } from 'node:vm';
import { INTRINSICS_SOURCE } from './intrinsics.js';
import { Membrane } from './membrane.js';
import { SCRIPT_SIDE_SOURCE, type ScriptSide } from './script-side.js';

export interface ScriptRealm {
  context: Context;
  membrane: Membrane;
}

const HARDEN_SOURCE = `(function () {
  'use strict';
  Object.defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, enumerable: false, configurable: false });
  // V8's own console (an inspector channel) too: scripts get the runtime's console as a parameter
  for (const name of ['SharedArrayBuffer', 'Atomics', 'WebAssembly', 'console']) delete globalThis[name];
})`;

const realms = new Map<string, ScriptRealm>();
let hostIntrinsics: (object | null)[] | undefined;

export function scriptRealm(module: string): ScriptRealm {
  const known = realms.get(module);
  if (known) return known;
  const context = createContext(Object.create(null) as object, { name: `pipyjs ${module}`, codeGeneration: { strings: false, wasm: false } });
  const run = (source: string): unknown => (new Script(source).runInContext(context) as () => unknown)();
  run(HARDEN_SOURCE);
  const side = (new Script(SCRIPT_SIDE_SOURCE).runInContext(context) as (p: object) => ScriptSide)(RangeError.prototype);
  const scriptIntrinsics = run(INTRINSICS_SOURCE) as (object | null)[];
  hostIntrinsics ??= (new Script(INTRINSICS_SOURCE).runInThisContext() as () => (object | null)[])();
  const realm = { context, membrane: new Membrane(side, hostIntrinsics, [...scriptIntrinsics]) };
  realms.set(module, realm);
  return realm;
}
