/**
 * AccessControl status from the controller (FSM's controller writes `status.currentStatus` and
 * `status.reason` the same way): judged by catalog/access-control-status.ts and written through the
 * `status` subresource, since the CRDs declare it and a write of the object itself drops `.status`.
 *
 * The status is computed from exactly the kinds the local daemon's writer reads
 * (local/controllers/access-control-status.ts), so in local mode, where both write, they agree and
 * the second finds nothing to change. Only the leader writes (`canWrite`, as for the Secrets).
 * A write echoes back as a status-only change, which the controller does not recompute for
 * (controller.ts `statusOnlyChange`): no loop.
 */
import type { AccessControl, AccessControlStatus } from '../api/policy-types.js';
import type { Resource } from '../api/types.js';
import { accessControlStatuses, buildCatalog } from '../catalog/index.js';
import { serialized } from '../lib/serialized.js';
import type { ControllerLog } from './controller.js';

/** What the status depends on: the backends' and Service sources' resolution, and the feature flag. */
export const ACCESS_CONTROL_STATUS_INPUTS: readonly string[] = ['Namespace', 'Pod', 'Service', 'MeshConfig', 'AccessControl'];

/** The status each AccessControl among `resources` should have, keyed `ns/name`. */
export function desiredAccessControlStatuses(meshName: string, resources: readonly Resource[]): Map<string, AccessControlStatus> {
  const inputs = resources.filter((r) => ACCESS_CONTROL_STATUS_INPUTS.includes(r.kind));
  const acls = inputs.filter((r): r is AccessControl => r.kind === 'AccessControl');
  if (acls.length === 0) return new Map();
  const catalog = buildCatalog({ meshName, resources: inputs, pluginSources: new Map() });
  return accessControlStatuses(catalog, acls);
}

/** The one call the writer makes: `KubeMeshApi.replaceStatus` (PUT `<object>/status`, conflict retry). */
export interface StatusApi {
  replaceStatus(kind: string, name: string, namespace: string | undefined, status: unknown, opts?: { current?: Resource }): Promise<{ action: string }>;
}

export interface StatusWriterOptions {
  api: StatusApi;
  meshName: string;
  log: ControllerLog;
  /** whether this replica may write now (leader election); always, by default */
  canWrite?: () => boolean;
  /** the controller's current view, for retries (status-only echoes included); else the last update's */
  view?: () => readonly Resource[];
}

/** How soon a pass that could not write everything runs again (with the controller's latest view). */
export const STATUS_RETRY_MS = 5000;

export class AccessControlStatusWriter {
  canWrite: () => boolean;
  private pending: readonly Resource[] | undefined;
  private last: readonly Resource[] | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: StatusWriterOptions) {
    this.canWrite = opts.canWrite ?? (() => true);
  }

  /** Queues the resources as the controller sees them now; one pass at a time, the latest view wins. */
  update(resources: readonly Resource[]): Promise<void> {
    this.pending = resources;
    this.last = resources;
    return this.flush();
  }

  /** Runs a pass again with the last view (on becoming leader; after a failed write). */
  retry(): Promise<void> {
    const resources = this.opts.view?.() ?? this.last;
    return resources ? this.update(resources) : Promise.resolve();
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private retryLater(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retry();
    }, STATUS_RETRY_MS);
    this.retryTimer.unref();
  }

  readonly flush: () => Promise<void> = serialized(async () => {
    const resources = this.pending;
    this.pending = undefined;
    if (!resources || !this.canWrite()) return;
    const desired = desiredAccessControlStatuses(this.opts.meshName, resources);
    for (const acl of resources) {
      if (acl.kind !== 'AccessControl') continue;
      const key = `${acl.metadata.namespace ?? ''}/${acl.metadata.name}`;
      const status = desired.get(key);
      if (!status || sameStatus(acl.status, status)) continue;
      if (!this.canWrite()) return; // leadership lost part-way: the new leader finishes
      try {
        const r = await this.opts.api.replaceStatus('AccessControl', acl.metadata.name, acl.metadata.namespace, status, { current: acl });
        if (r.action !== 'unchanged') this.opts.log.info('wrote AccessControl status', { accessControl: key, currentStatus: status.currentStatus });
      } catch (err) {
        // Refused or unreachable: tried again shortly (a deleted AccessControl drops out of the view).
        this.opts.log.warn('cannot write AccessControl status', { accessControl: key, error: (err as Error).message });
        this.retryLater();
      }
    }
  });
}

function sameStatus(have: unknown, want: AccessControlStatus): boolean {
  const h = (have ?? {}) as Partial<AccessControlStatus>;
  return Object.keys(h).length === 2 && h.currentStatus === want.currentStatus && h.reason === want.reason;
}
