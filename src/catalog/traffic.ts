/** Indexes the traffic-management kinds (Retry, TrafficSplit) for the outbound compiler. */
import { rootServiceName, type Retry, type TrafficSplit } from '../api/traffic-types.js';
import { OUTLIER_DETECTION_ANNOTATION, ROUTE_TIMEOUTS_ANNOTATION, parseOutlierDetection, parseRouteTimeouts, type OutlierDetectionSettings, type RouteTimeout } from '../api/traffic-annotations.js';
import type { Resource } from '../api/types.js';
import { byString, keyOf } from './pods.js';
import type { TrafficPolicies } from './types.js';

function byKey(a: Resource, b: Resource): number {
  return byString(keyOf(a.metadata.namespace ?? '', a.metadata.name), keyOf(b.metadata.namespace ?? '', b.metadata.name));
}

export function buildTrafficPolicies(resources: readonly Resource[]): TrafficPolicies {
  const retries: Retry[] = [];
  const splits: TrafficSplit[] = [];
  const timeoutsByService = new Map<string, RouteTimeout[]>();
  const outlierByService = new Map<string, OutlierDetectionSettings>();
  for (const r of resources) {
    if (r.kind === 'Retry') retries.push(r as Retry);
    else if (r.kind === 'TrafficSplit') splits.push(r as TrafficSplit);
    else if (r.kind === 'Service') serviceAnnotations(r, timeoutsByService, outlierByService);
  }
  const retriesBySource = new Map<string, Retry[]>();
  for (const r of retries.sort(byKey)) {
    const s = r.spec?.source;
    if (!s) continue;
    const id = `${s.name}.${s.namespace}`;
    const list = retriesBySource.get(id);
    if (list) list.push(r);
    else retriesBySource.set(id, [r]);
  }
  // one split per root service: the first by name wins, as the other would contradict it
  const splitByRoot = new Map<string, TrafficSplit>();
  for (const s of splits.sort(byKey)) {
    const ns = s.metadata.namespace ?? 'default';
    const root = s.spec && rootServiceName(s.spec.service, ns);
    if (!root) continue;
    const key = keyOf(ns, root);
    if (!splitByRoot.has(key)) splitByRoot.set(key, s);
  }
  return { retriesBySource, splitByRoot, timeoutsByService, outlierByService };
}

/** Validation refused malformed values at the edge; one that slipped in (an older store) counts as absent. */
function serviceAnnotations(svc: Resource, timeouts: Map<string, RouteTimeout[]>, outlier: Map<string, OutlierDetectionSettings>): void {
  const a = svc.metadata.annotations;
  if (!a) return;
  const key = keyOf(svc.metadata.namespace ?? 'default', svc.metadata.name);
  const t = a[ROUTE_TIMEOUTS_ANNOTATION];
  const parsedTimeouts = t === undefined ? undefined : parseRouteTimeouts(t);
  if (parsedTimeouts !== undefined && typeof parsedTimeouts !== 'string') timeouts.set(key, parsedTimeouts);
  const o = a[OUTLIER_DETECTION_ANNOTATION];
  const parsedOutlier = o === undefined ? undefined : parseOutlierDetection(o);
  if (parsedOutlier !== undefined && typeof parsedOutlier !== 'string') outlier.set(key, parsedOutlier);
}
