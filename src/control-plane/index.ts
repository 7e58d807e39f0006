/** The control plane: resources → per-proxy snapshots → pushed to sidecars. */
export { Controller, snapshotEvent } from './controller.js';
export { createDeliveryServer } from './delivery.js';
export { ProxyRegistry } from './registry.js';
export { startWatch } from './watch.js';
