/**
 * Traffic-management kinds as Tessera stores them after validation: FSM's `policy.flomesh.io/v1alpha1`
 * Retry and SMI's `split.smi-spec.io` TrafficSplit (docs/traffic-management.md).
 */
import type { Resource } from './types.js';

export interface RetrySubject {
  kind: 'ServiceAccount' | 'Service';
  name: string;
  namespace: string;
}

export interface RetryPolicySpec {
  /** comma-separated conditions (retry-on.ts) */
  retryOn: string;
  /** Go duration; absent: the request timeout */
  perTryTimeout?: string;
  /** absent: 1 */
  numRetries?: number;
  /** Go duration; absent: 25ms */
  retryBackoffBaseInterval?: string;
}

export interface RetrySpec {
  /** the client: a ServiceAccount */
  source: RetrySubject;
  /** the upstreams: Services */
  destinations: RetrySubject[];
  retryPolicy: RetryPolicySpec;
}
export type Retry = Resource<RetrySpec>;

export interface TrafficSplitBackend {
  /** a Service in the TrafficSplit's namespace */
  service: string;
  weight: number;
}

export interface TrafficSplitSpec {
  /** the root (apex) service clients address: `svc`, `svc.ns` or a longer form of it */
  service: string;
  backends: TrafficSplitBackend[];
}
export type TrafficSplit = Resource<TrafficSplitSpec>;

/**
 * The root service a TrafficSplit's `spec.service` names in the split's namespace: `svc`, `svc.ns`,
 * `svc.ns.svc` or `svc.ns.svc.cluster.local` (FSM compares the name and the FQDN); undefined when it
 * names another namespace or is not such a form.
 */
export function rootServiceName(service: string, namespace: string): string | undefined {
  const parts = service.split('.');
  const name = parts[0]!;
  if (parts.length === 1) return name;
  if (parts[1] !== namespace) return undefined;
  const rest = parts.slice(2).join('.');
  return rest === '' || rest === 'svc' || rest === 'svc.cluster.local' ? name : undefined;
}
