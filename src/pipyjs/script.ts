/**
 * Compiling and evaluating PipyJS source. A script is one expression; it is compiled once (by
 * content) inside a wrapper `with (scope) { return ( … ) }` in sloppy mode — the `with` gives the
 * dynamic binding of context variables — and evaluated in the confined script realm (./confine):
 * everything it is given, and everything it gives back, crosses the realm's membrane.
 */
import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import { MeshError } from '../lib/errors.js';
import { importKeywordError, scriptRealm, type ScopeSource } from './confine/index.js';

const PARAMS = ['__pipyjs_scope__', 'pipy', 'algo', 'Message', 'MessageStart', 'MessageEnd', 'StreamEnd', 'Data', 'console', 'os'] as const;
const HEAD = `(function (${PARAMS.join(', ')}) { with (__pipyjs_scope__) { return (`;
const TAIL = '\n); } })';

export interface CompiledScript {
  /** e.g. `plugins/token-injector.js` (no leading slash: how errors name it) */
  file: string;
  source: string;
  hash: string;
  script: Script;
}

export interface ScriptProblem {
  line: number;
  column: number;
  message: string;
}

/** What a script's wrapper receives besides its scope. */
export type ScriptGlobals = Record<Exclude<(typeof PARAMS)[number], '__pipyjs_scope__'>, unknown> & { __pipyjs_scope__: ScopeSource };

const compiled = new Map<string, CompiledScript>();

/** Compiles (memoised by file and content) or throws a ScriptSyntaxError with line and column. */
export function compileScript(file: string, source: string): CompiledScript {
  const hash = createHash('sha256').update(source).digest('hex');
  const key = `${file}\0${hash}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  let wrapped = `${HEAD}\n${source}${TAIL}`;
  let script: Script;
  try {
    script = new Script(wrapped, { filename: file, lineOffset: -1 });
  } catch (err) {
    // A script of only comments (or nothing) is valid and evaluates to undefined, as in Pipy.
    try {
      wrapped = `${HEAD}\n${source}\nvoid 0${TAIL}`;
      script = new Script(wrapped, { filename: file, lineOffset: -1 });
    } catch {
      throw new ScriptSyntaxError(file, syntaxProblem(err, source));
    }
  }
  const refused = importKeywordError(wrapped, file, -1);
  if (refused !== undefined) {
    const p = syntaxProblem(refused, source);
    throw new ScriptSyntaxError(file, { ...p, message: 'import() is not available to PipyJS scripts' });
  }
  const c: CompiledScript = { file, source, hash, script };
  compiled.set(key, c);
  return c;
}

/** Runs the compiled wrapper in the realm of `module`; returns the script's value (normally the Configuration). */
export function evaluateScript(c: CompiledScript, module: string, globals: ScriptGlobals): unknown {
  const { context, membrane } = scriptRealm(module);
  const wrapper = membrane.toHost(c.script.runInContext(context)) as (...args: unknown[]) => unknown;
  // the scope goes in as the script realm's own view of the module's variables; the rest through toScript
  return wrapper(membrane.scopeView(globals.__pipyjs_scope__), ...PARAMS.slice(1).map((p) => globals[p as Exclude<typeof p, '__pipyjs_scope__'>]));
}

export class ScriptSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly problem: ScriptProblem,
  ) {
    super(`${file}:${problem.line}:${problem.column}: ${problem.message}`);
    this.name = 'ScriptSyntaxError';
  }
}

/**
 * V8 reports a compile error as `file:LINE` + the source line + a caret line in `stack`. Errors
 * the wrapper's closing line provokes (an unclosed bracket) are reported at the end of the source.
 */
function syntaxProblem(err: unknown, source: string): ScriptProblem {
  const e = err as Error;
  const message = `${e.name ?? 'SyntaxError'}: ${e.message ?? String(err)}`;
  const lines = source.split('\n');
  const stack = String(e.stack ?? '');
  const m = /^[^\n]*:(\d+)\n([^\n]*)\n( *)\^/.exec(stack);
  if (!m) return { line: 1, column: 1, message };
  let line = Number(m[1]);
  let column = m[3]!.length + 1;
  if (line < 1) line = 1;
  if (line > lines.length) {
    line = lines.length;
    column = (lines[line - 1] ?? '').length + 1;
  }
  return { line, column, message };
}

/**
 * Compiles a Plugin's `spec.pipyscript` as `plugins/NAME.js`; a syntax error becomes
 * MeshError('MESH_ERR_PLUGIN_COMPILE') naming the plugin, the field and `plugins/NAME.js:LINE:COLUMN`.
 */
export function compilePipyScript(name: string, source: string): CompiledScript {
  const file = `plugins/${name}.js`;
  try {
    return compileScript(file, source);
  } catch (err) {
    if (!(err instanceof ScriptSyntaxError)) throw err;
    const problem = { resource: `Plugin ${name}`, field: 'spec.pipyscript', message: err.message };
    throw new MeshError('MESH_ERR_PLUGIN_COMPILE', `${problem.resource}: ${problem.field}: ${problem.message}`, { problems: [problem] });
  }
}
