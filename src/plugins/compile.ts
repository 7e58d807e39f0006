/**
 * Compiles a native plugin's `spec.script` (TypeScript or JavaScript, ES module) to one CommonJS
 * function body the sidecar can evaluate. Runs at admission (so a broken script is refused at apply
 * time with file, line and column) and in the control plane (which ships compiled code).
 */
import { createHash } from 'node:crypto';
import { build, type Message } from 'esbuild';
import { MeshError } from '../lib/errors.js';
import { compilePipyScript } from '../pipyjs/index.js';
import type { Plugin } from '../api/types.js';
import { PLUGIN_IMPORTS } from './imports.js';

export interface CompiledPlugin {
  kind: 'native' | 'pipy';
  /** CommonJS JavaScript for native plugins; the PipyJS source as given for pipy plugins */
  source: string;
  hash: string;
}

const cache = new Map<string, CompiledPlugin>();

/** Compiles (memoised by content) or throws MeshError('MESH_ERR_PLUGIN_COMPILE'). */
export async function compilePluginScript(plugin: Plugin): Promise<CompiledPlugin> {
  const name = plugin.metadata.name;
  const spec = plugin.spec ?? {};
  if (spec.script === undefined) {
    const source = spec.pipyscript ?? '';
    // refuses a script that does not parse, naming plugins/NAME.js:LINE:COLUMN; memoised by content
    return { kind: 'pipy', source, hash: compilePipyScript(name, source).hash };
  }
  const key = sha256(`${name}\0${spec.script}`);
  const hit = cache.get(key);
  if (hit) return hit;
  const file = `plugins/${name}.ts`;
  let code: string;
  try {
    const out = await build({
      stdin: { contents: spec.script, loader: 'ts', sourcefile: file },
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      external: [...PLUGIN_IMPORTS],
      logLevel: 'silent',
      sourcemap: false,
    });
    code = out.outputFiles[0]?.text ?? '';
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors ?? [];
    const problems = errors.map((e) => ({
      resource: `Plugin ${name}`,
      field: 'spec.script',
      message: e.location
        ? `${e.location.file}:${e.location.line}:${e.location.column + 1}: ${describe(e.text)}`
        : describe(e.text),
    }));
    if (problems.length === 0) problems.push({ resource: `Plugin ${name}`, field: 'spec.script', message: String(err) });
    throw new MeshError('MESH_ERR_PLUGIN_COMPILE', problems.map((p) => `${p.resource}: ${p.field}: ${p.message}`).join('\n'), {
      problems,
    });
  }
  const compiled: CompiledPlugin = { kind: 'native', source: code, hash: sha256(code) };
  cache.set(key, compiled);
  return compiled;
}

/** Admission check: resolves when the plugin compiles. */
export async function checkPluginScript(plugin: Plugin): Promise<void> {
  await compilePluginScript(plugin);
}

function describe(text: string): string {
  // esbuild says "Could not resolve" for imports outside the allow-list; say which ones are allowed.
  if (text.startsWith('Could not resolve')) return `${text} (plugins may import only ${PLUGIN_IMPORTS.join(', ')})`;
  return text;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
