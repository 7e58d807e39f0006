/** Local mode: the `tessera up` daemon, its store and API server, and the pod runtime. */
export * from './layout.js';
export type * from './api-contract.js';
export type * from './lifecycle-contract.js';
export type * from './store/types.js';
export { connectMesh } from './client/index.js';
export { up, down, runDaemon } from './daemon/index.js';
