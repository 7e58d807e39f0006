/** The sidecar's HTTP/1.1 engine on llhttp: server connections and upstream pools. */
export { createHttpEngine, sameDestination, serveTunnelledHttp } from './server.js';
export type { HttpEngineOptions } from './server.js';
export { Pool } from './client.js';
export type { PoolOptions } from './client.js';
export { DEFAULT_PATH_NORMALIZATION } from './normalize.js';
export type { PathNormalization } from './normalize.js';
export { normalizeTarget } from './normalize.js';
