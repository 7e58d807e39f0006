/**
 * The sidecar's policy for errors nobody caught (docs/plugins.md, "Failures"): they never end the
 * process. One thrown in a plugin's async context (a timer's callback, a rejection nobody awaited,
 * an 'error' event without a listener) fails that plugin's request with 500 while the plugin still
 * works on it, and is logged with the plugin's name either way; one with no plugin to blame is
 * logged. Both are counted (tessera_sidecar_unhandled_errors_total).
 */
import type { SidecarLog } from '../observability/log.js';
import type { SidecarMetrics } from '../observability/metrics.js';
import { currentPluginScope, describeRequest } from './plugin-scope.js';

export function containAsyncFailures(log: SidecarLog, metrics: SidecarMetrics): void {
  const handle = (kind: 'exception' | 'rejection', err: unknown): void => {
    const scope = currentPluginScope();
    metrics.recordUnhandledError(kind, scope?.plugin ?? '');
    const error = err instanceof Error ? err.stack ?? err.message : String(err);
    if (!scope) {
      log.error('unhandled error outside any request; the sidecar goes on', { kind, error });
      return;
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
