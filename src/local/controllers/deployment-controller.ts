/**
 * Deployments → pods: keeps spec.replicas pods of the current template, replacing pods of an older
 * template one at a time (surge one new pod, wait until it is Ready, then delete an old one — no
 * capacity is lost during a rollout), and reports status. Pods of meshed namespaces are created
 * once the injector webhook admits them; a refusal is retried with backoff and shown as the
 * Deployment's ReplicaFailure condition, as Kubernetes shows FailedCreate. On the daemon every pod
 * is created through the embedded API (`ctx.createPod`), as kube-controller-manager's replicaset
 * controller creates them: the API's whole admission chain decides, and gives the pod its address.
 */
import { createHash } from 'node:crypto';
import type { Deployment, DeploymentStatus, Namespace, Pod, Resource } from '../../api/types.js';
import type { StoreWrite } from '../store/index.js';
import { jsonEqual, kubeTimestamp } from '../store/index.js';
import { podIPAllocator, type LowestFreeAllocator } from './address-allocation.js';
import type { ControllerContext } from './context.js';
import { WebhookDenied } from './injector-client.js';
import { ownedBy } from './ownership.js';
import type { PendingCreations } from './pending-creations.js';
import { admitThroughInjector, buildPod, needsInjectorWebhook, placeApp } from './pod-factory.js';
import { newPodName, templateHash } from './pod-naming.js';
import { isPodReady } from './pod-readiness.js';
import { POD_TEMPLATE_HASH_LABEL } from './well-known.js';

interface DeploymentCondition {
  type: 'Available' | 'Progressing' | 'ReplicaFailure';
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

export type LocalDeploymentStatus = DeploymentStatus & { conditions?: DeploymentCondition[] };

export function reconcileDeployments(ctx: ControllerContext, creations: PendingCreations): void {
  const allPods = ctx.store.list('Pod') as Pod[];
  // One allocator for the whole pass so two deployments never get the same address; pods still
  // waiting on the webhook keep theirs.
  const reserved = creations.reservedIPs().map((ip) => ({ status: { podIP: ip } }) as Pod);
  const addresses = podIPAllocator([...allPods, ...reserved], ctx.block);
  const deployments = ctx.store.list('Deployment') as Deployment[];
  creations.forgetAllBut(new Set(deployments.map((d) => d.metadata.uid!)));
  // A Deployment being deleted gets no new pods: the garbage collector is removing them.
  for (const d of deployments) if (!d.metadata.deletionTimestamp) reconcileDeployment(ctx, d, addresses, creations);
}

/** Orders pods so the ones to drop come first: not Ready before Ready, then newest first. */
function dropOrder(a: Pod, b: Pod): number {
  const ready = Number(isPodReady(a)) - Number(isPodReady(b));
  if (ready !== 0) return ready;
  return (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || b.metadata.name.localeCompare(a.metadata.name);
}

function reconcileDeployment(ctx: ControllerContext, d: Deployment, addresses: LowestFreeAllocator, creations: PendingCreations): void {
  const ns = d.metadata.namespace!;
  const namespace = ctx.store.get({ kind: 'Namespace', name: ns }) as Namespace | undefined;
  if (!namespace || !d.spec?.template) return; // the namespace controller is about to delete it
  const desired = Math.max(0, d.spec.replicas ?? 1);
  const hash = templateHash(d.spec.template);
  const podsInNs = ctx.store.list('Pod', ns) as Pod[];
  const owned = podsInNs.filter((p) => ownedBy(p, d));
  const current = owned.filter((p) => p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash).sort(dropOrder);
  const old = owned.filter((p) => p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] !== hash).sort(dropOrder);

  const doomed: Pod[] = [];
  // Scale down surplus pods of the current template.
  doomed.push(...current.slice(0, Math.max(0, current.length - desired)));
  const keptCurrent = current.length - Math.max(0, current.length - desired);
  const readyCurrent = current.slice(current.length - keptCurrent).filter(isPodReady).length;
  // Old pods that are not Ready serve nothing: drop them at once. Ready ones only while the Ready
  // pods that remain still cover `desired`.
  const oldUnready = old.filter((p) => !isPodReady(p));
  const oldReady = old.filter(isPodReady);
  doomed.push(...oldUnready);
  const oldReadyToDrop = Math.min(oldReady.length, Math.max(0, readyCurrent + oldReady.length - desired));
  doomed.push(...oldReady.slice(0, oldReadyToDrop));
  const oldLeft = oldReady.length - oldReadyToDrop;

  // One pod of surge while old pods remain; otherwise fill up to `desired`. Pods waiting on the
  // webhook count as created.
  const surge = oldLeft > 0 ? 1 : 0;
  const uid = d.metadata.uid!;
  const pending = creations.pendingFor(uid, hash);
  const toCreate = Math.max(0, Math.min(desired - keptCurrent, desired + surge - (keptCurrent + oldLeft)) - pending);
  const viaWebhook = needsInjectorWebhook(namespace, ctx.meshName);
  if (toCreate === 0 && pending === 0) creations.resolved(uid);

  const writes: StoreWrite[] = doomed.map((p) => ({ op: 'delete', key: { kind: 'Pod', namespace: ns, name: p.metadata.name } }));
  const names = new Set([...podsInNs.map((p) => p.metadata.name), ...creations.reservedNames()]);
  const creating = (viaWebhook || ctx.createPod) && !creations.mayCreate(uid) ? 0 : toCreate;
  for (let i = 0; i < creating; i++) {
    const name = newPodName(d.metadata.name, hash, (n) => names.has(n));
    names.add(name);
    if (ctx.createPod) {
      const create = ctx.createPod;
      const pod = buildPod({ deployment: d, name, hash });
      // The API stored it (or refused it); a pod whose Deployment went meanwhile is the garbage collector's.
      creations.start({ deploymentUid: uid, hash, name }, () => create(pod), () => undefined, (err) => failedCreate(ctx, d, err.message));
      continue;
    }
    const pod = buildPod({ deployment: d, name, hash, podIP: addresses.take() });
    if (!viaWebhook) {
      writes.push({ op: 'put', object: placeApp(pod) });
      continue;
    }
    creations.start(
      { deploymentUid: uid, hash, name, podIP: pod.status!.podIP! },
      (signal) => admitThroughInjector(pod, namespace, ctx.meshName, ctx.injector, signal),
      (admitted) => storeIfStillWanted(ctx, d, admitted),
      (err) => webhookFailure(ctx, err),
    );
  }
  if (writes.length > 0) ctx.store.transact(writes);
  writeStatus(ctx, d, hash, desired, creations.failureOf(uid));
}

/** The answer came later: the Deployment (or its namespace) may be gone by now, and then so is the pod. */
function storeIfStillWanted(ctx: ControllerContext, d: Deployment, pod: Pod): void {
  const current = ctx.store.get({ kind: 'Deployment', namespace: d.metadata.namespace, name: d.metadata.name });
  if (current?.metadata.uid !== d.metadata.uid) return;
  if (!ctx.store.get({ kind: 'Namespace', name: d.metadata.namespace! })) return;
  ctx.store.transact([{ op: 'put', object: pod }]);
}

/**
 * A Warning Event `FailedCreate` on the Deployment ("Error creating: …", as the replicaset controller
 * words it), one per distinct message with its count raised on each retry, as Kubernetes aggregates
 * repeated events; returns the message for the ReplicaFailure condition.
 */
function failedCreate(ctx: ControllerContext, d: Deployment, message: string): string {
  const ns = d.metadata.namespace!;
  const name = `${d.metadata.name}.${createHash('sha256').update(`${d.metadata.uid}\n${message}`).digest('hex').slice(0, 16)}`;
  const now = kubeTimestamp();
  const before = ctx.store.get({ kind: 'Event', namespace: ns, name }) as { count?: number; firstTimestamp?: string } | undefined;
  try {
    ctx.store.transact([{
      op: 'put',
      object: {
        apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: ns },
        involvedObject: { apiVersion: d.apiVersion, kind: 'Deployment', namespace: ns, name: d.metadata.name, uid: d.metadata.uid },
        type: 'Warning', reason: 'FailedCreate', message: `Error creating: ${message}`,
        source: { component: 'replicaset-controller' }, reportingComponent: 'replicaset-controller', reportingInstance: 'tessera',
        firstTimestamp: before?.firstTimestamp ?? now, lastTimestamp: now, count: (before?.count ?? 0) + 1,
      } as unknown as Resource,
    }]);
  } catch {
    // best effort: the condition still says why
  }
  return message;
}

