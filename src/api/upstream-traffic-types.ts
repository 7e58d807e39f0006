/**
 * FSM's UpstreamTrafficSetting (policy.flomesh.io/v1alpha1) as Tessera stores it: connection limits
 * and circuit breaking for the clients of `host`, local rate limits enforced by the host's own pods.
 * Field names, units and defaults are FSM's (docs/traffic-management.md); `httpHeaders` is a Tessera
 * extension (FSM has no per-header limit).
 */
import type { Resource } from './types.js';

/** The rate-limit period names FSM accepts, in seconds. */
export const RATE_LIMIT_UNITS = { second: 1, minute: 60, hour: 3600 } as const;
export type RateLimitUnit = keyof typeof RATE_LIMIT_UNITS;

export interface TcpConnectionSettings {
  maxConnections?: number;
  /** Go duration; FSM default 5s */
  connectTimeout?: string;
}

export interface HttpCircuitBreaking {
  statTimeWindow: string;
  minRequestAmount: number;
  degradedTimeWindow: string;
  slowTimeThreshold?: string;
  slowAmountThreshold?: number;
  /** a fraction 0–1 of the window's requests, as FSM's sidecar compares it */
  slowRatioThreshold?: number;
  errorAmountThreshold?: number;
  errorRatioThreshold?: number;
  degradedStatusCode?: number;
  degradedResponseContent?: string;
}

export interface HttpConnectionSettings {
  maxRequests?: number;
  maxRequestsPerConnection?: number;
  maxPendingRequests?: number;
  maxRetries?: number;
  circuitBreaking?: HttpCircuitBreaking;
}

export interface ConnectionSettingsSpec {
  tcp?: TcpConnectionSettings;
  http?: HttpConnectionSettings;
}

export interface TcpLocalRateLimit {
  connections: number;
  unit: RateLimitUnit;
  burst?: number;
}

export interface HttpLocalRateLimit {
  requests: number;
  unit: RateLimitUnit;
  burst?: number;
  /** 400–599; default 429 */
  responseStatusCode?: number;
  responseHeadersToAdd?: { name: string; value: string }[];
}

export interface HeaderValue {
  name: string;
  value: string;
}

export interface UpstreamTrafficSettingSpec {
  /** `svc`, `svc.ns` or `svc.ns.svc.cluster.local`, a service in the setting's own namespace */
  host: string;
  connectionSettings?: ConnectionSettingsSpec;
  rateLimit?: { local?: { tcp?: TcpLocalRateLimit; http?: HttpLocalRateLimit } };
  httpRoutes?: { path: string; rateLimit?: { local?: HttpLocalRateLimit } }[];
  /** Tessera extension: a limit for the requests carrying all the listed headers (exact values) */
  httpHeaders?: { headers: HeaderValue[]; rateLimit?: { local?: HttpLocalRateLimit } }[];
}

export type UpstreamTrafficSetting = Resource<UpstreamTrafficSettingSpec | undefined>;
