/** The control plane: resources → per-proxy snapshots → pushed to sidecars. */
export { Controller, snapshotEvent } from './controller.js';
export { createDeliveryServer } from './delivery.js';
export { ConvergenceTracker, CONVERGENCE_BUCKETS } from './convergence.js';
export { ProxyRegistry, STALE_AFTER_MS, syncStateOf } from './registry.js';
export type { SyncState } from './registry.js';
export { startWatch } from './watch.js';
