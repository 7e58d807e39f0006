/** Upstream connections: pooled HTTP, Upgrade tunnels and raw TCP. */
export { UpstreamClient, splitEndpoint } from './client.js';
export type { UpstreamOptions } from './client.js';
