/**
 * The RetryPolicy of an outbound cluster (FSM's `ClusterConfigs[c].RetryPolicy`): from the first Retry
 * (by namespace/name) whose source is the client's ServiceAccount and whose destinations list the
 * cluster's Service, only while MeshConfig `featureFlags.enableRetryPolicy` is on.
 */
import { parseGoDuration } from '../api/validation/duration.js';
import type { Catalog } from '../catalog/types.js';

/** FSM's sidecar shape: durations in seconds; defaults filled in so the sidecar never guesses. */
export interface RetryPolicyConfig {
  RetryOn: string;
  /** seconds; absent: the request's own timeout bounds every attempt */
  PerTryTimeout?: number;
  NumRetries: number;
  /** seconds */
  RetryBackoffBaseInterval: number;
}

/** FSM's documented defaults: one retry, a 25 ms backoff base. */
export const DEFAULT_NUM_RETRIES = 1;
export const DEFAULT_BACKOFF_BASE_SECONDS = 0.025;

export function retryEnabled(catalog: Catalog): boolean {
  return catalog.meshConfig.spec.featureFlags?.['enableRetryPolicy'] === true;
}

/** The policy `client` (`sa.ns`) retries the Service `namespace/name` with, if any. */
export function retryPolicyFor(catalog: Catalog, client: string, namespace: string, name: string): RetryPolicyConfig | undefined {
  if (!retryEnabled(catalog)) return undefined;
  for (const r of catalog.traffic.retriesBySource.get(client) ?? []) {
    const spec = r.spec!;
    if (!spec.destinations.some((d) => d.kind === 'Service' && d.name === name && d.namespace === namespace)) continue;
    const p = spec.retryPolicy;
    const perTry = p.perTryTimeout === undefined ? undefined : parseGoDuration(p.perTryTimeout);
    const backoff = p.retryBackoffBaseInterval === undefined ? undefined : parseGoDuration(p.retryBackoffBaseInterval);
    return {
      RetryOn: p.retryOn,
      ...(perTry !== undefined ? { PerTryTimeout: perTry / 1000 } : {}),
      NumRetries: p.numRetries ?? DEFAULT_NUM_RETRIES,
      RetryBackoffBaseInterval: backoff !== undefined ? backoff / 1000 : DEFAULT_BACKOFF_BASE_SECONDS,
    };
  }
  return undefined;
}
