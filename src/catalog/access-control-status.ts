/**
 * The status of each AccessControl (FSM's `status.currentStatus` and `status.reason`), judged from
 * one catalog the way the compiler reads it (snapshot/access-control.ts). FSM writes
 * `committed` / "successfully committed by the system" and, when a Service source has no endpoints,
 * `error` / "endpoints not found for service NS/NAME"; Tessera also reports, as `error`, every other
 * part that cannot take effect, all reasons joined with "; ". An AccessControl in error still
 * applies its other parts, as the compiler does.
 */
import type { AccessControl, AccessControlBackend, AccessControlStatus } from '../api/policy-types.js';
import { MONITORED_BY_LABEL } from '../api/types.js';
import { parseCidr } from '../lib/cidr.js';
import { accessControlBackends, accessControlSources, findService, readyEndpointIPs } from './access-control.js';
import { meshConfigName } from './mesh-config.js';
import { byString, keyOf } from './pods.js';
import type { Catalog } from './types.js';

export const ACCESS_CONTROL_COMMITTED: AccessControlStatus = { currentStatus: 'committed', reason: 'successfully committed by the system' };

const aclKey = (acl: AccessControl): string => keyOf(acl.metadata.namespace ?? '', acl.metadata.name);

/** `ns/service:targetPort` of a backend, as the compiler selects it (same namespace as the ACL). */
const backendKey = (acl: AccessControl, b: AccessControlBackend): string => `${acl.metadata.namespace}/${b.name}:${b.port.number}`;

/**
 * Which ACL the compiler takes for each backend (the first in the namespace by name to claim it)
 * and for services without one (the first backend-less ACL by namespace, then name).
 */
interface Winners {
  backends: Map<string, string>;
  global: string | undefined;
}

function winners(sorted: readonly AccessControl[]): Winners {
  const backends = new Map<string, string>();
  let global: string | undefined;
  for (const acl of sorted) {
    const list = accessControlBackends(acl);
    if (list.length === 0) global ??= aclKey(acl);
    for (const b of list) if (!backends.has(backendKey(acl, b))) backends.set(backendKey(acl, b), aclKey(acl));
  }
  return { backends, global };
}

function backendProblems(catalog: Catalog, acl: AccessControl, won: Winners): string[] {
  const namespace = acl.metadata.namespace ?? '';
  const problems: string[] = [];
  for (const b of accessControlBackends(acl)) {
    const svc = findService(catalog, namespace, b.name);
    const where = `${namespace}/${b.name}`;
    const claimedBy = won.backends.get(backendKey(acl, b));
    if (claimedBy !== aclKey(acl)) problems.push(`backend ${where} port ${b.port.number} is already claimed by AccessControl ${claimedBy}`);
    else if (!svc) problems.push(`backend service ${where} not found`);
    else if (!svc.meshed) problems.push(`backend service ${where} is not in the mesh (namespace ${namespace} is not monitored by ${catalog.meshName})`);
    // FSM matches backends on the targetPort; a named targetPort resolves per pod.
    else if (!svc.ports.some((p) => p.targetPort === b.port.number || p.endpoints.some((e) => e.port === b.port.number))) {
      problems.push(`backend service ${where} has no port with targetPort ${b.port.number}`);
    }
  }
  return problems;
}

function sourceProblems(catalog: Catalog, acl: AccessControl): string[] {
  const withTls = accessControlBackends(acl).some((b) => b.tls);
  const problems: string[] = [];
  for (const s of accessControlSources(acl)) {
    if (s.kind === 'Service' && readyEndpointIPs(catalog, s.namespace ?? '', s.name).length === 0) {
      problems.push(`endpoints not found for service ${s.namespace ?? ''}/${s.name}`);
    } else if (s.kind === 'IPRange' && !parseCidr(s.name)) {
      problems.push(`IPRange source ${JSON.stringify(s.name)} is not a CIDR`);
    } else if (s.kind === 'AuthenticatedPrincipal' && !withTls) {
      // Principals are checked on client certificates, which only backends with tls ask for.
      problems.push(`AuthenticatedPrincipal source ${JSON.stringify(s.name)} has no effect: no backend has tls`);
    }
  }
  return problems;
}

/**
 * The status of every AccessControl among `stored` (keyed `ns/name`). While the MeshConfig's
 * `enableAccessControlPolicy` is off the compiler ignores them all, so each is an error saying so.
 */
export function accessControlStatuses(catalog: Catalog, all: readonly AccessControl[]): Map<string, AccessControlStatus> {
  const out = new Map<string, AccessControlStatus>();
  // Another mesh's namespace is that mesh's to judge: two control planes on one API (the local mesh
  // and an installed one) must not write each other's statuses back and forth.
  const stored = all.filter((acl) => !monitoredByAnotherMesh(catalog, acl.metadata.namespace ?? 'default'));
  if (!catalog.meshConfig.enableAccessControlPolicy) {
    const mc = meshConfigName(catalog.meshName);
    const reason = `access control policy is disabled: MeshConfig ${mc.namespace}/${mc.name} has spec.featureFlags.enableAccessControlPolicy false`;
    for (const acl of stored) out.set(aclKey(acl), { currentStatus: 'error', reason });
    return out;
  }
  const sorted = [...stored].sort((a, b) => byString(aclKey(a), aclKey(b)));
  const won = winners(sorted);
  for (const acl of sorted) {
    const problems = accessControlBackends(acl).length > 0 ? backendProblems(catalog, acl, won) : [];
    if (accessControlBackends(acl).length === 0 && won.global !== aclKey(acl)) {
      problems.push(`AccessControl ${won.global} applies instead: of those without backends only the first by namespace and name does`);
    }
    problems.push(...sourceProblems(catalog, acl));
    out.set(aclKey(acl), problems.length === 0 ? { ...ACCESS_CONTROL_COMMITTED } : { currentStatus: 'error', reason: problems.join('; ') });
  }
  return out;
}

/** Whether `namespace` is labelled `flomesh.io/monitored-by` with another mesh's name. */
export function monitoredByAnotherMesh(catalog: Pick<Catalog, 'namespaces' | 'meshName'>, namespace: string): boolean {
  const owner = catalog.namespaces.get(namespace)?.labels[MONITORED_BY_LABEL];
  return owner !== undefined && owner !== catalog.meshName;
}
