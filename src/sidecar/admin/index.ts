/** The sidecar's admin server. */
export { createAdminServer } from './server.js';
export type { AdminDeps } from './server.js';
