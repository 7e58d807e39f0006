/** Picks the PluginConfig objects attached to a destination service's rule on this proxy. */
import { byString } from '../catalog/pods.js';
import { pluginTargetKey } from '../catalog/plugin-index.js';
import type { Catalog } from '../catalog/types.js';

/**
 * `Plugins` for the rule of service `ns/name`: the config of every plugin mounted at the rule's mount
 * point that a PluginConfig targets at this service. Undefined when there is none, so rules without
 * plugins carry no empty object.
 */
export function pluginsFor(
  catalog: Catalog,
  mounted: ReadonlySet<string>,
  namespace: string,
  service: string,
): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const plugin of [...mounted].sort(byString)) {
    const key = pluginTargetKey(plugin, namespace, service);
    if (!catalog.pluginConfigByTarget.has(key)) continue;
    (out ??= {})[plugin] = catalog.pluginConfigByTarget.get(key);
  }
  return out;
}
