/** FSM chart defaults for the MeshConfig fields Tessera reads, and how a MeshConfig is merged over them. */
import type { BuiltinChainEntry, MeshConfigSpec, MountPoint } from '../api/types.js';
import { MOUNT_POINTS } from '../api/types.js';

function entry(plugin: string, priority: number): BuiltinChainEntry {
  return { plugin, priority, disable: false };
}

/**
 * The built-in modules per mount point, as FSM's chart ships them (`charts/fsm/values.yaml`
 * `pluginChains`). A module is written `modules/<direction>-<plugin>.js`.
 */
export const BUILTIN_CHAINS: Record<MountPoint, BuiltinChainEntry[]> = {
  'inbound-tcp': [
    entry('tls-termination', 130),
    entry('tcp-routing', 120),
    entry('tcp-load-balancing', 110),
    entry('tcp-default', 100),
  ],
  'inbound-http': [
    entry('tls-termination', 180),
    entry('http-routing', 170),
    entry('metrics-http', 160),
    entry('tracing-http', 150),
    entry('logging-http', 140),
    entry('throttle-service', 130),
    entry('throttle-route', 120),
    entry('http-load-balancing', 110),
    entry('http-default', 100),
  ],
  'outbound-tcp': [entry('tcp-routing', 120), entry('tcp-load-balancing', 110), entry('tcp-default', 100)],
  'outbound-http': [
    entry('http-routing', 160),
    entry('metrics-http', 150),
    entry('tracing-http', 140),
    entry('logging-http', 130),
    entry('circuit-breaker', 120),
    entry('http-load-balancing', 110),
    entry('http-default', 100),
  ],
};
// Frozen so that no caller can change the defaults of every later compile by accident.
for (const mp of MOUNT_POINTS) {
  for (const e of BUILTIN_CHAINS[mp]) Object.freeze(e);
  Object.freeze(BUILTIN_CHAINS[mp]);
}
Object.freeze(BUILTIN_CHAINS);

function copyChains(chains: Record<MountPoint, BuiltinChainEntry[]>): Record<MountPoint, BuiltinChainEntry[]> {
  const out = {} as Record<MountPoint, BuiltinChainEntry[]>;
  for (const mp of MOUNT_POINTS) out[mp] = chains[mp].map((e) => ({ ...e }));
  return out;
}

/** FSM chart defaults (`preset-mesh-config.yaml`) for the fields Tessera uses. A fresh object each call. */
export function defaultMeshConfigSpec(): MeshConfigSpec {
  return {
    featureFlags: {
      enablePluginPolicy: false,
      enableAccessControlPolicy: true,
      enableAccessCertPolicy: false,
      enableSidecarPrettyConfig: true,
      enableAutoDefaultRoute: false,
      enableSidecarActiveHealthChecks: false,
      // Tessera flag, see catalog/plugin-index.ts: a PluginChain without namespaceSelector is namespace-scoped.
      enablePluginChainClusterScope: false,
    },
    traffic: {
      enablePermissiveTrafficPolicyMode: true,
      enableEgress: true,
      http1PerRequestLoadBalancing: false,
      http2PerRequestLoadBalancing: true,
    },
    certificate: {
      serviceCertValidityDuration: '24h',
      certKeyBitSize: 2048,
    },
    sidecar: {
      logLevel: 'error',
      sidecarTimeout: 60,
    },
    pluginChains: copyChains(BUILTIN_CHAINS),
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Merges a user's MeshConfig spec over the defaults. Object sections merge one level deep (a user who
 * sets only `featureFlags.enablePluginPolicy` keeps every other flag's default). A mount point listed
 * in `pluginChains` replaces that mount point's whole list, as a JSON merge patch of the chart's list
 * would; mount points not listed keep the chart list.
 */
export function mergeMeshConfigSpec(defaults: MeshConfigSpec, user: MeshConfigSpec | undefined): MeshConfigSpec {
  const out: MeshConfigSpec = { ...defaults };
  if (!user) return out;
  for (const [section, value] of Object.entries(user)) {
    if (value === undefined) continue;
    if (section === 'pluginChains') {
      const chains = { ...(defaults.pluginChains ?? {}) };
      if (isPlainObject(value)) {
        for (const mp of MOUNT_POINTS) {
          const list = value[mp];
          if (Array.isArray(list)) chains[mp] = list as BuiltinChainEntry[];
        }
      }
      out.pluginChains = chains;
    } else if (isPlainObject(value) && isPlainObject(defaults[section])) {
      out[section] = { ...(defaults[section] as Record<string, unknown>), ...value };
    } else {
      out[section] = value;
    }
  }
  return out;
}
