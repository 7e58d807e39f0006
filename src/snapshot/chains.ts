/** Builds a proxy's four module chains from the built-ins and the PluginChains that select its pod. */
import type { MountPoint, Pod, PluginChain } from '../api/types.js';
import { MOUNT_POINTS } from '../api/types.js';
import { selectorMatches } from '../api/labels.js';
import { byString, podNamespace } from '../catalog/pods.js';
import type { Catalog } from '../catalog/types.js';
import { BUILTIN_PLUGIN_PRIORITY, builtinPluginSource, isBuiltinPlugin } from '../plugins/builtin.js';
import { builtinModuleName, builtinModulePath, pluginModulePath } from './names.js';
import type { PluginScript } from './types.js';

export interface ProxyChains {
  Chains: Record<MountPoint, string[]>;
  /** plugin names mounted at each mount point (after skipping missing plugins and sources) */
  mounted: Record<MountPoint, ReadonlySet<string>>;
  PluginScripts: Record<string, PluginScript>;
}

/**
 * True when `chain` applies to `pod`: its podSelector matches the pod's labels and its
 * namespaceSelector the labels of the pod's Namespace (an absent selector matches everything).
 *
 * Deviation from FSM: there a PluginChain without namespaceSelector applies to matching pods in
 * EVERY namespace, so a tenant who may only write PluginChains in its own namespace could mount code
 * into other tenants' sidecars. Here such a chain applies only to pods in its own namespace, unless
 * MeshConfig `spec.featureFlags.enablePluginChainClusterScope` is true (FSM behaviour).
 */
export function pluginChainApplies(catalog: Catalog, chain: PluginChain, pod: Pod): boolean {
  const selectors = chain.spec?.selectors ?? {};
  const ns = podNamespace(pod);
  if (!selectors.namespaceSelector && !catalog.meshConfig.enablePluginChainClusterScope) {
    if ((chain.metadata.namespace ?? 'default') !== ns) return false;
  }
  return (
    selectorMatches(selectors.podSelector, pod.metadata.labels) &&
    selectorMatches(selectors.namespaceSelector, catalog.namespaces.get(ns)?.labels ?? {})
  );
}

/** Plugin names each mount point gets from the PluginChains matching this pod; only when plugin policy is on. */
function mountedPluginNames(catalog: Catalog, pod: Pod): Record<MountPoint, Set<string>> {
  const out = Object.fromEntries(MOUNT_POINTS.map((mp) => [mp, new Set<string>()])) as Record<MountPoint, Set<string>>;
  if (!catalog.meshConfig.enablePluginPolicy) return out;
  for (const chain of catalog.pluginChains) {
    if (!pluginChainApplies(catalog, chain, pod)) continue;
    for (const entry of chain.spec?.chains ?? []) {
      // Other names are legal in FSM's schema but no sidecar reads them.
      if (!MOUNT_POINTS.includes(entry.name)) continue;
      for (const name of entry.plugins ?? []) {
        // A listed plugin without a Plugin object or without compiled code is skipped, as FSM skips
        // missing plugins; the chain stays usable and picks the plugin up on a later revision.
        if (catalog.plugins.has(name) ? catalog.pluginSources.has(name) : isBuiltinPlugin(name)) out[entry.name].add(name);
      }
    }
  }
  return out;
}

interface ChainItem {
  path: string;
  priority: number;
  builtin: boolean;
  /** sort tiebreak: the module or plugin name */
  name: string;
}

/**
 * Orders one chain: priority descending; on equal priority built-ins first, then by name. FSM's
 * sort is unstable, so equal priorities come out in any order there; ours never changes between
 * compiles.
 */
function orderChain(items: ChainItem[]): string[] {
  return items
    .sort((a, b) => b.priority - a.priority || (a.builtin === b.builtin ? 0 : a.builtin ? -1 : 1) || byString(a.name, b.name))
    .map((i) => i.path);
}

export function pluginPriority(catalog: Catalog, name: string): number {
  // A built-in (token plugin) has no Plugin object unless a user made one, which then replaces it.
  if (!catalog.plugins.has(name) && isBuiltinPlugin(name)) return BUILTIN_PLUGIN_PRIORITY;
  const p = catalog.plugins.get(name)?.spec?.priority;
  return typeof p === 'number' && Number.isFinite(p) ? p : 0;
}

function hashAndSource(s: { source: string; hash: string }): { Hash: string; Source: string } {
  return { Hash: s.hash, Source: s.source };
}

export function buildChains(catalog: Catalog, pod: Pod): ProxyChains {
  const mounted = mountedPluginNames(catalog, pod);
  const Chains = {} as Record<MountPoint, string[]>;
  const PluginScripts: Record<string, PluginScript> = {};
  for (const mp of MOUNT_POINTS) {
    const plugins = mounted[mp];
    const items: ChainItem[] = [];
    for (const b of catalog.meshConfig.builtinChains[mp]) {
      if (b.disable) continue;
      const moduleName = builtinModuleName(mp, b.plugin);
      // A plugin named like a built-in of this chain (`outbound-http-routing`, or just `http-routing`)
      // replaces it; the plugin sits at its own priority.
      if (plugins.has(moduleName) || plugins.has(b.plugin)) continue;
      items.push({ path: builtinModulePath(mp, b.plugin), priority: b.priority, builtin: true, name: moduleName });
    }
    for (const name of plugins) {
      items.push({ path: pluginModulePath(name), priority: pluginPriority(catalog, name), builtin: false, name });
      const src = catalog.pluginSources.get(name);
      if (!src && isBuiltinPlugin(name)) {
        PluginScripts[name] = { Kind: 'builtin', Priority: BUILTIN_PLUGIN_PRIORITY, ...hashAndSource(builtinPluginSource(name)) };
        continue;
      }
      PluginScripts[name] = { Kind: src!.kind, Priority: pluginPriority(catalog, name), Hash: src!.hash, Source: src!.source };
    }
    Chains[mp] = orderChain(items);
  }
  return { Chains, mounted, PluginScripts };
}
