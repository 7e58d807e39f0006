/** The local resource store: the only way into `store/`. */
export { openSqliteStore as openStore } from './sqlite-store.js';
export { kubeTimestamp, notFoundMessage } from './object-meta.js';
export { canonicalJson, jsonEqual } from './canonical.js';
export type * from './types.js';
