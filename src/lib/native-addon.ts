/**
 * Finding and loading the project's native addons (native/<name>/build/Release/<file>.node, built by
 * scripts/postbuild.mjs): the nearest ancestor of the compiled module that holds one, or the path in
 * an environment variable. Each addon is loaded once; a failure is remembered with its reason, so
 * callers can fall back and say why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeAddonSpec {
  /** the folder under native/ */
  name: string;
  /** the target name in its binding.gyp */
  target: string;
  /** an environment variable that names the .node file directly */
  envOverride: string;
}

export type AddonLoad<T> = { addon: T } | { error: string };

const loads = new Map<string, AddonLoad<unknown>>();

/** The relative path of an addon's build output. */
export const addonBuildPath = (spec: NativeAddonSpec): string => join('native', spec.name, 'build', 'Release', `${spec.target}.node`);

/** Where the built addon is: the override, else the nearest ancestor of this module holding it. */
export function findNativeAddon(spec: NativeAddonSpec): string | undefined {
  const override = process.env[spec.envOverride];
  if (override) return override;
  const rel = addonBuildPath(spec);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, rel);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Loads the addon once; later calls return the first outcome. */
export function loadNativeAddon<T>(spec: NativeAddonSpec): AddonLoad<T> {
  const known = loads.get(spec.name);
  if (known) return known as AddonLoad<T>;
  let outcome: AddonLoad<T>;
  const path = findNativeAddon(spec);
  if (!path) outcome = { error: `${addonBuildPath(spec)} is not built (run: npx node-gyp rebuild --directory=native/${spec.name})` };
  else {
    try {
      outcome = { addon: createRequire(import.meta.url)(path) as T };
    } catch (e) {
      outcome = { error: `${path}: ${(e as Error).message}` };
    }
  }
  loads.set(spec.name, outcome);
  return outcome;
}
