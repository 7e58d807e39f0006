/** Sidecar observability: log, metrics, trace propagation. */
export { SidecarLog } from './log.js';
export type { LogLevel } from './log.js';
export { SidecarMetrics } from './metrics.js';
export { propagate } from './trace.js';
export type { TraceContext } from './trace.js';
