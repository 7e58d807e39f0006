/**
 * `pipy({...})` returns a Configuration: the builder scripts chain calls on. It only records what
 * the script declares (variables, imports/exports, pipeline layouts as filter specs); the codebase
 * binds the specs to runnable layouts once, after every module is loaded.
 */
import { PipyLoadError } from './errors.js';

/** A sub-layout: built from a `$ => $...` function, or the name of a pipeline in the same module. */
export type LayoutRef = LayoutSpec | string;

export interface FilterSpec {
  kind: FilterKind;
  args: unknown[];
  /** branch: one layout per condition (plus the fallback) */
  layouts?: LayoutRef[];
  /** joint filters: the layout given by `.to()` */
  to?: LayoutRef;
}

export type FilterKind =
  | 'onStart' | 'handleMessageStart' | 'handleMessage' | 'replaceMessage' | 'replaceMessageStart'
  | 'branch' | 'chain' | 'fork' | 'wait' | 'muxHTTP' | 'demuxHTTP' | 'serveHTTP' | 'connect' | 'replay' | 'dummy';

/** Filters that create sub-pipelines and need `.to()`. */
const JOINTS: ReadonlySet<FilterKind> = new Set(['fork', 'muxHTTP', 'demuxHTTP', 'replay']);

export class LayoutSpec {
  readonly filters: FilterSpec[] = [];
  constructor(readonly name: string) {}
}

export interface ListenSpec {
  port: number;
  host: string | undefined;
  layout: LayoutSpec;
}

export interface ModuleDeclarations {
  vars: Record<string, unknown>;
  imports: Map<string, string>;
  exports: Map<string, Record<string, unknown>>;
}

export class Configuration {
  readonly declarations: ModuleDeclarations;
  entry: LayoutSpec | undefined;
  readonly named = new Map<string, LayoutSpec>();
  readonly listens: ListenSpec[] = [];
  /** the layout calls append to; `.to()` and branch layouts push a sub-layout while they build */
  #stack: LayoutSpec[] = [];
  #top: LayoutSpec | undefined;
  #pendingJoint: FilterSpec | undefined;

  constructor(vars: Record<string, unknown>) {
    this.declarations = { vars, imports: new Map(), exports: new Map() };
  }

  import(spec: Record<string, string>): this {
    for (const [name, ns] of Object.entries(spec ?? {})) {
      if (typeof ns !== 'string' || ns === '') throw new PipyLoadError(`import of ${name}: namespace must be a non-empty string`);
      this.declarations.imports.set(name, ns);
    }
    return this;
  }

  export(ns: string, vars: Record<string, unknown>): this {
    if (typeof ns !== 'string' || ns === '') throw new PipyLoadError('export: namespace must be a non-empty string');
    const into = this.declarations.exports.get(ns) ?? {};
    for (const [name, init] of Object.entries(vars ?? {})) {
      if (name in into) throw new PipyLoadError(`export: duplicated variable ${name} in namespace ${ns}`);
      into[name] = init;
    }
    this.declarations.exports.set(ns, into);
    return this;
  }

  pipeline(name?: string): this {
    this.#closeJoint();
    if (name === undefined) {
      if (this.entry) throw new PipyLoadError('duplicated entry pipeline: pipeline() may be declared once per module');
      this.entry = new LayoutSpec('(entry)');
      this.#top = this.entry;
    } else {
      if (typeof name !== 'string' || name === '') throw new PipyLoadError('pipeline name must be a non-empty string');
      if (this.named.has(name)) throw new PipyLoadError(`duplicated pipeline name '${name}'`);
      const l = new LayoutSpec(name);
      this.named.set(name, l);
      this.#top = l;
    }
    return this;
  }

  listen(port: number | string, _options?: unknown): this {
    this.#closeJoint();
    let host: string | undefined;
    let p: number;
    if (typeof port === 'string' && port.includes(':')) {
      const i = port.lastIndexOf(':');
      host = port.slice(0, i).replace(/^\[|\]$/g, '');
      p = Number(port.slice(i + 1));
    } else p = Number(port);
    if (!Number.isInteger(p) || p <= 0 || p > 65535) throw new PipyLoadError(`listen: invalid port ${String(port)}`);
    const layout = new LayoutSpec(`(listen ${String(port)})`);
    this.listens.push({ port: p, host, layout });
    this.#top = layout;
    return this;
  }

