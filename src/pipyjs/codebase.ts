/**
 * A codebase: the modules loaded together (FSM's sidecar scripts, or one standalone script), the
 * namespaces they export, `pipy.solve` results, and their layouts bound once — never per request.
 */
import { algo } from './algo.js';
import { Configuration, type FilterSpec, type LayoutRef, type LayoutSpec } from './configuration.js';
import { Context } from './context.js';
import { Data } from './data.js';
import { PipyLoadError } from './errors.js';
import { branch } from './filters/branch.js';
import { chain } from './filters/chain.js';
import { dummy } from './filters/dummy.js';
import { fork } from './filters/fork.js';
import { handleMessage } from './filters/handle-message.js';
import { handleMessageStart } from './filters/handle-message-start.js';
import { muxHTTP } from './filters/mux-http.js';
import { replaceMessage } from './filters/replace-message.js';
import { replaceMessageStart } from './filters/replace-message-start.js';
import { replay } from './filters/replay.js';
import { wait } from './filters/wait.js';
import type { Binder } from './filters/binder.js';
import { Layout, runLayout } from './layout.js';
import { Message, MessageStart, StreamEnd, type Output } from './message.js';
import { PipyModule } from './module.js';
import type { Filter, Link, PipyHost } from './runtime-types.js';
import { evaluateScript, type CompiledScript } from './script.js';
import { sealForScripts } from './confine/index.js';

