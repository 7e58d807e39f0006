/**
 * The kinds Tessera understands, with the names kubectl users type for them. Adding a kind is one
 * entry here plus its schema in `validation/`.
 */

export interface KindInfo {
  kind: string;
  /** group/version, or just version for the core group */
  apiVersion: string;
  /** other apiVersions accepted on input (normalised to `apiVersion` on store) */
  acceptedApiVersions?: string[];
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  /** Created by Tessera itself (pods); users may read and delete but not apply them. */
  systemOwned?: boolean;
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'Namespace', apiVersion: 'v1', plural: 'namespaces', singular: 'namespace', shortNames: ['ns'], namespaced: false },
  { kind: 'ServiceAccount', apiVersion: 'v1', plural: 'serviceaccounts', singular: 'serviceaccount', shortNames: ['sa'], namespaced: true },
  { kind: 'Service', apiVersion: 'v1', plural: 'services', singular: 'service', shortNames: ['svc'], namespaced: true },
  { kind: 'Pod', apiVersion: 'v1', plural: 'pods', singular: 'pod', shortNames: ['po'], namespaced: true, systemOwned: true },
  { kind: 'Secret', apiVersion: 'v1', plural: 'secrets', singular: 'secret', shortNames: [], namespaced: true },
  { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps', singular: 'configmap', shortNames: ['cm'], namespaced: true },
  {
    kind: 'Deployment', apiVersion: 'apps/v1', plural: 'deployments', singular: 'deployment', shortNames: ['deploy'],
    namespaced: true,
  },
  {
    kind: 'MeshConfig', apiVersion: 'config.flomesh.io/v1alpha3',
    acceptedApiVersions: ['config.flomesh.io/v1alpha1', 'config.flomesh.io/v1alpha2', 'config.openservicemesh.io/v1alpha3'],
    plural: 'meshconfigs', singular: 'meshconfig', shortNames: ['meshconfig'], namespaced: true,
  },
  { kind: 'Plugin', apiVersion: 'plugin.flomesh.io/v1alpha1', plural: 'plugins', singular: 'plugin', shortNames: ['pi'], namespaced: false },
  {
    kind: 'PluginChain', apiVersion: 'plugin.flomesh.io/v1alpha1', plural: 'pluginchains', singular: 'pluginchain',
    shortNames: ['pichn'], namespaced: true,
  },
  {
    kind: 'PluginConfig', apiVersion: 'plugin.flomesh.io/v1alpha1', plural: 'pluginconfigs', singular: 'pluginconfig',
    shortNames: ['picfg'], namespaced: true,
  },
  // SMI (security-rules.md §7). v1alpha2 TrafficTargets differ only by `destination.port`, which the
  // validator refuses explicitly; the v1alpha3 specs kinds are field-compatible with v1alpha4.
  {
    kind: 'TrafficTarget', apiVersion: 'access.smi-spec.io/v1alpha3', acceptedApiVersions: ['access.smi-spec.io/v1alpha2'],
    plural: 'traffictargets', singular: 'traffictarget', shortNames: ['tt'], namespaced: true,
  },
  {
    kind: 'HTTPRouteGroup', apiVersion: 'specs.smi-spec.io/v1alpha4', acceptedApiVersions: ['specs.smi-spec.io/v1alpha3'],
    plural: 'httproutegroups', singular: 'httproutegroup', shortNames: ['htr'], namespaced: true,
  },
  {
    kind: 'TCPRoute', apiVersion: 'specs.smi-spec.io/v1alpha4', acceptedApiVersions: ['specs.smi-spec.io/v1alpha3'],
    plural: 'tcproutes', singular: 'tcproute', shortNames: [], namespaced: true,
  },
  {
    kind: 'UDPRoute', apiVersion: 'specs.smi-spec.io/v1alpha4', acceptedApiVersions: ['specs.smi-spec.io/v1alpha3'],
    plural: 'udproutes', singular: 'udproute', shortNames: [], namespaced: true,
  },
  // FSM's access policies for clients outside the mesh (fsm-design.md §1.4).
  {
    kind: 'AccessControl', apiVersion: 'policy.flomesh.io/v1alpha1', plural: 'accesscontrols', singular: 'accesscontrol',
    shortNames: ['acl'], namespaced: true,
  },
  {
    kind: 'AccessCert', apiVersion: 'policy.flomesh.io/v1alpha1', plural: 'accesscerts', singular: 'accesscert',
    shortNames: ['acert'], namespaced: true,
  },
  // FSM's connection limits, circuit breaking and local rate limits for a service (docs/traffic-management.md).
  {
    kind: 'UpstreamTrafficSetting', apiVersion: 'policy.flomesh.io/v1alpha1', plural: 'upstreamtrafficsettings', singular: 'upstreamtrafficsetting',
    shortNames: ['upstreamtrafficsetting'], namespaced: true,
  },
  // Traffic management (docs/traffic-management.md): FSM's Retry, SMI's TrafficSplit (FSM serves v1alpha2).
  {
    kind: 'Retry', apiVersion: 'policy.flomesh.io/v1alpha1', plural: 'retries', singular: 'retry', shortNames: [], namespaced: true,
  },
  {
    kind: 'TrafficSplit', apiVersion: 'split.smi-spec.io/v1alpha2', acceptedApiVersions: ['split.smi-spec.io/v1alpha3', 'split.smi-spec.io/v1alpha4'],
    plural: 'trafficsplits', singular: 'trafficsplit', shortNames: ['ts'], namespaced: true,
  },
  // Istio security kinds (security-rules.md §1, §2); policies in `<mesh>-system` apply mesh-wide.
  {
    kind: 'RequestAuthentication', apiVersion: 'security.istio.io/v1beta1', acceptedApiVersions: ['security.istio.io/v1'], plural: 'requestauthentications',
    singular: 'requestauthentication', shortNames: ['ra'], namespaced: true,
  },
  {
    kind: 'AuthorizationPolicy', apiVersion: 'security.istio.io/v1beta1', acceptedApiVersions: ['security.istio.io/v1'], plural: 'authorizationpolicies',
    singular: 'authorizationpolicy', shortNames: ['ap'], namespaced: true,
  },
  // Istio's Sidecar: the outbound scope (egress hosts) of the workloads it selects (docs/traffic-management.md).
  {
    kind: 'Sidecar', apiVersion: 'networking.istio.io/v1', acceptedApiVersions: ['networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'],
    plural: 'sidecars', singular: 'sidecar', shortNames: [], namespaced: true,
  },
  // Istio's Telemetry: access-log rules per mesh (root namespace), namespace or workload (docs/access-log.md).
  {
    kind: 'Telemetry', apiVersion: 'telemetry.istio.io/v1', acceptedApiVersions: ['telemetry.istio.io/v1alpha1'], plural: 'telemetries',
    singular: 'telemetry', shortNames: [], namespaced: true,
  },
];

