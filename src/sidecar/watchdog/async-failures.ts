/**
 * The sidecar's policy for errors nobody caught (docs/plugins.md, "Failures"). One thrown in a
 * plugin's async context (a timer's callback, a rejection nobody awaited, an 'error' event without a
 * listener) never ends the process: it fails that plugin's request with 500 while the plugin still
 * works on it, and is logged with the plugin's name either way. One with no plugin to blame is the
 * sidecar's own bug, after which its state (listeners, certificates, the applied snapshot) cannot be
 * trusted: it is logged and the process exits (fail closed) so the runtime restarts it clean. Both
 * are counted (tessera_sidecar_unhandled_errors_total) before anything else.
 */
import { writeSync } from 'node:fs';
import type { SidecarLog } from '../observability/log.js';
import type { SidecarMetrics } from '../observability/metrics.js';
import { currentPluginScope, describeRequest } from './plugin-scope.js';

/** EX_SOFTWARE: the sidecar's own unhandled error; the runtime restarts the container. */
export const SIDECAR_EXIT_INTERNAL_ERROR = 70;

export function containAsyncFailures(log: SidecarLog, metrics: SidecarMetrics): void {
  const handle = (kind: 'exception' | 'rejection', err: unknown): void => {
    const scope = currentPluginScope();
    metrics.recordUnhandledError(kind, scope?.plugin ?? '');
    const error = err instanceof Error ? err.stack ?? err.message : String(err);
    if (!scope) {
      // written synchronously: the process ends before the log's next flush
      const line = JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'unhandled error outside any plugin; exiting for a restart', kind, error });
      try {
        writeSync(1, `${line}\n`);
        writeSync(2, `sidecar: unhandled ${kind} outside any plugin: ${err instanceof Error ? err.message : String(err)}\n`);
      } catch {
        // a closed pipe must not keep the process alive
      }
      process.exit(SIDECAR_EXIT_INTERNAL_ERROR);
    }
    const failed = scope.fail !== undefined;
    log.error(failed ? 'plugin failed asynchronously; its request fails' : 'plugin failed asynchronously after it was done with its request', {
      plugin: scope.plugin, kind, request: describeRequest(scope), error,
    });
    scope.fail?.(err);
  };
  process.on('uncaughtException', (err) => handle('exception', err));
  process.on('unhandledRejection', (reason) => handle('rejection', reason));
}
