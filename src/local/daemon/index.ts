/** The local mesh lifecycle: `up`, `down` and the daemon they start. The only way into this folder. */
export { up, READY_TIMEOUT_MS } from './up.js';
export { down, DOWN_TIMEOUT_MS } from './down.js';
export { runDaemon, startDaemon, type DaemonOptions, type RunningDaemon } from './run-daemon.js';
export { DAEMON_COMMAND } from './daemon-process.js';
export { systemObjects, systemNamespace, meshConfigName, controllerName, injectorName, bootstrapName } from './system-objects.js';
