/**
 * Liveness of the sidecar: a watchdog that ends a process whose event loop is blocked (watchdog.ts,
 * worker.ts), and containment of the errors plugins throw asynchronously (async-failures.ts), both
 * naming the plugin and request they belong to (plugin-scope.ts).
 */
export { DEFAULT_WATCHDOG_MS, WATCHDOG_WORKER_ENV, startWatchdog, type Watchdog, type WatchdogOptions } from './watchdog.js';
export { containAsyncFailures } from './async-failures.js';
export { inPluginScope, outsidePluginScope, pluginScope, settleInScope, type PluginScope } from './plugin-scope.js';
