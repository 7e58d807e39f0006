/** Collects Istio RequestAuthentications, AuthorizationPolicies, Telemetries and Sidecars once per catalog, sorted by namespace then name. */
import type { AuthorizationPolicy, RequestAuthentication } from '../api/istio-types.js';
import type { Sidecar } from '../api/networking-types.js';
import type { Telemetry } from '../api/telemetry-types.js';
import type { Resource } from '../api/types.js';
import { byString, keyOf } from './pods.js';
import type { IstioPolicies } from './types.js';

export function buildIstioPolicies(resources: readonly Resource[]): IstioPolicies {
  const requestAuthentications: RequestAuthentication[] = [];
  const authorizationPolicies: AuthorizationPolicy[] = [];
  const telemetries: Telemetry[] = [];
  const sidecars: Sidecar[] = [];
  for (const r of resources) {
    if (r.kind === 'RequestAuthentication') requestAuthentications.push(r as RequestAuthentication);
    else if (r.kind === 'AuthorizationPolicy') authorizationPolicies.push(r as AuthorizationPolicy);
    else if (r.kind === 'Telemetry') telemetries.push(r as Telemetry);
    else if (r.kind === 'Sidecar') sidecars.push(r as Sidecar);
  }
  const key = (r: Resource): string => keyOf(r.metadata.namespace ?? 'default', r.metadata.name);
  const sort = <T extends Resource>(list: T[]): T[] => list.sort((a, b) => byString(key(a), key(b)));
  return { requestAuthentications: sort(requestAuthentications), authorizationPolicies: sort(authorizationPolicies), telemetries: sort(telemetries), sidecars: sort(sidecars) };
}
