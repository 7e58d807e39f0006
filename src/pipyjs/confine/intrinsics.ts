/**
 * The built-in objects of a realm, listed in one fixed order so that the host's and the script
 * realm's lists pair up index by index: the membrane hands a script the script realm's own
 * `Function` wherever the host's would have been reached (that is how `x.constructor.constructor`
 * stops being the host's code generator). The hidden ones (generator and async function
 * constructors, iterator prototypes, %TypedArray%, %ThrowTypeError%) are listed too: each is a way
 * to a constructor that compiles code.
 */
export const INTRINSICS_SOURCE = `(function () {
  'use strict';
  const g = globalThis;
  const out = [];
  const add = (v) => out.push((typeof v === 'object' && v !== null) || typeof v === 'function' ? v : null);
  const proto = Object.getPrototypeOf;
  const names = ['Object', 'Function', 'Array', 'Number', 'Boolean', 'String', 'Symbol', 'Date', 'Promise', 'RegExp',
    'Error', 'AggregateError', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError',
    'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array',
    'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
    'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry', 'BigInt', 'Proxy', 'Reflect', 'JSON', 'Math',
    'Atomics', 'Intl', 'WebAssembly', 'eval', 'globalThis'];
  for (const n of names) {
    const v = g[n];
    add(v);
    add(typeof v === 'function' ? v.prototype : null);
  }
  const gen = function* () {};
  const agen = async function* () {};
  const af = async function () {};
  add(proto(gen)); add(proto(gen).constructor); add(proto(gen).prototype);
  add(proto(agen)); add(proto(agen).constructor); add(proto(agen).prototype);
  add(proto(af)); add(proto(af).constructor);
  add(proto(proto(gen.prototype)));
  add(proto(proto(agen.prototype)));
  add(proto([][Symbol.iterator]()));
  add(proto(new Map()[Symbol.iterator]()));
  add(proto(new Set()[Symbol.iterator]()));
  add(proto(''[Symbol.iterator]()));
  add(proto(/x/[Symbol.matchAll]('')));
  add(proto(Uint8Array)); add(proto(Uint8Array).prototype);
  add(Object.getOwnPropertyDescriptor(Function.prototype, 'caller').get);
  return out;
})`;
