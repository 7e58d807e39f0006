/** `wait`: resolves once every matching object meets a condition (or all are gone), else times out. */
import { kindInfo } from '../../api/kinds.js';
import type { Deployment, Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import type { ListQuery } from '../api-contract.js';
import { deploymentAvailable, isPodReady } from '../controllers/index.js';
import type { ApiContext } from './context.js';
import { resolveKind } from './kind-names.js';
import { listResources } from './queries.js';

type Condition = { kind: 'delete' } | { kind: 'condition'; type: string; value: string };

/** Accepts `delete`, `ready`, `available`, `condition=Ready`, `condition=Available=false`. */
export function parseCondition(text: string): Condition {
  const t = text.trim();
  if (/^delete$/i.test(t)) return { kind: 'delete' };
  const m = t.match(/^(?:condition=)?([A-Za-z][\w.-]*)(?:=(\w+))?$/);
  if (!m) throw new MeshError('MESH_ERR_USAGE', `unrecognized condition: "${text}" (use delete or condition=NAME[=VALUE])`);
  return { kind: 'condition', type: m[1]!.toLowerCase(), value: (m[2] ?? 'true').toLowerCase() };
}

function conditionStatus(obj: Resource, type: string): string | undefined {
  const conditions = (obj.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
  return conditions.find((c) => c.type?.toLowerCase() === type)?.status?.toLowerCase();
}

export function meetsCondition(obj: Resource, cond: Extract<Condition, { kind: 'condition' }>): boolean {
  // Pods and Deployments have stronger meanings than their raw condition lists (rollout complete, etc.).
  let met: boolean | undefined;
  if (obj.kind === 'Pod' && cond.type === 'ready') met = isPodReady(obj);
  else if (obj.kind === 'Deployment' && (cond.type === 'available' || cond.type === 'ready')) met = deploymentAvailable(obj as Deployment);
  if (met !== undefined) return cond.value === 'true' ? met : !met;
  return conditionStatus(obj, cond.type) === cond.value;
}

function label(obj: Resource): string {
  return `${kindInfo(obj.kind)?.plural ?? obj.kind}/${obj.metadata.name}`;
}

/**
 * Level-triggered: re-evaluates on every store change. A condition wait with no matching objects
 * keeps waiting (pods appear shortly after their Deployment is applied) instead of failing at once.
 */
export function waitFor(ctx: ApiContext, query: ListQuery, conditionText: string, timeoutMs: number, signal?: AbortSignal): Promise<Resource[]> {
  const cond = parseCondition(conditionText);
  listResources(ctx, query); // surfaces an unknown kind or a bad selector now, not at the timeout
  return new Promise((resolve, reject) => {
    let unwatch = (): void => {};
    let timer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void): void => {
      unwatch();
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const check = (): boolean => {
      const matches = listResources(ctx, query);
      if (cond.kind === 'delete') {
        if (matches.length === 0) finish(() => resolve([]));
        return matches.length === 0;
      }
      if (matches.length > 0 && matches.every((o) => meetsCondition(o, cond))) {
        finish(() => resolve(matches));
        return true;
      }
      return false;
    };
    const onAbort = (): void => finish(() => reject(new MeshError('MESH_ERR_TIMEOUT', 'wait cancelled')));
    if (check()) return;
    unwatch = ctx.store.watch(() => {
      try {
        check();
      } catch (e) {
        finish(() => reject(e));
      }
    });
    signal?.addEventListener('abort', onAbort);
    timer = setTimeout(() => finish(() => reject(timeoutError(ctx, query, cond, conditionText))), Math.max(0, timeoutMs));
  });
}

function timeoutError(ctx: ApiContext, query: ListQuery, cond: Condition, conditionText: string): MeshError {
  const matches = listResources(ctx, query);
  if (cond.kind === 'delete') {
    return new MeshError('MESH_ERR_TIMEOUT', `timed out waiting for the deletion of ${matches.map(label).join(', ')}`);
  }
  if (matches.length === 0) {
    const plural = resolveKind(query.kind).plural;
    const sel = query.labelSelector ? ` matching "${query.labelSelector}"` : query.name ? ` named "${query.name}"` : '';
    return new MeshError('MESH_ERR_TIMEOUT', `timed out waiting for condition "${conditionText}": no ${plural}${sel} found`);
  }
  const pending = matches.filter((o) => !meetsCondition(o, cond));
  return new MeshError('MESH_ERR_TIMEOUT', `timed out waiting for the condition on ${pending.map(label).join(', ')}`);
}