/**
 * Kinds users read and never apply, served by the API server as built-ins: not mesh kinds (no CRD,
 * no controller watch), known to the command line so `tessera get events` works as kubectl's does.
 */
export const READ_ONLY_KINDS: readonly KindInfo[] = [
  { kind: 'Event', apiVersion: 'v1', plural: 'events', singular: 'event', shortNames: ['ev'], namespaced: true, systemOwned: true },
];

const byKind = new Map(KINDS.map((k) => [k.kind, k]));
const byName = new Map<string, KindInfo>();
for (const k of [...KINDS, ...READ_ONLY_KINDS]) {
  for (const n of [k.kind.toLowerCase(), k.plural, k.singular, ...k.shortNames]) byName.set(n, k);
}

/** Looks a kind up by its Kind (`PluginChain`). */
export function kindInfo(kind: string): KindInfo | undefined {
  return byKind.get(kind);
}

/**
 * Resolves what a user typed on the command line (`pods`, `pod`, `po`, `deploy`, `pluginchain.plugin.flomesh.io`)
 * to a kind.
 */
export function resolveKindName(name: string): KindInfo | undefined {
  const lower = name.toLowerCase();
  const direct = byName.get(lower);
  if (direct) return direct;
  // kubectl accepts resource.group (e.g. `plugins.plugin.flomesh.io`)
  const dot = lower.indexOf('.');
  if (dot > 0) {
    const k = byName.get(lower.slice(0, dot));
    if (k && k.apiVersion.startsWith(lower.slice(dot + 1))) return k;
  }
  return undefined;
}

/** True when `apiVersion` is accepted for `kind`. */
export function apiVersionAccepted(info: KindInfo, apiVersion: string): boolean {
  return info.apiVersion === apiVersion || (info.acceptedApiVersions ?? []).includes(apiVersion);
}
