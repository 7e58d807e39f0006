/** Builds a pod's status from its containers' statuses, keeping what others wrote (podIP) and old transition times. */
import type { ContainerStatus, PodCondition, PodStatus } from '../../api/types.js';

const CONDITION_TYPES: PodCondition['type'][] = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'];

export function buildPodStatus(previous: PodStatus | undefined, containers: ContainerStatus[], now: string): PodStatus {
  const allReady = containers.length > 0 && containers.every((c) => c.ready);
  const anyStarted = containers.some((c) => c.state?.running !== undefined);
  const wanted: Record<PodCondition['type'], boolean> = {
    PodScheduled: true,
    // No init containers run locally; holding apps for the sidecar shows as a container reason instead.
    Initialized: true,
    ContainersReady: allReady,
    Ready: allReady,
  };
  const conditions = CONDITION_TYPES.map((type): PodCondition => {
    const status = wanted[type] ? 'True' : 'False';
    const before = previous?.conditions?.find((c) => c.type === type);
    const condition: PodCondition = {
      type,
      status,
      lastTransitionTime: before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : now,
    };
    if (status === 'False' && (type === 'Ready' || type === 'ContainersReady')) {
      const notReady = containers.filter((c) => !c.ready).map((c) => c.name);
      condition.reason = 'ContainersNotReady';
      condition.message = `containers with unready status: [${notReady.join(' ')}]`;
    }
    return condition;
  });
  return {
    ...previous,
    phase: anyStarted ? 'Running' : 'Pending',
    startTime: previous?.startTime ?? now,
    conditions,
    containerStatuses: containers,
  };
}
