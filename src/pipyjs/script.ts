/**
 * Compiling and evaluating PipyJS source. A script is one expression; it is compiled once (by
 * content) inside a wrapper `with (scope) { return ( … ) }` in sloppy mode — the `with` gives the
 * dynamic binding of context variables — and evaluated in a realm of its own so that a stray
 * sloppy-mode assignment cannot touch the sidecar's globals.
 */
import { createHash } from 'node:crypto';
import { Script, createContext, type Context as VmContext } from 'node:vm';
import { MeshError } from '../lib/errors.js';

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
export type ScriptGlobals = Record<(typeof PARAMS)[number], unknown>;

let realm: VmContext | undefined;
const compiled = new Map<string, CompiledScript>();

/** Compiles (memoised by file and content) or throws a ScriptSyntaxError with line and column. */
export function compileScript(file: string, source: string): CompiledScript {
  const hash = createHash('sha256').update(source).digest('hex');
  const key = `${file}\0${hash}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  let script: Script;
  try {
    script = new Script(`${HEAD}\n${source}${TAIL}`, { filename: file, lineOffset: -1 });
  } catch (err) {
    // A script of only comments (or nothing) is valid and evaluates to undefined, as in Pipy.
    try {
      script = new Script(`${HEAD}\n${source}\nvoid 0${TAIL}`, { filename: file, lineOffset: -1 });
    } catch {
      throw new ScriptSyntaxError(file, syntaxProblem(err, source));
    }
  }
  const c: CompiledScript = { file, source, hash, script };
  compiled.set(key, c);
  return c;
}

/** Runs the compiled wrapper; returns the script's value (normally the Configuration). */
export function evaluateScript(c: CompiledScript, globals: ScriptGlobals): unknown {
  realm ??= createContext(Object.create(null) as object, { name: 'pipyjs' });
  const wrapper = c.script.runInContext(realm) as (...args: unknown[]) => unknown;
  return wrapper(...PARAMS.map((p) => globals[p]));
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
