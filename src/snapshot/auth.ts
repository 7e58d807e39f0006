/** Builds `Inbound.Authn` / `Inbound.Authz`: the Istio policies that apply to one pod, in the form the sidecar compiles (security-rules.md §1, §2). */
import type { WorkloadSelector } from '../api/istio-types.js';
import type { Pod, Resource } from '../api/types.js';
import { parseGoDuration } from '../api/validation/duration.js';
import { keyOf, podNamespace } from '../catalog/pods.js';
import type { Catalog } from '../catalog/types.js';
import { resolveExtAuthz } from './ext-authz.js';
import type { InboundAuthzPolicy, InboundJwtRule, ProxySnapshot } from './types.js';

type AuthSections = Pick<ProxySnapshot['Inbound'], 'Authn' | 'Authz'>;

/**
 * §1 "Which policies apply": policies of the pod's namespace, and of the root namespace
 * (`<mesh>-system`, Istio's istio-system), whose selector matches the pod's labels or is absent.
 * Root-namespace policies come first; within each, by name (the catalog sorts).
 */
function applying<T extends Resource<{ selector?: WorkloadSelector } | undefined>>(catalog: Catalog, pod: Pod, list: readonly T[]): T[] {
  const ns = podNamespace(pod);
  const root = `${catalog.meshName}-system`;
  const labels = pod.metadata.labels ?? {};
  const selects = (r: T): boolean => Object.entries(r.spec?.selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const inNs = (n: string): T[] => list.filter((r) => (r.metadata.namespace ?? 'default') === n && selects(r));
  return ns === root ? inNs(root) : [...inNs(root), ...inNs(ns)];
}

export function buildAuth(catalog: Catalog, pod: Pod): AuthSections {
  const out: AuthSections = {};
  const JwtRules: InboundJwtRule[] = [];
  for (const ra of applying(catalog, pod, catalog.istio.requestAuthentications)) {
    for (const { timeout, clockSkew, ...rule } of ra.spec?.jwtRules ?? []) {
      const ms = timeout === undefined ? undefined : parseGoDuration(timeout);
      const skew = clockSkew === undefined ? undefined : parseGoDuration(clockSkew);
      JwtRules.push({
        Policy: keyOf(ra.metadata.namespace ?? 'default', ra.metadata.name),
        Rule: rule,
        ...(ms ? { TimeoutMs: ms } : {}),
        ...(skew !== undefined ? { ClockSkewSeconds: Math.floor(skew / 1000) } : {}),
      });
    }
  }
  if (JwtRules.length > 0) out.Authn = { JwtRules };
  const Policies: InboundAuthzPolicy[] = [];
  for (const ap of applying(catalog, pod, catalog.istio.authorizationPolicies)) {
    const spec = ap.spec ?? {};
    const ExtAuthz = spec.action === 'CUSTOM' && spec.provider ? resolveExtAuthz(catalog.meshConfig.spec, spec.provider.name) : undefined;
    Policies.push({
      Name: keyOf(ap.metadata.namespace ?? 'default', ap.metadata.name),
      Action: spec.action ?? 'ALLOW',
      ...(spec.provider ? { Provider: spec.provider.name } : {}),
      ...(ExtAuthz ? { ExtAuthz } : {}),
      // Unset rules stay unset: that policy never matches, unlike `[{}]` (§1 "rules").
      ...(spec.rules ? { Rules: spec.rules } : {}),
      // Istio reads the annotation as exactly "true"; absent otherwise so snapshots without it do not change.
      ...(ap.metadata.annotations?.['istio.io/dry-run'] === 'true' ? { DryRun: true as const } : {}),
    });
  }
  if (Policies.length > 0) out.Authz = { Policies };
  return out;
}
