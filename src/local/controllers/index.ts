/** The local controllers: the only way into `controllers/`. */
import { reconcileAccessControlStatus } from './access-control-status.js';
import type { ControllerContext } from './context.js';
import { reconcileDeployments } from './deployment-controller.js';
import { reconcileEndpoints } from './endpoints-controller.js';
import { reconcileNamespaces } from './namespace-controller.js';
import { PendingCreations } from './pending-creations.js';
import { reconcileServices } from './service-controller.js';

export type { ControllerContext } from './context.js';
export { deploymentAvailable, type LocalDeploymentStatus } from './deployment-controller.js';
export { isPodReady } from './pod-readiness.js';
export { hasSidecar } from '../../injector/mutation.js';
export { httpInjectorClient, WEBHOOK_TIMEOUT_MS, type InjectorClient } from './injector-client.js';
export { podIPOf } from './address-allocation.js';
export { templateHash, NAME_ALPHABET } from './pod-naming.js';
export * from './well-known.js';

const RETRY_AFTER_ERROR_MS = 1000;

/**
 * Starts the controllers. They are level-triggered: any store change schedules one full pass over
 * the store (coalesced), so no event can be missed and a daemon restart converges like any change.
 */
export function startControllers(ctx: ControllerContext & { log?: (line: string) => void }): { stop(): void } {
  const log = ctx.log ?? ((line: string) => console.error(line));
  let scheduled = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const creations = new PendingCreations(() => schedule());

  const pass = (): void => {
    scheduled = false;
    if (stopped) return;
    try {
      reconcileNamespaces(ctx);
      reconcileServices(ctx);
      reconcileDeployments(ctx, creations);
      reconcileAccessControlStatus(ctx);
      reconcileEndpoints(ctx);
    } catch (e) {
      log(`controllers: ${(e as Error).message}; retrying`);
      retry ??= setTimeout(() => {
        retry = undefined;
        schedule();
      }, RETRY_AFTER_ERROR_MS);
    }
  };
  const schedule = (): void => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(pass);
  };

  const unwatch = ctx.store.watch(schedule);
  schedule();
  return {
    stop() {
      stopped = true;
      unwatch();
      creations.stop();
      if (retry) clearTimeout(retry);
    },
  };
}
