/** Getting snapshots: the control-plane stream and the on-disk last good copy. */
export { StreamClient } from './client.js';
export type { StreamClientOptions } from './client.js';
export { loadSnapshot, saveSnapshot } from './disk.js';
export type { SavedSnapshot } from './disk.js';
