/**
 * The membrane between the host (the sidecar) and the script realm. A script never holds a host
 * object: every host value it receives is either a primitive, the script realm's own counterpart of
 * a host built-in (the host's `Function` becomes the script realm's), or a view — a Proxy over a
 * shadow that forwards to the host object and passes everything it returns through the membrane
 * again. The host, in turn, sees script objects only through views that pass what it hands them
 * into the script realm, so a script callback the runtime calls never receives a host object either.
 * Errors are re-created on the way in (a host TypeError becomes the script realm's) and given back
 * as the original on the way out. Every trap catches everything: an exception escaping a host trap
 * unconverted would be a host object in the script's hands.
 */
import type { ScriptSide } from './script-side.js';

type Key = string | symbol;

const isObject = (v: unknown): v is object => (typeof v === 'object' && v !== null) || typeof v === 'function';
const hasOwn = (o: object, k: Key): boolean => Object.prototype.hasOwnProperty.call(o, k);
const hostBase = function (): void {};

/**
 * An object's counterpart on the other side, kept in a private field stamped on the object itself
 * (the constructor returns the object it is given, and the class adds its field there): no
 * WeakMap entry per request, nothing a spread or a reflection could copy or see, and a Proxy's
 * traps are never consulted. Every membrane makes its own two stamps (a host object has one view
 * per realm), so that each direction of each membrane only ever reads its own.
 */
const Returning = function (o: object): object {
  return o;
} as unknown as new (o: object) => object;

interface Stamp {
  of(o: object): object | undefined;
  put(o: object, other: object): void;
}

function makeStamp(): Stamp {
  class Counterpart extends Returning {
    #other: object;
    constructor(o: object, other: object) {
      super(o);
      this.#other = other;
    }
    static of(o: object): object | undefined {
      return #other in o ? (o as Counterpart).#other : undefined;
    }
  }
  return { of: (o) => Counterpart.of(o), put: (o, other) => void new Counterpart(o, other) };
}

/**
 * On a shadow: what its view stands for. A private field, not a property: a shadow is never handed
 * out, and nothing that unwraps a Proxy to its target (util.inspect does) finds the other side there.
 */
class Target extends Returning {
  #target: object;
  constructor(shadow: object, target: object) {
    super(shadow);
    this.#target = target;
  }
  static of(shadow: object): object {
    return (shadow as Target).#target;
  }
}

