/**
 * Kubernetes' object lifecycle controllers over `KubeStorage` + `ResourceRegistry`: the garbage
 * collector, the namespace lifecycle, the CRD cleanup finalizer and Events' expiry (--event-ttl). No platform I/O, no HTTP: the
 * daemon starts them next to the API server, on the same storage and registry.
 */
import { startCrdLifecycle } from './crd-lifecycle.js';
import { startEventTtl } from './event-ttl.js';
import { startGarbageCollector } from './garbage-collector.js';
import { startNamespaceLifecycle } from './namespace-lifecycle.js';
import type { ControllerOptions, RunningController } from './types.js';

export { startGarbageCollector } from './garbage-collector.js';
export { startNamespaceLifecycle, namespaceConditions, type ContentReport } from './namespace-lifecycle.js';
export { startCrdLifecycle } from './crd-lifecycle.js';
export { DEFAULT_EVENT_TTL_MS, startEventTtl, type EventTtlOptions } from './event-ttl.js';
export { ControllerError, isControllerError, type ControllerErrorCode } from './errors.js';
export { CRD_CLEANUP_FINALIZER, NAMESPACE_FINALIZER, FOREGROUND_FINALIZER, ORPHAN_FINALIZER, type Condition } from './objects.js';
export type { ControllerOptions, RunningController } from './types.js';

/** Starts them all (and Events' expiry); `stop()` stops them in reverse order. */
export function startLifecycleControllers(opts: ControllerOptions): RunningController {
  const started: RunningController[] = [];
  try {
    started.push(startGarbageCollector(opts), startNamespaceLifecycle(opts), startCrdLifecycle(opts), startEventTtl(opts));
  } catch (e) {
    for (const c of started.reverse()) c.stop();
    throw e;
  }
  return {
    stop() {
      for (const c of [...started].reverse()) c.stop();
    },
  };
}
