/**
 * Endpoints and EndpointSlices, as Kubernetes' endpoints and endpointslice controllers keep them:
 * for every Service with a selector, the pods it selects (ready ones as addresses, the others as not
 * ready), with each service port resolved to the pod's target port (named ports looked up in the
 * pod's containers). Objects of Services that are gone are removed.
 */
import { mapSelectorMatches } from '../../api/labels.js';
import type { Pod, Resource, Service, ServicePort } from '../../api/types.js';
import type { StoreWrite } from '../store/index.js';
import { podIPOf } from './address-allocation.js';
import type { ControllerContext } from './context.js';
import { isPodReady } from './pod-readiness.js';

const SLICE_GROUP = 'discovery.k8s.io';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
const MANAGED_BY = 'endpointslice-controller.k8s.io';

interface ResolvedPort {
  name?: string;
  port: number;
  protocol: string;
}

/** The port a pod serves a service port on, or undefined when a named target port is not declared. */
function targetPortOf(sp: ServicePort, pod: Pod): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    const hit = (c.ports ?? []).find((p) => (p as { name?: string }).name === target);
    if (hit) return hit.containerPort;
  }
  return undefined;
}

function portsFor(svc: Service, pod: Pod): ResolvedPort[] {
  const out: ResolvedPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = targetPortOf(sp, pod);
    if (port === undefined) continue;
    out.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' });
  }
  return out;
}

function targetRef(pod: Pod): Record<string, string> {
  return { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name, uid: pod.metadata.uid ?? '' };
}

/** Endpoints group addresses by identical port sets, as the endpoints controller's subsets do. */
function endpointsOf(svc: Service, pods: Pod[], block: number): Resource {
  const subsets = new Map<string, { addresses: object[]; notReadyAddresses: object[]; ports: ResolvedPort[] }>();
  for (const pod of pods) {
    const ip = podIPOf(pod, block);
    const ports = portsFor(svc, pod);
    if (!ip || ports.length === 0) continue;
    const key = JSON.stringify(ports);
    const subset = subsets.get(key) ?? { addresses: [], notReadyAddresses: [], ports };
    (isPodReady(pod) ? subset.addresses : subset.notReadyAddresses).push({ ip, targetRef: targetRef(pod) });
    subsets.set(key, subset);
  }
  const list = [...subsets.values()].map((s) => ({
    ...(s.addresses.length > 0 ? { addresses: s.addresses } : {}),
    ...(s.notReadyAddresses.length > 0 ? { notReadyAddresses: s.notReadyAddresses } : {}),
    ports: s.ports,
  }));
  return {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace!, ...(svc.metadata.labels ? { labels: svc.metadata.labels } : {}) },
    ...(list.length > 0 ? { subsets: list } : {}),
  } as Resource;
}

function sliceOf(svc: Service, pods: Pod[], block: number): Resource {
  const endpoints: object[] = [];
  let ports: ResolvedPort[] = [];
  for (const pod of pods) {
    const ip = podIPOf(pod, block);
    const podPorts = portsFor(svc, pod);
    if (!ip || podPorts.length === 0) continue;
    if (ports.length === 0) ports = podPorts;
    const ready = isPodReady(pod);
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    endpoints.push({ addresses: [ip], conditions: { ready: ready && !terminating, serving: ready, terminating }, targetRef: targetRef(pod) });
  }
  return {
    apiVersion: `${SLICE_GROUP}/v1`, kind: 'EndpointSlice',
    metadata: {
      name: `${svc.metadata.name}-tessera`, namespace: svc.metadata.namespace!,
      labels: { ...svc.metadata.labels, [SERVICE_NAME_LABEL]: svc.metadata.name, [MANAGED_BY_LABEL]: MANAGED_BY },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  } as unknown as Resource;
}

export function reconcileEndpoints(ctx: ControllerContext): void {
  const services = (ctx.store.list('Service') as Service[]).filter((s) => s.spec?.selector && Object.keys(s.spec.selector).length > 0 && !s.metadata.deletionTimestamp);
  const pods = ctx.store.list('Pod') as Pod[];
  const wanted = new Set(services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
  const writes: StoreWrite[] = [];
  for (const svc of services) {
    const selected = pods.filter((p) => p.metadata.namespace === svc.metadata.namespace && mapSelectorMatches(svc.spec!.selector, p.metadata.labels));
    // Unchanged objects are no-ops in the store: no event, so no new pass.
    writes.push({ op: 'put', object: endpointsOf(svc, selected, ctx.block), replaceStatus: true });
    writes.push({ op: 'put', object: sliceOf(svc, selected, ctx.block), replaceStatus: true });
  }
  for (const ep of ctx.store.list('Endpoints')) {
    if (!wanted.has(`${ep.metadata.namespace}/${ep.metadata.name}`)) writes.push({ op: 'delete', key: { kind: 'Endpoints', namespace: ep.metadata.namespace!, name: ep.metadata.name } });
  }
  for (const slice of ctx.store.list('EndpointSlice', undefined, SLICE_GROUP)) {
    const svcName = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (slice.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY || wanted.has(`${slice.metadata.namespace}/${svcName}`)) continue;
    writes.push({ op: 'delete', key: { group: SLICE_GROUP, kind: 'EndpointSlice', namespace: slice.metadata.namespace!, name: slice.metadata.name } });
  }
  if (writes.length > 0) ctx.store.transact(writes);
}