/** On a host object a script may read and not change, nor anything it reaches from it (the snapshot). */
class Sealed extends Returning {
  #sealed = true;
  static has(o: object): boolean {
    return #sealed in o;
  }
  static seal(o: object): void {
    if (!(#sealed in o)) new Sealed(o);
  }
}

/**
 * Lets scripts (of every realm) read `v` and whatever they reach from it, and change none of it:
 * what `pipy.solve` answers and the routing exports, the sidecar's own snapshot.
 */
export function sealForScripts(v: unknown): void {
  if (isObject(v)) Sealed.seal(v);
}

/** The variables a script's `with` scope answers for (a PipyModule). */
export interface ScopeSource {
  readonly names: ReadonlySet<string>;
  read(name: string): unknown;
  write(name: string, value: unknown): void;
}

export class Membrane {
  /** host built-in → the script realm's own (or undefined: hidden) */
  readonly #intrinsics: Map<object, object | undefined>;
  /** host prototypes a script reached: it may read them, not change them (nor functions) */
  readonly #readOnly = new WeakSet<object>();
  /** values thrown by script code, on their way through host code */
  readonly #thrownByScript = new WeakSet<object>();
  /** script-realm copy of a host error → the host error */
  readonly #copies = new WeakMap<object, object>();
  readonly #s: ScriptSide;
  /** on a host object: its view for scripts; on a host view: the script object it stands for */
  readonly #forScript: Stamp = makeStamp();
  /** on a script object: its view for the host; on a script-side view: the host object it stands for */
  readonly #forHost: Stamp = makeStamp();
  readonly #toScriptHandler: ProxyHandler<object>;
  readonly #toHostHandler: ProxyHandler<object>;

  constructor(s: ScriptSide, hostIntrinsics: readonly (object | null)[], scriptIntrinsics: readonly (object | null)[]) {
    this.#s = s;
    this.#intrinsics = new Map();
    for (let i = 0; i < hostIntrinsics.length; i++) {
      const h = hostIntrinsics[i];
      if (h) this.#intrinsics.set(h, scriptIntrinsics[i] ?? undefined);
    }
    // The generic methods of arrays, objects and functions are the realm's own: called on a view they work
    // through its traps (so a sealed array refuses push), where the host's would reach past them.
    for (const proto of [Array.prototype, Object.prototype, Function.prototype]) {
      const own = this.#intrinsics.get(proto);
      if (!own) continue;
      for (const key of Reflect.ownKeys(proto)) {
        const d = Reflect.getOwnPropertyDescriptor(proto, key);
        const mine = s.reflect.getOwnPropertyDescriptor(own, key);
        if (d && mine && typeof d.value === 'function' && hasOwn(mine, 'value') && typeof mine.value === 'function') this.#intrinsics.set(d.value as object, mine.value as object);
      }
    }
    this.#toScriptHandler = this.#scriptViewHandler();
    this.#toHostHandler = this.#hostViewHandler();
  }

  /** A host value as a script may hold it. */
  toScript(v: unknown): unknown {
    if (!isObject(v)) return v;
    const known = this.#forScript.of(v);
    if (known) return known;
    if (this.#intrinsics.has(v)) return this.#intrinsics.get(v);
    const isFunction = typeof v === 'function';
    const shadow = isFunction ? this.#s.shadowFunction() : Array.isArray(v) ? [] : {};
    new Target(shadow, v);
    const view = new Proxy(shadow, this.#toScriptHandler);
    this.#forScript.put(v, view);
    this.#forHost.put(view, v);
    return view;
  }

  /** A script value as the host may hold it. */
  toHost(v: unknown): unknown {
    if (!isObject(v)) return v;
    const known = this.#forHost.of(v);
    if (known) return known;
    const shadow = (typeof v === 'function' ? Function.prototype.bind.call(hostBase, null) : Array.isArray(v) ? [] : {}) as object;
    new Target(shadow, v);
    const view = new Proxy(shadow, this.#toHostHandler);
    this.#forHost.put(v, view);
    this.#forScript.put(view, v);
    return view;
  }

  /**
   * The object of a script's `with (scope)`: the module's variables and nothing else (no
   * prototype, no other key), one view and one trap per access.
   */
  scopeView(source: ScopeSource): object {
    const m = this;
    const shadow = Object.create(null) as object;
    const handler: ProxyHandler<object> = {
      has: (_t, key) => typeof key === 'string' && source.names.has(key),
      get(_t, key) {
        try {
          return typeof key === 'string' && source.names.has(key) ? m.toScript(source.read(key)) : undefined;
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
      set(_t, key, value) {
        try {
          if (typeof key === 'string' && source.names.has(key)) source.write(key, m.toHost(value));
          return true;
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
      getPrototypeOf: () => null,
      setPrototypeOf: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
      ownKeys: () => [],
      getOwnPropertyDescriptor: () => undefined,
      isExtensible: () => true,
      preventExtensions: () => false,
    };
    const guarded = Object.create(null) as Record<string, unknown>;
    for (const [name, trap] of Object.entries(handler)) guarded[name] = m.#s.guard(trap as (...a: never[]) => unknown);
    const view = new Proxy(shadow, Object.freeze(guarded) as ProxyHandler<object>);
    // already the script's own: toScript hands it over as it is
    this.#forScript.put(view, view);
    return view;
  }

  /** What a script catches for `e` thrown in host code. */
  #scriptError(e: unknown): unknown {
    if (!isObject(e)) return e;
    // the script's own: thrown by script code (a getter the host read, a callback it called)
    if (this.#forHost.of(e) || this.#thrownByScript.has(e) || e instanceof this.#s.errors['Error']!) return e;
    const own = this.#forScript.of(e);
    if (own) return own;
    const name = e instanceof Error && typeof e.name === 'string' ? e.name : 'Error';
    const message = e instanceof Error && typeof e.message === 'string' ? e.message : 'host error';
    const Ctor = this.#s.errors[hasOwn(this.#s.errors, name) ? name : 'Error']!;
    const copy = new Ctor(message);
    if (!hasOwn(this.#s.errors, name)) this.#s.reflect.defineProperty(copy, 'name', { value: name, writable: true, configurable: true });
    this.#copies.set(copy, e);
    return copy;
  }

  /** What host code catches for `e` thrown in script code. */
  #hostError(e: unknown): unknown {
    if (!isObject(e)) return e;
    const original = this.#copies.get(e);
    if (original) return original;
    const host = this.#forHost.of(e);
    if (host) return host;
    // a host error raised by host code inside a trap (a stack overflow) stays as it is, so that it is
    // re-created if it ever travels on into the script
    if (e instanceof Error) return e;
    // what a script threw reaches host code as a view: whatever the host reads from it (a logger
    // reading `stack`) passes the membrane, as any other script value does
    this.#thrownByScript.add(e);
    return this.toHost(e);
  }

  #rethrowIntoScript(e: unknown): never {
    let out: unknown;
    try {
      out = this.#scriptError(e);
    } catch {
      out = this.#s.overflow;
    }
    throw out;
  }

  #rethrowIntoHost(e: unknown): never {
    throw this.#hostError(e);
  }

  #isReadOnly(h: object): boolean {
    if (typeof h === 'function' || this.#readOnly.has(h) || Sealed.has(h)) return true;
    if (!hasOwn(h, 'constructor')) return false;
    const c = (h as { constructor?: unknown }).constructor;
    return typeof c === 'function' && (c as { prototype?: unknown }).prototype === h;
  }

  /** Traps of the views scripts hold (their target is a shadow; the host object is looked up). */
  #scriptViewHandler(): ProxyHandler<object> {
    const m = this;
    const host = (shadow: object): object => Target.of(shadow);
    const handler: ProxyHandler<object> = {
      get(shadow, key) {
        try {
          const h = host(shadow);
          const v = Reflect.get(h, key, h);
          if (isObject(v)) {
            if (key === '__proto__' || (key === 'prototype' && typeof h === 'function')) m.#readOnly.add(v);
            if (Sealed.has(h)) Sealed.seal(v);
          }
          return m.toScript(v);
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
      set(shadow, key, value) {
        try {
          const h = host(shadow);
          // `__proto__` through [[Set]] would change the prototype setPrototypeOf refuses
          if (key === '__proto__' || m.#isReadOnly(h)) return false;
          return Reflect.set(h, key, m.toHost(value), h);
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
      has(shadow, key) {
        try {
          return Reflect.has(host(shadow), key);
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
      deleteProperty(shadow, key) {
        try {
          const h = host(shadow);
          if (m.#isReadOnly(h)) return false;
          return Reflect.deleteProperty(h, key);
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
      ownKeys(shadow) {
        try {
          return Reflect.ownKeys(host(shadow));
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
      getOwnPropertyDescriptor(shadow, key) {
        try {
          const h = host(shadow);
          const d = Reflect.getOwnPropertyDescriptor(h, key);
          if (!d) return undefined;
          // a property the shadow itself has as non-configurable (an array's length) must say so
          const own = Reflect.getOwnPropertyDescriptor(shadow, key);
          const out: PropertyDescriptor = Object.create(null) as PropertyDescriptor;
          out.enumerable = Boolean(d.enumerable);
          out.configurable = own ? Boolean(own.configurable) : true;
          if (hasOwn(d, 'value') || hasOwn(d, 'writable')) {
            if (isObject(d.value) && Sealed.has(h)) Sealed.seal(d.value);
            out.value = m.toScript(d.value);
            out.writable = own && !own.configurable ? Boolean(own.writable) : Boolean(d.writable);
          } else {
            out.get = m.toScript(d.get) as (() => unknown) | undefined;
            out.set = m.toScript(d.set) as ((v: unknown) => void) | undefined;
          }
          return out;
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
      defineProperty(shadow, key, desc) {
        try {
          const h = host(shadow);
          // no accessors on host objects: a getter could show the sidecar one value when it checks
          // a request and another when it uses it
          if (m.#isReadOnly(h) || desc.configurable === false || hasOwn(desc, 'get') || hasOwn(desc, 'set')) return false;
          const d: PropertyDescriptor = Object.create(null) as PropertyDescriptor;
          if (hasOwn(desc, 'value')) d.value = m.toHost(desc.value);
          if (hasOwn(desc, 'writable')) d.writable = Boolean(desc.writable);
          if (hasOwn(desc, 'enumerable')) d.enumerable = Boolean(desc.enumerable);
          d.configurable = true;
          return Reflect.defineProperty(h, key, d);
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
      getPrototypeOf(shadow) {
        try {
          const p = Reflect.getPrototypeOf(host(shadow));
          if (p) m.#readOnly.add(p);
          return m.toScript(p) as object | null;
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
      setPrototypeOf: () => false,
      isExtensible: () => true,
      preventExtensions: () => false,
      apply(shadow, self, args) {
        try {
          const h = host(shadow) as (...a: unknown[]) => unknown;
          const list: unknown[] = [];
          for (let i = 0; i < args.length; i++) list.push(m.toHost(args[i]));
          return m.toScript(Reflect.apply(h, m.toHost(self), list));
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
      construct(shadow, args, newTarget) {
        try {
          const h = host(shadow) as new (...a: unknown[]) => object;
          const list: unknown[] = [];
          for (let i = 0; i < args.length; i++) list.push(m.toHost(args[i]));
          const target = m.#forScript.of(h) === newTarget ? h : (m.toHost(newTarget) as typeof h);
          return m.toScript(Reflect.construct(h, list, target)) as object;
        } catch (e) {
          return m.#rethrowIntoScript(e);
        }
      },
    };
    // every trap a script triggers is a function of the script realm (see ScriptSide.guard)
    const guarded = Object.create(null) as Record<string, unknown>;
    for (const [name, trap] of Object.entries(handler)) guarded[name] = m.#s.guard(trap as (...a: never[]) => unknown);
    return Object.freeze(guarded) as ProxyHandler<object>;
  }

  /** Traps of the views the host holds of script objects: every call goes through the script realm's Reflect. */
  #hostViewHandler(): ProxyHandler<object> {
    const m = this;
    const r = this.#s.reflect;
    const script = (shadow: object): object => Target.of(shadow);
    const handler: ProxyHandler<object> = {
      get(shadow, key) {
        try {
          const s = script(shadow);
          return m.toHost(r.get(s, key, s));
        } catch (e) {
          return m.#rethrowIntoHost(e);
        }
      },
      set(shadow, key, value) {
        try {
          const s = script(shadow);
          return r.set(s, key, m.toScript(value), s);
        } catch (e) {
          return m.#rethrowIntoHost(e);
        }
      },
      has(shadow, key) {
        try {
          return r.has(script(shadow), key);
        } catch (e) {
          return m.#rethrowIntoHost(e);
        }
      },
      deleteProperty(shadow, key) {
        try {
          return r.deleteProperty(script(shadow), key);
        } catch (e) {
          return m.#rethrowIntoHost(e);
        }
      },
      ownKeys(shadow) {
        try {
          const keys = r.ownKeys(script(shadow));
          const out: Key[] = [];
          for (let i = 0; i < keys.length; i++) {
            const k = keys[i];
            if (typeof k === 'string' || typeof k === 'symbol') out.push(k);
          }
          return out;
        } catch (e) {
          return m.#rethrowIntoHost(e);
        }
      },
      getOwnPropertyDescriptor(shadow, key) {
        try {
          const d = r.getOwnPropertyDescriptor(script(shadow), key);
          if (!d) return undefined;
          const own = Reflect.getOwnPropertyDescriptor(shadow, key);
          const out: PropertyDescriptor = Object.create(null) as PropertyDescriptor;
          out.enumerable = d.enumerable === true;
          out.configurable = own ? Boolean(own.configurable) : true;
          if (hasOwn(d, 'value') || hasOwn(d, 'writable')) {
            out.value = m.toHost(d.value);
            out.writable = own && !own.configurable ? Boolean(own.writable) : d.writable === true;
          } else {
            out.get = m.toHost(d.get) as (() => unknown) | undefined;
            out.set = m.toHost(d.set) as ((v: unknown) => void) | undefined;
          }
          return out;
        } catch (e) {
          return m.#rethrowIntoHost(e);
        }
      },
      defineProperty(shadow, key, desc) {
        try {
          if (desc.configurable === false) return false;
          const d: PropertyDescriptor = Object.create(null) as PropertyDescriptor;
          if (hasOwn(desc, 'value')) d.value = m.toScript(desc.value);
          if (hasOwn(desc, 'writable')) d.writable = Boolean(desc.writable);
          if (hasOwn(desc, 'get')) d.get = m.toScript(desc.get) as () => unknown;
          if (hasOwn(desc, 'set')) d.set = m.toScript(desc.set) as (v: unknown) => void;
          if (hasOwn(desc, 'enumerable')) d.enumerable = Boolean(desc.enumerable);
          d.configurable = true;
          return r.defineProperty(script(shadow), key, d);
        } catch (e) {
          return m.#rethrowIntoHost(e);
        }
      },
      getPrototypeOf(shadow) {
        try {
          return m.toHost(r.getPrototypeOf(script(shadow))) as object | null;
        } catch (e) {
          return m.#rethrowIntoHost(e);
        }
      },
      setPrototypeOf: () => false,
      isExtensible: () => true,
      preventExtensions: () => false,
      apply(shadow, self, args) {
        try {
          const list: unknown[] = [];
          for (let i = 0; i < args.length; i++) list.push(m.toScript(args[i]));
          return m.toHost(r.apply(script(shadow), m.toScript(self), list));
        } catch (e) {
          return m.#rethrowIntoHost(e);
        }
      },
      construct(shadow, args, newTarget) {
        try {
          const s = script(shadow);
          const list: unknown[] = [];
          for (let i = 0; i < args.length; i++) list.push(m.toScript(args[i]));
          const target = m.#forHost.of(s) === newTarget ? s : m.toScript(newTarget);
          return m.toHost(r.construct(s, list, target)) as object;
        } catch (e) {
          return m.#rethrowIntoHost(e);
        }
      },
    };
    return Object.freeze(Object.setPrototypeOf(handler, null) as ProxyHandler<object>);
  }
}
