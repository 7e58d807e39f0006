/**
 * Events expire, as kube-apiserver's `--event-ttl` makes them (default 1 h, there by an etcd lease
 * on each Event): an Event is deleted once `ttl` has passed since it was last written. Without
 * this, a long-running local mesh would keep every Event it ever recorded (a crash-looping pod
 * writes one every restart).
 *
 * Work follows what changes: each write of an Event queues its deadline, and one timer is armed for
 * the earliest. The TTL is the same for every Event, so deadlines are queued in the order they fall
 * due; a deadline whose Event was written again since (another resourceVersion) is skipped when it
 * comes up. Deletes carry the resourceVersion they were scheduled for, so an
 * Event updated in the meantime (a repeat bumping its count) is kept for its new deadline.
 */
import type { Resource } from '../../api/types.js';
import type { StoredEvent } from '../apiserver/index.js';
import { isStale } from './errors.js';
import { objectKey } from './objects.js';
import type { ControllerOptions, RunningController } from './types.js';
import { listThenWatch } from './watch.js';

/** kube-apiserver's default `--event-ttl`. */
export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;
/** The timer is re-armed at least this often, so a clock that jumps is noticed within a minute. */
const MAX_TIMER_MS = 60_000;

interface Deadline {
  at: number;
  id: string;
  resourceVersion: string;
}

const idOf = (o: Resource): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const isEvent = (o: Resource): boolean => o.kind === 'Event' && o.apiVersion === 'v1';

export interface EventTtlOptions extends ControllerOptions {
  /** how long an Event lives after its last write (default one hour, as kube-apiserver) */
  ttlMs?: number;
}

export function startEventTtl(opts: EventTtlOptions): RunningController {
  const ttlMs = opts.ttlMs ?? DEFAULT_EVENT_TTL_MS;
  const now = (): number => (opts.now ? opts.now() : new Date()).getTime();
  const current = new Map<string, { object: Resource; resourceVersion: string }>();
  // a FIFO: `head` is the next deadline due
  const deadlines: Deadline[] = [];
  let head = 0;
  const next = (): Deadline | undefined => deadlines[head];
  const take = (): void => {
    head++;
    // drop what was consumed once it is most of the array, so the queue does not grow forever
    if (head > 1024 && head * 2 > deadlines.length) {
      deadlines.splice(0, head);
      head = 0;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const arm = (): void => {
    if (stopped) return;
    clearTimeout(timer);
    const due = next();
    if (!due) return;
    timer = setTimeout(expire, Math.min(MAX_TIMER_MS, Math.max(0, due.at - now())));
    timer.unref();
  };

  function expire(): void {
    const t = now();
    for (let d = next(); d && d.at <= t; d = next()) {
      take();
      const live = current.get(d.id);
      if (!live || live.resourceVersion !== d.resourceVersion) continue;
      try {
        opts.storage.delete(objectKey(live.object), { expectResourceVersion: d.resourceVersion });
        opts.log(`event ${d.id} expired (ttl ${ttlMs % 1000 === 0 ? `${ttlMs / 1000} s` : `${ttlMs} ms`}): deleted`);
      } catch (e) {
        // written again or already gone: its watch event schedules what comes next
        if (!isStale(e)) opts.log(`event ${d.id}: expiry failed: ${(e as Error).message}`);
      }
    }
    arm();
  }

  const onEvent = (e: StoredEvent): void => {
    if (!isEvent(e.object)) return;
    const id = idOf(e.object);
    if (e.type === 'DELETED') {
      current.delete(id);
      return;
    }
    const resourceVersion = e.object.metadata.resourceVersion ?? '';
    current.set(id, { object: e.object, resourceVersion });
    // The TTL runs from the write, as a lease granted at write time does; objects listed at start
    // count from now, since when they were written before is not known.
    const wasEmpty = next() === undefined;
    deadlines.push({ at: now() + ttlMs, id, resourceVersion });
    if (wasEmpty) arm();
  };

  const unwatch = listThenWatch(opts.storage, () => opts.storage.list('', 'Event').items, onEvent);
  arm();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      unwatch();
    },
  };
}
