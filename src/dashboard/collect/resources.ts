/**
 * The mesh's own kinds per namespace with a one-line status and the warnings `kubectl apply`
 * printed for them (src/policy-lint, recomputed against the mesh as it is now).
 */
import { KINDS } from '../../api/kinds.js';
import type { Resource } from '../../api/types.js';
import { lintPolicy, type LintWorld } from '../../policy-lint/index.js';
import type { ResourceView } from '../model.js';

/** Kubernetes' own kinds are the cluster's, not the mesh's: the dashboard lists the rest. */
const CORE = new Set(['Namespace', 'ServiceAccount', 'Service', 'Pod', 'Secret', 'ConfigMap', 'Deployment', 'StatefulSet', 'DaemonSet', 'Endpoints']);

export const MESH_KINDS: readonly string[] = KINDS.filter((k) => !CORE.has(k.kind)).map((k) => k.kind);

/** The kinds the lint world is built from (as the API server builds it on apply). */
export const WORLD_KINDS: readonly string[] = ['Namespace', 'ServiceAccount', 'Service', 'Pod', 'Deployment'];

interface Condition {
  type?: unknown;
  status?: unknown;
  reason?: unknown;
  message?: unknown;
}

/** `Ready=True`, `Accepted=False: no such service`, `Committed`, `phase Running`: whatever the object's status says, on one line. */
export function statusLine(status: unknown): string | undefined {
  if (typeof status !== 'object' || status === null) return undefined;
  const s = status as Record<string, unknown>;
  if (Array.isArray(s['conditions']) && s['conditions'].length > 0) {
    return (s['conditions'] as Condition[])
      .map((c) => {
        const head = `${String(c.type ?? '?')}=${String(c.status ?? '?')}`;
        const why = c.status !== 'True' ? (typeof c.message === 'string' && c.message ? c.message : typeof c.reason === 'string' ? c.reason : '') : '';
        return why ? `${head}: ${why}` : head;
      })
      .join(', ');
  }
  for (const key of ['currentStatus', 'phase', 'state']) {
    if (typeof s[key] === 'string' && s[key]) {
      const reason = typeof s['reason'] === 'string' && s['reason'] ? `: ${s['reason']}` : '';
      return `${s[key]}${reason}`;
    }
  }
  return undefined;
}

export function resourceViewOf(r: Resource, world: LintWorld | undefined): ResourceView {
  const v: ResourceView = { apiVersion: r.apiVersion, kind: r.kind, name: r.metadata.name, warnings: world ? lintPolicy(r, world) : [] };
  if (r.metadata.namespace) v.namespace = r.metadata.namespace;
  const status = statusLine((r as { status?: unknown }).status);
  if (status) v.status = status;
  return v;
}

export function sortResources(list: ResourceView[]): ResourceView[] {
  return list.sort((a, b) => `${a.namespace ?? ''}\0${a.kind}\0${a.name}`.localeCompare(`${b.namespace ?? ''}\0${b.kind}\0${b.name}`));
}
