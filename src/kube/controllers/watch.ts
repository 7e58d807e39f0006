/** List-then-watch over `KubeStorage`, so a controller starts from a consistent view and misses nothing. */
import type { Resource } from '../../api/types.js';
import type { KubeStorage, StoredEvent } from '../apiserver/index.js';
import { ControllerError, isExpired } from './errors.js';

const ATTEMPTS = 3;

/**
 * Feeds every listed object to `handler` as ADDED, then watches from the revision read before the
 * lists: events racing the lists are replayed (a handler sees an object's latest state last).
 * Returns the unsubscribe function.
 */
export function listThenWatch(storage: KubeStorage, list: () => Resource[], handler: (e: StoredEvent) => void): () => void {
  for (let attempt = 1; ; attempt++) {
    const from = storage.revision;
    try {
      for (const object of list()) handler({ type: 'ADDED', object, revision: from });
      return storage.watch(handler, from);
    } catch (e) {
      // Only a compaction racing the lists is worth another try; anything else is a real failure.
      if (!isExpired(e) || attempt >= ATTEMPTS) {
        throw new ControllerError('RESYNC_FAILED', `could not list and watch from revision ${from}: ${(e as Error).message}`, { cause: e });
      }
    }
  }
}
