/**
 * Built-in plugins: names a PluginChain may list without a Plugin object. The compiler mounts them
 * as `plugins/NAME.js` with `PluginScripts[NAME].Kind === 'builtin'`; the sidecar runs its own code
 * for them (src/sidecar/token-plugins/). Shared by the compiler, the control plane (which Secrets a
 * plugin's config may read) and the sidecar.
 */
import { createHash } from 'node:crypto';

export const BUILTIN_PLUGINS = ['jwt-reissue', 'claims-to-headers', 'jwt-pass-through'] as const;
export type BuiltinPluginName = (typeof BUILTIN_PLUGINS)[number];

/**
 * Where a built-in sits when no Plugin object gives a priority: below the built-in routing,
 * observability and throttling modules (so the route, and the PluginConfig of the destination,
 * are known) and above load balancing (so the upstream request carries what the plugin set).
 */
export const BUILTIN_PLUGIN_PRIORITY = 115;

export function isBuiltinPlugin(name: string): name is BuiltinPluginName {
  return (BUILTIN_PLUGINS as readonly string[]).includes(name);
}

/** The PluginScripts entry's Source and Hash: the name and a version tag, never code or config. */
export function builtinPluginSource(name: BuiltinPluginName): { source: string; hash: string } {
  const source = `builtin:${name}@1`;
  return { source, hash: createHash('sha256').update(source).digest('hex') };
}

/**
 * The Secret names a built-in's config refers to (`signingKey.secretName`, `apiKey.secretName`).
 * The control plane hands a sidecar only these Secrets, from the PluginConfig's own namespace.
 */
export function secretNamesOf(plugin: string, config: unknown): string[] {
  if (!isBuiltinPlugin(plugin) || typeof config !== 'object' || config === null) return [];
  const out: string[] = [];
  for (const field of ['signingKey', 'apiKey']) {
    const ref = (config as Record<string, unknown>)[field];
    const name = typeof ref === 'object' && ref !== null ? (ref as Record<string, unknown>)['secretName'] : undefined;
    if (typeof name === 'string' && name.length > 0) out.push(name);
  }
  return out;
}
