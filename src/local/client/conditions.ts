/** `wait --for` conditions and the STATUS a person reads for a pod. */
import type { ContainerStatus, Deployment, Pod, Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import { deploymentAvailable, isPodReady } from '../controllers/pod-readiness.js';

export type Condition = { kind: 'delete' } | { kind: 'condition'; type: string; value: string };

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

export function meetsCondition(obj: Resource, cond: Condition): boolean {
  if (cond.kind === 'delete') return false;
  // Pods and Deployments have stronger meanings than their raw condition lists (rollout complete, etc.).
  let met: boolean | undefined;
  if (obj.kind === 'Pod' && cond.type === 'ready') met = isPodReady(obj);
  else if (obj.kind === 'Deployment' && (cond.type === 'available' || cond.type === 'ready')) met = deploymentAvailable(obj as Deployment);
  if (met !== undefined) return cond.value === 'true' ? met : !met;
  return conditionStatus(obj, cond.type) === cond.value;
}

/** kubectl's STATUS column: a waiting or terminated reason beats the phase. */
export function podStatusText(pod: Pod): string {
  const statuses: ContainerStatus[] = pod.status?.containerStatuses ?? [];
  for (const s of statuses) if (s.state?.waiting?.reason) return s.state.waiting.reason;
  for (const s of statuses) if (s.state?.terminated?.reason) return s.state.terminated.reason;
  return pod.status?.phase ?? 'Pending';
}
