/**
 * Which Secret a sidecar may read for a built-in token plugin, so key material never rides in the
 * snapshot (or `config_dump`). A request names (plugin, destination service, Secret); it is granted
 * only when the PluginConfig that wins for that plugin and service names the Secret, lives in the
 * Secret's namespace, and the requesting proxy's own snapshot mounts the plugin with that config.
 */
import type { PluginConfig, Resource, Secret } from '../api/types.js';
import { pluginTargetKey, winningPluginConfigs } from '../catalog/index.js';
import { isBuiltinPlugin, secretNamesOf } from '../plugins/builtin.js';
import { canonicalJson } from '../snapshot/canonical.js';
import type { ProxySnapshot } from '../snapshot/types.js';

export interface SecretRequest {
  plugin: string;
  serviceNamespace: string;
  serviceName: string;
  secretName: string;
}

export type SecretAnswer = { status: 200; data: Record<string, string> } | { status: 403 | 404; error: string };

/** True when some HTTP rule of the proxy's snapshot carries exactly this config for the plugin. */
function snapshotCarries(snapshot: ProxySnapshot, plugin: string, config: unknown): boolean {
  if (snapshot.PluginScripts[plugin]?.Kind !== 'builtin') return false;
  const want = canonicalJson(config ?? {});
  const matches = [
    ...Object.values(snapshot.Inbound.TrafficMatches),
    ...Object.values(snapshot.Outbound.TrafficMatches).flat(),
  ];
  return matches.some((m) => Object.values(m.HttpServiceRouteRules ?? {}).some((r) => r.Plugins?.[plugin] !== undefined && canonicalJson(r.Plugins[plugin]) === want));
}

export function pluginSecretFor(resources: readonly Resource[], snapshot: ProxySnapshot | undefined, req: SecretRequest): SecretAnswer {
  if (!isBuiltinPlugin(req.plugin)) return { status: 403, error: `${req.plugin} is not a built-in plugin` };
  const configs = resources.filter((r): r is PluginConfig => r.kind === 'PluginConfig');
  const pc = winningPluginConfigs(configs).get(pluginTargetKey(req.plugin, req.serviceNamespace, req.serviceName));
  const ns = pc?.metadata.namespace ?? 'default';
  if (!pc || !secretNamesOf(req.plugin, pc.spec?.config).includes(req.secretName)) {
    return { status: 403, error: `no PluginConfig of ${req.plugin} for ${req.serviceNamespace}/${req.serviceName} names Secret ${req.secretName}` };
  }
  if (!snapshot || !snapshotCarries(snapshot, req.plugin, pc.spec?.config)) {
    return { status: 403, error: `this proxy does not run ${req.plugin} with that PluginConfig` };
  }
  const secret = resources.find((r): r is Secret => r.kind === 'Secret' && (r.metadata.namespace ?? 'default') === ns && r.metadata.name === req.secretName);
  if (!secret) return { status: 404, error: `Secret ${ns}/${req.secretName} not found` };
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) if (typeof v === 'string') data[k] = v;
  // Admission folds stringData into data; a hand-edited store may still hold it.
  for (const [k, v] of Object.entries(secret.stringData ?? {})) if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
  return { status: 200, data };
}
