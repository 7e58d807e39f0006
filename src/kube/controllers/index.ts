/**
 * Kubernetes' object lifecycle controllers over `KubeStorage` + `ResourceRegistry`: the garbage
 * collector, the namespace lifecycle and the CRD cleanup finalizer. No platform I/O, no HTTP: the
 * daemon starts them next to the API server, on the same storage and registry.
 */
import { startCrdLifecycle } from './crd-lifecycle.js';
import { startGarbageCollector } from './garbage-collector.js';
import { startNamespaceLifecycle } from './namespace-lifecycle.js';
import type { ControllerOptions, RunningController } from './types.js';

export { startGarbageCollector } from './garbage-collector.js';
export { startNamespaceLifecycle, namespaceConditions, type ContentReport } from './namespace-lifecycle.js';
export { startCrdLifecycle } from './crd-lifecycle.js';
export { ControllerError, isControllerError, type ControllerErrorCode } from './errors.js';
export { CRD_CLEANUP_FINALIZER, NAMESPACE_FINALIZER, FOREGROUND_FINALIZER, ORPHAN_FINALIZER, type Condition } from './objects.js';
export type { ControllerOptions, RunningController } from './types.js';

/** Starts all three; `stop()` stops them in reverse order. */
export function startLifecycleControllers(opts: ControllerOptions): RunningController {
  const started: RunningController[] = [];
  try {
    started.push(startGarbageCollector(opts), startNamespaceLifecycle(opts), startCrdLifecycle(opts));
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
