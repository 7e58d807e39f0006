/** The per-Service upstream settings Tessera compiles from annotations: request timeouts and outlier detection. */
import { keyOf } from '../catalog/pods.js';
import type { Catalog } from '../catalog/types.js';
import type { OutlierDetectionConfig, RequestTimeoutConfig } from './types.js';

export function requestTimeoutsFor(catalog: Catalog, namespace: string, name: string): RequestTimeoutConfig[] | undefined {
  const t = catalog.traffic.timeoutsByService.get(keyOf(namespace, name));
  return t?.map((x) => ({ Prefix: x.prefix, Timeout: x.timeoutMs / 1000 }));
}

export function outlierDetectionFor(catalog: Catalog, namespace: string, name: string): OutlierDetectionConfig | undefined {
  const o = catalog.traffic.outlierByService.get(keyOf(namespace, name));
  if (!o) return undefined;
  return {
    Consecutive5xx: o.consecutive5xx,
    ConsecutiveGatewayFailure: o.consecutiveGatewayFailure,
    BaseEjectionTime: o.baseEjectionTimeMs / 1000,
    MaxEjectionTime: o.maxEjectionTimeMs / 1000,
    MaxEjectionPercent: o.maxEjectionPercent,
  };
}