/** Module paths are absolute with a leading slash, as Pipy normalises them. */
export function normalizePath(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

export class Codebase {
  readonly modules: PipyModule[] = [];
  readonly #byPath = new Map<string, PipyModule>();
  readonly #namespaces = new Map<string, Map<string, PipyModule>>();
  readonly #solved = new Map<string, unknown>();
  readonly #solving = new Set<string>();
  readonly #entries = new Map<PipyModule, Layout>();
  readonly #layouts = new Map<LayoutSpec, Layout>();
  /** modules before this index have their imports resolved and layouts built */
  #bound = 0;

  readonly #env: Readonly<Record<string, string>>;

  constructor(readonly host: PipyHost) {
    this.#env = Object.freeze({ ...(host.env ?? {}) });
  }

  module(path: string): PipyModule | undefined {
    return this.#byPath.get(normalizePath(path));
  }

  /** A module that is not a script but exports variables (the sidecar's routing modules). */
  defineNative(path: string, exports: Record<string, Record<string, unknown>>): PipyModule {
    const m = this.#newModule(path);
    for (const [ns, vars] of Object.entries(exports)) {
      for (const [name, init] of Object.entries(vars)) {
        m.declare(name, init);
        this.#publish(ns, name, m);
      }
    }
    return m;
  }

  /** Evaluates a compiled script as module `path`. Throws PipyLoadError (or the script's error). */
  load(path: string, script: CompiledScript): PipyModule {
    const m = this.#newModule(path);
    const value = this.#evaluate(m, script);
    if (!(value instanceof Configuration) || value !== m.config) {
      this.host.log('warn', `${m.filename}: the script's value is not its pipy() configuration; it defines no pipelines`);
      m.config = undefined;
      return m;
    }
    value.finish();
    for (const [ns, vars] of value.declarations.exports) {
      for (const [name, init] of Object.entries(vars)) {
        m.declare(name, init);
        this.#publish(ns, name, m);
      }
    }
    return m;
  }

  /** Evaluates a file as one expression and returns its value (what `pipy.solve` gives). */
  evaluate(path: string, script: CompiledScript): unknown {
    return this.#evaluate(this.#newModule(path), script);
  }

  #evaluate(m: PipyModule, script: CompiledScript): unknown {
    const pipy = Object.assign(
      (proto?: unknown): Configuration => {
        const vars = typeof proto === 'function' ? (proto as () => unknown)() : proto;
        const c = new Configuration((vars ?? {}) as Record<string, unknown>);
        for (const [name, init] of Object.entries(c.declarations.vars)) m.declare(name, init);
        m.config = c;
        return c;
      },
      { solve: (file: string) => this.solve(file) },
    );
    return evaluateScript(script, m.filename, {
      __pipyjs_scope__: m,
      pipy,
      algo,
      Message,
      MessageStart,
      MessageEnd: MessageStart,
      StreamEnd,
      Data,
      console: scriptConsole(this.host, m.filename),
      // only what the embedding program chose to show (never the sidecar's own environment)
      os: { env: this.#env },
    });
  }

  /** `pipy.solve(file)`: evaluated once per codebase, same object on every call. */
  solve(file: string): unknown {
    if (this.#solved.has(file)) return this.#solved.get(file);
    if (this.#solving.has(file)) throw new PipyLoadError(`recursive pipy.solve('${file}')`);
    if (!this.host.solve) throw new PipyLoadError(`pipy.solve('${file}'): nothing to solve in this runtime`);
    this.#solving.add(file);
    try {
      const v = this.host.solve(file);
      // what a file solves to is shared by every script of the codebase (in the sidecar: its snapshot)
      sealForScripts(v);
      this.#solved.set(file, v);
      return v;
    } finally {
      this.#solving.delete(file);
    }
  }

  /** Resolves imports and builds the layouts of every module loaded since the last bind. */
  bind(): void {
    const fresh = this.modules.slice(this.#bound);
    this.#bound = this.modules.length;
    for (const m of fresh) {
      const decl = m.config?.declarations;
      if (!decl) continue;
      for (const [name, ns] of decl.imports) {
        const owner = this.#namespaces.get(ns)?.get(name);
        if (!owner) throw new PipyLoadError(`${m.filename}: cannot import variable ${name} from namespace ${ns}`);
        m.addImport(name, owner, name);
      }
    }
    for (const m of fresh) {
      const c = m.config;
      if (!c) continue;
      if (c.entry) this.#entries.set(m, this.#layout(m, c.entry));
      for (const spec of c.named.values()) this.#layout(m, spec);
    }
  }

  /** The entry layout of a module (`pipeline()`), or undefined. */
  entry(m: PipyModule): Layout | undefined {
    return this.#entries.get(m);
  }

  /** The bound layout of a listen() declaration (standalone servers). */
  listenLayout(m: PipyModule, spec: LayoutSpec): Layout {
    return this.#layout(m, spec, true);
  }

  /** Runs module `m`'s entry pipeline on `msg` in `ctx`, with `rest` as the rest of the chain. */
  runEntry(m: PipyModule, msg: Message, ctx: Context, rest: Link | null): Output | Promise<Output> {
    const layout = this.#entries.get(m);
    if (!layout) throw new PipyLoadError(`${m.filename} has no entry pipeline`);
    return runLayout(layout, msg, { ctx, rest, module: m, host: this.host });
  }

  /** A chain element for a module path: a script's entry pipeline, or a host module. */
  link(path: string, next: Link | null): Link {
    const m = this.#byPath.get(normalizePath(path));
    if (m) {
      const layout = this.#entries.get(m);
      if (!layout) throw new PipyLoadError(`chain: ${m.filename} has no entry pipeline`);
      const host = this.host;
      return { call: (msg, run) => runLayout(layout, msg, { ctx: run.ctx, rest: next, module: m, host }) };
    }
    const native = this.host.chainModule?.(path, next);
    if (!native) throw new PipyLoadError(`chain: cannot find module ${path}`);
    return native;
  }

  #newModule(path: string): PipyModule {
    const filename = normalizePath(path);
    if (this.#byPath.has(filename)) throw new PipyLoadError(`module ${filename} loaded twice`);
    const m = new PipyModule(this.modules.length, filename);
    this.modules.push(m);
    this.#byPath.set(filename, m);
    return m;
  }

  #publish(ns: string, name: string, m: PipyModule): void {
    let vars = this.#namespaces.get(ns);
    if (!vars) this.#namespaces.set(ns, (vars = new Map()));
    if (vars.has(name)) throw new PipyLoadError(`duplicated export ${name} in namespace ${ns}`);
    vars.set(name, m);
  }

  #layout(m: PipyModule, spec: LayoutSpec, listen = false): Layout {
    const hit = this.#layouts.get(spec);
    if (hit) return hit;
    const layout = new Layout(spec.name, m);
    this.#layouts.set(spec, layout); // before building: a named pipeline may refer to itself
    const binder: Binder = {
      module: m,
      layout: (ref: LayoutRef | undefined, where: string) => this.#resolve(m, ref, where),
      chainList: (paths: unknown) => this.#chainList(paths),
    };
    for (const f of spec.filters) {
      if (f.kind === 'onStart') {
        layout.starts.push(f.args[0]);
        continue;
      }
      if (f.kind === 'connect') {
        layout.connectTarget = f.args[0];
        layout.filters.push(connectOutsideMux);
        continue;
      }
      if ((f.kind === 'demuxHTTP' || f.kind === 'serveHTTP') && listen) {
        // served by the standalone HTTP server, not run as a filter
        continue;
      }
      layout.filters.push(buildFilter(f, binder));
    }
    return layout;
  }

  #resolve(m: PipyModule, ref: LayoutRef | undefined, where: string): Layout {
    if (ref === undefined) throw new PipyLoadError(`${m.filename}: ${where}() has no sub-pipeline (missing .to())`);
    if (typeof ref === 'string') {
      const spec = m.config?.named.get(ref);
      if (!spec) throw new PipyLoadError(`${m.filename}: ${where}: no pipeline named '${ref}'`);
      return this.#layout(m, spec);
    }
    return this.#layout(m, ref);
  }

  #chainList(paths: unknown): Link | null {
    if (!Array.isArray(paths)) throw new PipyLoadError('chain() takes an array of module paths');
    let next: Link | null = null;
    for (let i = paths.length - 1; i >= 0; i--) next = this.link(String(paths[i]), next);
    return next;
  }
}

