/**
 * The realm PipyJS scripts run in: a `node:vm` context that can compile no code from strings and
 * no WebAssembly, whose `Error.prepareStackTrace` cannot be set (a script's formatter would be
 * handed the call sites of host frames), without `SharedArrayBuffer`, `Atomics` and `WebAssembly`
 * (Pipy has none of them; `Atomics.wait` would block the sidecar), and whose every contact with the
 * host goes through one Membrane. One realm serves the whole process: built once, on first use.
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

let realm: ScriptRealm | undefined;

export function scriptRealm(): ScriptRealm {
  if (realm) return realm;
  const context = createContext(Object.create(null) as object, { name: 'pipyjs', codeGeneration: { strings: false, wasm: false } });
  const run = (source: string): unknown => (new Script(source).runInContext(context) as () => unknown)();
  run(HARDEN_SOURCE);
  const side = (new Script(SCRIPT_SIDE_SOURCE).runInContext(context) as (p: object) => ScriptSide)(RangeError.prototype);
  const scriptIntrinsics = run(INTRINSICS_SOURCE) as (object | null)[];
  const hostIntrinsics = (new Script(INTRINSICS_SOURCE).runInThisContext() as () => (object | null)[])();
  realm = { context, membrane: new Membrane(side, hostIntrinsics, [...scriptIntrinsics]) };
  return realm;
}

/** Scripts may read `v` and what they reach from it, and change none of it (the sidecar's snapshot). */
export function sealForScripts(v: unknown): void {
  scriptRealm().membrane.seal(v);
}
