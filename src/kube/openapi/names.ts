/** How kube-apiserver names definitions and operations, so kubectl and generated clients find them. */
import type { ResourceType } from '../registry/types.js';

/** Go packages of the built-in API groups, as their definitions are named. */
const BUILTIN_PACKAGES: Record<string, string> = {
  '': 'io.k8s.api.core',
  'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
  'apiregistration.k8s.io': 'io.k8s.kube-aggregator.pkg.apis.apiregistration',
};

const reversed = (group: string) => group.split('.').reverse().join('.');

/**
 * `io.k8s.api.core.v1.Pod`, `io.k8s.api.apps.v1.Deployment` for built-in kinds; for custom resources
 * `<reversed group>.<version>.<Kind>` (`io.istio.security.v1.AuthorizationPolicy`).
 */
export function definitionName(group: string, version: string, kind: string, builtIn = true): string {
  if (builtIn) {
    const pkg = BUILTIN_PACKAGES[group] ?? (group.endsWith('.k8s.io') || !group.includes('.') ? `io.k8s.api.${group.split('.')[0]}` : undefined);
    if (pkg) return `${pkg}.${version}.${kind}`;
  }
  return group === '' ? `${version}.${kind}` : `${reversed(group)}.${version}.${kind}`;
}

export const typeDefinitionName = (t: ResourceType, version: string, kind = t.kind) => definitionName(t.group, version, kind, t.builtIn);

const pascal = (s: string) => s.split(/[.\-]/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');

/** `Core`, `Apps`, `Apiextensions`, `SecurityIstioIo`: the group part of operation ids and tags. */
export function groupToken(group: string): string {
  if (group === '') return 'Core';
  return pascal(group.endsWith('.k8s.io') ? group.slice(0, -'.k8s.io'.length) : group);
}

/** `core_v1`, `apps_v1`, `security.istio.io_v1`: the operation tag. */
export function tagOf(group: string, version: string): string {
  const g = group === '' ? 'core' : group.endsWith('.k8s.io') ? group.slice(0, -'.k8s.io'.length) : group;
  return `${g.replace(/\./g, '_').replace(/-/g, '_')}_${version}`;
}

/** `/api/v1` or `/apis/<group>/<version>`. */
export const groupVersionPrefix = (group: string, version: string) => (group === '' ? `/api/${version}` : `/apis/${group}/${version}`);
