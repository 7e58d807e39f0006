/** The sidecar proxy. */
export { Sidecar } from './sidecar.js';
export type { SidecarOptions } from './sidecar.js';
export { buildRuntime, loadPluginKinds } from './runtime.js';
export type { Runtime } from './runtime.js';