const connectOutsideMux: Filter = () => {
  throw new Error('connect() is supported only as the session of muxHTTP().to(...)');
};

function buildFilter(f: FilterSpec, b: Binder): Filter {
  switch (f.kind) {
    case 'handleMessageStart':
      return handleMessageStart(f.args[0]);
    case 'handleMessage':
      return handleMessage(f.args[0]);
    case 'replaceMessage':
      return replaceMessage(f.args[0]);
    case 'replaceMessageStart':
      return replaceMessageStart(f.args[0]);
    case 'branch':
      return branch(f, b);
    case 'chain':
      return chain(f.args, b);
    case 'fork':
      return fork(f, b);
    case 'wait':
      return wait(f.args[0], f.args[1]);
    case 'muxHTTP':
      return muxHTTP(f, b);
    case 'replay':
      return replay(f, b);
    case 'dummy':
      return dummy();
    case 'demuxHTTP':
    case 'serveHTTP':
      throw new PipyLoadError(`${f.kind}() is supported as the HTTP server of a listen() pipeline only`);
    default:
      throw new PipyLoadError(`${f.kind}() is not supported`);
  }
}

/** `console` for scripts: lines go to the host's log. */
function scriptConsole(host: PipyHost, filename: string): Record<string, (...args: unknown[]) => void> {
  const line = (args: unknown[]): string => args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' ');
  return {
    log: (...a) => host.log('info', line(a), { module: filename }),
    info: (...a) => host.log('info', line(a), { module: filename }),
    debug: (...a) => host.log('debug', line(a), { module: filename }),
    warn: (...a) => host.log('warn', line(a), { module: filename }),
    error: (...a) => host.log('error', line(a), { module: filename }),
  };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

