/** What the watchdog's main side and its worker share. */

/** `Symbol.for(HOOK_KEY)` on the main thread's global: the function the worker's interrupt calls. */
export const HOOK_KEY = 'tessera.sidecar.watchdog';

export interface WatchdogWorkerData {
  /** one float64: the main thread's last heartbeat, in ms since the epoch (performance clock) */
  shared: SharedArrayBuffer;
  thresholdMs: number;
  checkMs: number;
}
