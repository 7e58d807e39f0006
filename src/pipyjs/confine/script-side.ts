/**
 * What the membrane takes from the script realm once, before any script runs there: its Reflect
 * functions (so that descriptors and argument lists a script's own Proxy traps receive are made in
 * the script realm, not the host's), its error constructors (host errors are re-created with them),
 * and a maker of function shadows (a function shadow must belong to the script realm: a
 * constructor's realm is where `Reflect.construct` takes its fallback prototype from).
 */
export interface ScriptSide {
  reflect: {
    apply(f: unknown, self: unknown, args: readonly unknown[]): unknown;
    construct(f: unknown, args: readonly unknown[], newTarget?: unknown): object;
    get(o: object, key: PropertyKey, receiver?: unknown): unknown;
    set(o: object, key: PropertyKey, value: unknown, receiver?: unknown): boolean;
    has(o: object, key: PropertyKey): boolean;
    ownKeys(o: object): ArrayLike<string | symbol>;
    getOwnPropertyDescriptor(o: object, key: PropertyKey): PropertyDescriptor | undefined;
    defineProperty(o: object, key: PropertyKey, d: PropertyDescriptor): boolean;
    deleteProperty(o: object, key: PropertyKey): boolean;
    getPrototypeOf(o: object): object | null;
  };
  shadowFunction(): object;
  /**
   * A trap of the script realm around a host trap. A host function called with the stack nearly
   * full throws the host's RangeError before its first line runs, out of reach of its own catch; a
   * script-realm trap catches it and throws the realm's own instead.
   */
  guard<F extends (...a: never[]) => unknown>(hostTrap: F): F;
  errors: Record<string, new (message: string) => object>;
  /** thrown when the host cannot even re-create an error (the stack is exhausted) */
  overflow: object;
}

/** Evaluated in the script realm, then called with the host's RangeError.prototype. */
export const SCRIPT_SIDE_SOURCE = `(function (hostRangeErrorPrototype) {
  'use strict';
  const R = Reflect;
  const reflect = Object.freeze({
    apply: R.apply, construct: R.construct, get: R.get, set: R.set, has: R.has, ownKeys: R.ownKeys,
    getOwnPropertyDescriptor: R.getOwnPropertyDescriptor, defineProperty: R.defineProperty,
    deleteProperty: R.deleteProperty, getPrototypeOf: R.getPrototypeOf,
  });
  const apply = R.apply;
  const bind = Function.prototype.bind;
  const base = function () {};
  const none = [];
  Object.freeze(none);
  const getProto = R.getPrototypeOf;
  // shared by every script that overflows: frozen, so one cannot plant a getter for the next
  const overflow = Object.freeze(new RangeError('Maximum call stack size exceeded'));
  const guard = (trap) => function (a, b, c, d) {
    try {
      return trap(a, b, c, d);
    } catch (e) {
      let safe = false;
      try {
        safe = e === null || (typeof e !== 'object' && typeof e !== 'function') || getProto(e) !== hostRangeErrorPrototype;
      } catch (_) {}
      throw safe ? e : overflow;
    }
  };
  const errors = Object.freeze({ Error, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError });
  return Object.freeze({
    reflect,
    shadowFunction: () => apply(bind, base, none),
    guard,
    errors,
    overflow,
  });
})`;
