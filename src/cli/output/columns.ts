/** kubectl's default (and `-o wide`) table columns for each kind Tessera serves. */
import type {
  ConfigMap, Deployment, LabelSelector, Namespace, Pod, Resource, Secret, Service, ServiceAccount,
} from '../../api/types.js';
import { formatAge } from './age.js';

export interface TableOptions {
  wide?: boolean;
  /** `-A`: a NAMESPACE column first */
  allNamespaces?: boolean;
  /** `--show-labels`: a LABELS column last */
  showLabels?: boolean;
  nowMs: number;
}

export interface Table {
  header: string[];
  rows: string[][];
}

interface KindColumns {
  header: string[];
  wideHeader?: string[];
  cells: (obj: Resource, nowMs: number) => string[];
  wideCells?: (obj: Resource) => string[];
}

const NONE = '<none>';

/** `a=1,b=2` with keys sorted, as labels.FormatLabels prints them. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : NONE;
}

function formatSelector(selector: LabelSelector | undefined): string {
  if (!selector) return NONE;
  const parts = Object.keys(selector.matchLabels ?? {}).sort().map((k) => `${k}=${selector.matchLabels![k]}`);
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.length ? parts.join(',') : NONE;
}

/** The STATUS kubectl derives for a pod: a waiting/terminated reason beats the phase. */
export function podStatusText(pod: Pod): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  let reason: string = pod.status?.phase ?? 'Pending';
  for (const cs of [...(pod.status?.containerStatuses ?? [])].reverse()) {
    if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
    else if (cs.state?.terminated) {
      const t = cs.state.terminated;
      reason = t.reason ?? `ExitCode:${t.exitCode}`;
    }
  }
  return reason;
}

function podReady(pod: Pod): string {
  const statuses = pod.status?.containerStatuses ?? [];
  const total = pod.spec?.containers?.length ?? statuses.length;
  const ready = statuses.filter((cs) => cs.ready && (cs.state?.running !== undefined || cs.state === undefined)).length;
  return `${ready}/${total}`;
}

function podRestarts(pod: Pod): string {
  return String((pod.status?.containerStatuses ?? []).reduce((n, cs) => n + (cs.restartCount ?? 0), 0));
}

function servicePorts(svc: Service): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return NONE;
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

const age = (obj: Resource, nowMs: number): string => formatAge(obj.metadata.creationTimestamp, nowMs);

const BY_KIND: Record<string, KindColumns> = {
  Pod: {
    header: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    wideHeader: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    cells: (o, now) => {
      const pod = o as Pod;
      return [pod.metadata.name, podReady(pod), podStatusText(pod), podRestarts(pod), age(o, now)];
    },
    // every local pod runs on this machine, which plays the single node `local`
    wideCells: (o) => [(o as Pod).status?.podIP || NONE, 'local', NONE, NONE],
  },
  Service: {
    header: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wideHeader: ['SELECTOR'],
    cells: (o, now) => {
      const svc = o as Service;
      return [svc.metadata.name, svc.spec?.type ?? 'ClusterIP', svc.spec?.clusterIP || NONE, NONE, servicePorts(svc), age(o, now)];
    },
    wideCells: (o) => [formatLabels((o as Service).spec?.selector)],
  },
  Deployment: {
    header: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    wideHeader: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    cells: (o, now) => {
      const d = o as Deployment;
      const st = d.status ?? {};
      const desired = d.spec?.replicas ?? 1;
      return [d.metadata.name, `${st.readyReplicas ?? 0}/${desired}`, String(st.updatedReplicas ?? 0), String(st.availableReplicas ?? 0), age(o, now)];
    },
    wideCells: (o) => {
      const d = o as Deployment;
      const containers = d.spec?.template?.spec?.containers ?? [];
      return [containers.map((c) => c.name).join(','), containers.map((c) => c.image).join(','), formatSelector(d.spec?.selector)];
    },
  },
  Namespace: {
    header: ['NAME', 'STATUS', 'AGE'],
    cells: (o, now) => {
      const ns = o as Namespace;
      return [ns.metadata.name, ns.metadata.deletionTimestamp ? 'Terminating' : (ns.status?.phase ?? 'Active'), age(o, now)];
    },
  },
  Secret: {
    header: ['NAME', 'TYPE', 'DATA', 'AGE'],
    cells: (o, now) => {
      const s = o as Secret;
      const keys = new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]);
      return [s.metadata.name, s.type ?? 'Opaque', String(keys.size), age(o, now)];
    },
  },
  ConfigMap: {
    header: ['NAME', 'DATA', 'AGE'],
    cells: (o, now) => {
      const cm = o as ConfigMap & { binaryData?: Record<string, string> };
      return [cm.metadata.name, String(Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length), age(o, now)];
    },
  },
  ServiceAccount: {
    header: ['NAME', 'SECRETS', 'AGE'],
    cells: (o, now) => {
      const sa = o as ServiceAccount & { secrets?: unknown[] };
      return [sa.metadata.name, String(sa.secrets?.length ?? 0), age(o, now)];
    },
  },
};

/** The fields of a core/v1 Event kubectl's table reads. */
interface EventFields extends Resource {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; name?: string };
  source?: { component?: string; host?: string };
}

/** kubectl's LAST SEEN: the last occurrence, else the event time, else when the object was made; `5s (x3 over 2m)` when repeated. */
function eventLastSeen(e: EventFields, nowMs: number): string {
  const last = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
  const seen = formatAge(last, nowMs);
  if ((e.count ?? 1) > 1 && e.firstTimestamp) return `${seen} (x${e.count} over ${formatAge(e.firstTimestamp, nowMs)})`;
  return seen;
}

BY_KIND['Event'] = {
  header: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
  // kubectl puts its wide columns among these; here they follow them
  wideHeader: ['SOURCE', 'COUNT', 'NAME'],
  cells: (o, now) => {
    const e = o as EventFields;
    const object = `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`;
    return [eventLastSeen(e, now), e.type ?? '', e.reason ?? '', object, (e.message ?? '').replace(/\s*\n\s*/g, ' ').trim()];
  },
  wideCells: (o) => {
    const e = o as EventFields;
    const source = [e.source?.component, e.source?.host].filter(Boolean).join(', ');
    return [source || NONE, String(e.count ?? 1), e.metadata.name];
  },
};

const DEFAULT_COLUMNS: KindColumns = {
  header: ['NAME', 'AGE'],
  cells: (o, now) => [o.metadata.name, age(o, now)],
};

/** Builds the header and rows kubectl would print for these objects of one kind. */
export function tableFor(kind: string, objects: readonly Resource[], opts: TableOptions): Table {
  const cols = BY_KIND[kind] ?? DEFAULT_COLUMNS;
  const wide = opts.wide === true && cols.wideHeader !== undefined;
  const header = [
    ...(opts.allNamespaces ? ['NAMESPACE'] : []),
    ...cols.header,
    ...(wide ? cols.wideHeader! : []),
    ...(opts.showLabels ? ['LABELS'] : []),
  ];
  const rows = objects.map((o) => [
    ...(opts.allNamespaces ? [o.metadata.namespace ?? ''] : []),
    ...cols.cells(o, opts.nowMs),
    ...(wide ? cols.wideCells!(o) : []),
    ...(opts.showLabels ? [formatLabels(o.metadata.labels)] : []),
  ]);
  return { header, rows };
}
