/**
 * The Pod table (pkg/printers/internalversion printPod): READY counts ready running containers
 * (restartable init containers, i.e. sidecars, included), STATUS is the reason kubectl users know
 * (Init:x/y, CrashLoopBackOff, Completed, Terminating...), RESTARTS carries "(5m ago)".
 */
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.js';
import { DOC } from './descriptions.js';
import { humanDuration, parseTimestamp, translateTimestampSince } from './duration.js';
import { type Obj, isObj, obj, objs, str, num } from './values.js';
import type { Printer, PrintedRow, TableRowCondition } from './types.js';

const SUCCEEDED: TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
];
const FAILED: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

/** A sidecar: an init container that keeps running (`restartPolicy: Always`). */
function isRestartable(container: Obj | undefined): boolean {
  return container !== undefined && str(container, 'restartPolicy') === 'Always';
}

function hasCondition(status: Obj, type: string): boolean {
  return objs(status, 'conditions').some((c) => str(c, 'type') === type && str(c, 'status') === 'True');
}

/** One of a container's states (`waiting`, `running`, `terminated`), undefined when not in it. */
function state(container: Obj, which: 'waiting' | 'running' | 'terminated'): Obj | undefined {
  const value = obj(container, 'state')[which];
  return isObj(value) ? value : undefined;
}

/** When the container last terminated, for the "(5m ago)" suffix; null when it never did. */
function lastTermination(container: Obj): number | null {
  const finished = obj(container, 'lastState', 'terminated');
  if (Object.keys(finished).length === 0) return null;
  return parseTimestamp(finished['finishedAt']) ?? null;
}

const later = (a: number | null, b: number | null): number | null => (b !== null && (a === null || b > a) ? b : a);

/** `Signal:9` / `ExitCode:1` when a terminated container gives no reason. */
function terminatedReason(terminated: Obj, prefix: string): string {
  const reason = str(terminated, 'reason');
  if (reason !== '') return prefix + reason;
  const signal = num(terminated, 'signal');
  return signal !== 0 ? `${prefix}Signal:${signal}` : `${prefix}ExitCode:${num(terminated, 'exitCode')}`;
}

function readinessGates(spec: Obj, status: Obj): string {
  const gates = objs(spec, 'readinessGates');
  if (gates.length === 0) return '<none>';
  const conditions = objs(status, 'conditions');
  let passed = 0;
  for (const gate of gates) {
    const condition = conditions.find((c) => str(c, 'type') === str(gate, 'conditionType'));
    if (condition && str(condition, 'status') === 'True') passed++;
  }
  return `${passed}/${gates.length}`;
}

/** The first pod IP: v1 `podIP` wins over `podIPs` when both are set, as conversion does. */
function podIP(status: Obj): string {
  const ip = str(status, 'podIP') || str(objs(status, 'podIPs')[0] ?? {}, 'ip');
  return ip || '<none>';
}

export function printPod(pod: Obj, now: Date): PrintedRow {
  const meta = obj(pod, 'metadata');
  const spec = obj(pod, 'spec');
  const status = obj(pod, 'status');
  // the API server sets Pending on create; an unset phase is a pod it never stored
  const phase = str(status, 'phase') || 'Pending';

  let reason = str(status, 'reason') || phase;
  for (const c of objs(status, 'conditions')) {
    if (str(c, 'type') === 'PodScheduled' && str(c, 'reason') === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initContainers = new Map(objs(spec, 'initContainers').map((c) => [str(c, 'name'), c]));
  let totalContainers = objs(spec, 'containers').length;
  for (const c of initContainers.values()) if (isRestartable(c)) totalContainers++;

  let restarts = 0;
  let sidecarRestarts = 0;
  let readyContainers = 0;
  let lastRestart: number | null = null;
  let lastSidecarRestart: number | null = null;

  const initStatuses = objs(status, 'initContainerStatuses');
  const initCount = objs(spec, 'initContainers').length;
  let initializing = false;
  for (const [i, container] of initStatuses.entries()) {
    const count = num(container, 'restartCount');
    const terminatedAt = lastTermination(container);
    const sidecar = isRestartable(initContainers.get(str(container, 'name')));
    restarts += count;
    lastRestart = later(lastRestart, terminatedAt);
    if (sidecar) {
      sidecarRestarts += count;
      lastSidecarRestart = later(lastSidecarRestart, terminatedAt);
    }
    const terminated = state(container, 'terminated');
    const waitingReason = str(state(container, 'waiting') ?? {}, 'reason');
    if (terminated && num(terminated, 'exitCode') === 0) continue;
    if (sidecar && container['started'] === true) {
      if (container['ready'] === true) readyContainers++;
      continue;
    }
    if (terminated) reason = terminatedReason(terminated, 'Init:');
    else if (waitingReason !== '' && waitingReason !== 'PodInitializing') reason = `Init:${waitingReason}`;
    else reason = `Init:${i}/${initCount}`;
    initializing = true;
    break;
  }

  if (!initializing || hasCondition(status, 'Initialized')) {
    // once initialized, only sidecar restarts still count among the init containers
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = objs(status, 'containerStatuses');
    // walked backwards so the first container's reason is the one shown
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i]!;
      restarts += num(container, 'restartCount');
      lastRestart = later(lastRestart, lastTermination(container));
      const waitingReason = str(state(container, 'waiting') ?? {}, 'reason');
      const terminated = state(container, 'terminated');
      if (waitingReason !== '') reason = waitingReason;
      else if (terminated) reason = terminatedReason(terminated, '');
      else if (container['ready'] === true && state(container, 'running')) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = hasCondition(status, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = meta['deletionTimestamp'] !== undefined && meta['deletionTimestamp'] !== null;
  if (deleting && str(status, 'reason') === 'NodeLost') reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsCell =
    restarts !== 0 && lastRestart !== null ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)` : String(restarts);

  const row: PrintedRow = {
    cells: [
      str(meta, 'name'),
      `${readyContainers}/${totalContainers}`,
      reason,
      restartsCell,
      translateTimestampSince(meta['creationTimestamp'], now),
      podIP(status),
      str(spec, 'nodeName') || '<none>',
      str(status, 'nominatedNodeName') || '<none>',
      readinessGates(spec, status),
    ],
  };
  if (phase === 'Succeeded') row.conditions = SUCCEEDED;
  else if (phase === 'Failed') row.conditions = FAILED;
  return row;
}

export const podPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column(
      'Restarts',
      'string',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    AGE_COLUMN,
    column('IP', 'string', DOC.podIP, 1),
    column('Node', 'string', DOC.nodeName, 1),
    column('Nominated Node', 'string', DOC.nominatedNodeName, 1),
    column('Readiness Gates', 'string', DOC.readinessGates, 1),
  ],
  row: printPod,
};
