/** The local API server and its client: the only way into `apiserver/`. */
export { startApiServer, type ApiServerOptions, type RunningApiServer } from './server.js';
export type { AdmissionOverrides } from './admission-checks.js';
export { mergePatch } from './merge-patch.js';