/** Kubernetes' wording for a pod the admission webhook kept from being created. */
function webhookFailure(ctx: ControllerContext, err: Error): string {
  const webhook = `${ctx.meshName}-injector.${ctx.meshName}-system`;
  return err instanceof WebhookDenied
    ? `admission webhook "${webhook}" denied the request: ${err.message}`
    : `Internal error occurred: failed calling webhook "${webhook}": ${err.message}`;
}

function writeStatus(ctx: ControllerContext, d: Deployment, hash: string, desired: number, failure: string | undefined): void {
  const owned = (ctx.store.list('Pod', d.metadata.namespace) as Pod[]).filter((p) => ownedBy(p, d));
  const ready = owned.filter(isPodReady).length;
  const updated = owned.filter((p) => p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash).length;
  const previous = (d.status ?? {}) as LocalDeploymentStatus;
  const available = ready >= desired;
  const complete = updated === desired && owned.length === desired && available;
  const conditions: DeploymentCondition[] = [
    condition(previous, 'Available', available, available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.'),
    condition(previous, 'Progressing', true, complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
      complete ? `ReplicaSet "${d.metadata.name}-${hash}" has successfully progressed.` : `ReplicaSet "${d.metadata.name}-${hash}" is progressing.`),
  ];
  if (failure !== undefined) conditions.push(condition(previous, 'ReplicaFailure', true, 'FailedCreate', failure));
  const status: LocalDeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: owned.length,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: ready,
    conditions,
  };
  if (!jsonEqual(status, previous)) ctx.store.updateStatus({ kind: 'Deployment', namespace: d.metadata.namespace, name: d.metadata.name }, status);
}

/** Keeps lastTransitionTime when the condition's status did not change, as Kubernetes does. */
function condition(previous: LocalDeploymentStatus, type: DeploymentCondition['type'], ok: boolean, reason: string, message: string): DeploymentCondition {
  const status = ok ? 'True' : 'False';
  const before = previous.conditions?.find((c) => c.type === type);
  const lastTransitionTime = before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : kubeTimestamp();
  return { type, status, reason, message, lastTransitionTime };
}

export { deploymentAvailable } from './pod-readiness.js';
