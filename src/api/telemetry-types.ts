/**
 * Istio's Telemetry (telemetry.istio.io/v1, v1alpha1 accepted) as Tessera stores it: the access-log
 * part (`accessLogging`). Metrics and tracing are not configured through it here; the validator
 * refuses them by name rather than ignore them.
 */
import type { WorkloadSelector } from './istio-types.js';
import type { Resource } from './types.js';

/** Which side of a workload a rule covers: CLIENT is its outbound traffic, SERVER its inbound. */
export type WorkloadMode = 'CLIENT' | 'SERVER' | 'CLIENT_AND_SERVER';
export const WORKLOAD_MODES: readonly WorkloadMode[] = ['CLIENT', 'SERVER', 'CLIENT_AND_SERVER'];

/** The providers a rule may name: Istio's built-in `envoy` (the proxy's stdout) is the sidecar's log here. */
export const ACCESS_LOG_PROVIDERS = ['envoy'] as const;

export interface AccessLogging {
  match?: { mode?: WorkloadMode };
  providers?: { name: string }[];
  /** true turns the access log off (refusals are still logged) */
  disabled?: boolean;
  /** a CEL expression over Envoy's attributes (src/access-log/filter.ts); only matching lines are written */
  filter?: { expression: string };
  /**
   * Tessera extension, named as Istio's tracing field: the percentage (0–100) of the lines that pass
   * the filter which are written. Refusals are always written.
   */
  randomSamplingPercentage?: number;
}

export interface TelemetrySpec {
  selector?: WorkloadSelector;
  accessLogging?: AccessLogging[];
}

export type Telemetry = Resource<TelemetrySpec | undefined>;