  to(layout: unknown): this {
    const joint = this.#pendingJoint;
    if (!joint) throw new PipyLoadError('to() must follow a joint filter (fork, muxHTTP, demuxHTTP, replay)');
    this.#pendingJoint = undefined;
    joint.to = this.#layoutRef(layout, `${joint.kind}().to`);
    return this;
  }

  onStart(handler: unknown): this {
    return this.#add('onStart', [handler]);
  }
  handleMessageStart(cb: unknown): this {
    return this.#add('handleMessageStart', [cb]);
  }
  handleMessage(cb: unknown): this {
    return this.#add('handleMessage', [cb]);
  }
  replaceMessage(r: unknown): this {
    return this.#add('replaceMessage', [r]);
  }
  replaceMessageStart(r: unknown): this {
    return this.#add('replaceMessageStart', [r]);
  }
  chain(paths?: unknown): this {
    return this.#add('chain', paths === undefined ? [] : [paths]);
  }
  fork(init?: unknown): this {
    return this.#add('fork', [init]);
  }
  wait(cond: unknown, options?: unknown): this {
    return this.#add('wait', [cond, options]);
  }
  muxHTTP(...args: unknown[]): this {
    return this.#add('muxHTTP', args);
  }
  demuxHTTP(options?: unknown): this {
    return this.#add('demuxHTTP', [options]);
  }
  serveHTTP(handler: unknown): this {
    return this.#add('serveHTTP', [handler]);
  }
  connect(target: unknown, options?: unknown): this {
    return this.#add('connect', [target, options]);
  }
  replay(options?: unknown): this {
    return this.#add('replay', [options]);
  }
  dummy(): this {
    return this.#add('dummy', []);
  }

  branch(...args: unknown[]): this {
    if (args.length < 2) throw new PipyLoadError('branch() needs at least one condition and one layout');
    const conds: unknown[] = [];
    const layouts: LayoutRef[] = [];
    for (let i = 0; i + 1 < args.length; i += 2) {
      conds.push(args[i]);
      layouts.push(this.#layoutRef(args[i + 1], 'branch'));
    }
    const spec: FilterSpec = { kind: 'branch', args: conds, layouts };
    if (args.length % 2 === 1) spec.args.push(FALLBACK), layouts.push(this.#layoutRef(args[args.length - 1], 'branch'));
    this.#append(spec);
    return this;
  }

  /** Checks nothing is left half-declared (a joint without `.to()`). */
  finish(): void {
    this.#closeJoint();
  }

  #add(kind: FilterKind, args: unknown[]): this {
    const spec: FilterSpec = { kind, args };
    this.#append(spec);
    if (JOINTS.has(kind)) this.#pendingJoint = spec;
    return this;
  }

  #append(spec: FilterSpec): void {
    this.#closeJoint();
    if (!this.#top) throw new PipyLoadError(`${spec.kind}() before any pipeline(), listen() or pipeline('name')`);
    this.#top.filters.push(spec);
  }

  #closeJoint(): void {
    if (this.#pendingJoint) {
      const kind = this.#pendingJoint.kind;
      this.#pendingJoint = undefined;
      throw new PipyLoadError(`${kind}() has no sub-pipeline: call .to(...) right after it`);
    }
  }

  /** Builds a `$ => $...` layout now (the same Configuration, appending to a new layout). */
  #layoutRef(layout: unknown, where: string): LayoutRef {
    if (typeof layout === 'string') return layout;
    if (typeof layout !== 'function') throw new PipyLoadError(`${where}: a layout must be a function or a pipeline name`);
    const spec = new LayoutSpec(`(${where})`);
    const savedTop = this.#top;
    const savedJoint = this.#pendingJoint;
    this.#pendingJoint = undefined;
    this.#stack.push(spec);
    this.#top = spec;
    try {
      (layout as (c: Configuration) => unknown)(this);
      this.#closeJoint();
    } finally {
      this.#stack.pop();
      this.#top = savedTop;
      this.#pendingJoint = savedJoint;
    }
    return spec;
  }
}

/** Marks the trailing fallback layout of a branch among its conditions. */
export const FALLBACK: unique symbol = Symbol('branch fallback');
