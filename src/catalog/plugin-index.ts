/** Indexes PluginConfigs by (plugin, destination service), the key FSM should have used. */
import type { PluginConfig } from '../api/types.js';
import { byString, keyOf } from './pods.js';

export function pluginTargetKey(plugin: string, serviceNamespace: string, serviceName: string): string {
  return `${plugin}|${keyOf(serviceNamespace, serviceName)}`;
}

/**
 * `plugin|ns/svc` → `spec.config`. Keyed by plugin AND destination service: FSM keeps one shared map
 * per plugin, so the config of one service leaks into every other service the same plugin is
 * configured for (fsm-design.md §1.3); we do not copy that.
 *
 * When two PluginConfigs name the same (plugin, service), the one whose `namespace/name` sorts first
 * wins, so the result never depends on the order the store lists them in. Only `kind: Service`
 * references count; a reference without a namespace means the PluginConfig's own namespace.
 */
export function indexPluginConfigs(configs: readonly PluginConfig[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, pc] of winningPluginConfigs(configs)) out.set(key, pc.spec?.config ?? {});
  return out;
}

/**
 * `plugin|ns/svc` → the PluginConfig that wins there, by the rule above. The control plane's Secret
 * grants read the same winner the compiler put in the snapshot, so the two can never disagree.
 */
export function winningPluginConfigs(configs: readonly PluginConfig[]): Map<string, PluginConfig> {
  const sorted = [...configs].sort((a, b) =>
    byString(keyOf(a.metadata.namespace ?? 'default', a.metadata.name), keyOf(b.metadata.namespace ?? 'default', b.metadata.name)),
  );
  const out = new Map<string, PluginConfig>();
  for (const pc of sorted) {
    const spec = pc.spec;
    if (!spec || typeof spec.plugin !== 'string' || !Array.isArray(spec.destinationRefs)) continue;
    for (const ref of spec.destinationRefs) {
      if (!ref || ref.kind !== 'Service' || !ref.name) continue;
      const key = pluginTargetKey(spec.plugin, ref.namespace || pc.metadata.namespace || 'default', ref.name);
      if (!out.has(key)) out.set(key, pc);
    }
  }
  return out;
}
