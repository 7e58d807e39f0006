/**
 * A deduplicating work queue with one worker. Storage is synchronous and its watch handlers run
 * inside the writer's call, so handlers only enqueue; the work runs later on the event loop, where
 * it may write (and so enqueue more) freely. A failed key is retried with exponential backoff.
 */
import { isStale } from './errors.js';

const FIRST_RETRY_MS = 10;
const MAX_RETRY_MS = 5_000;
/** items handled before yielding to the event loop, so a long cascade does not starve I/O */
const BATCH = 200;

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private scheduled: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly work: (key: string) => void,
    private readonly log: (line: string) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
    if (this.scheduled) clearImmediate(this.scheduled);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.drain();
    });
  }

  private drain(): void {
    for (let n = 0; n < BATCH && !this.stopped; n++) {
      const next = this.pending.values().next();
      if (next.done) return;
      const key = next.value;
      this.pending.delete(key);
      try {
        this.work(key);
        this.failures.delete(key);
      } catch (e) {
        this.retry(key, e);
      }
    }
    if (this.pending.size > 0) this.schedule();
  }

  private retry(key: string, e: unknown): void {
    const attempt = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, attempt);
    // Conflicts and vanished objects are routine under concurrent writers; only say so when it persists.
    if (!isStale(e) || attempt >= 5) this.log(`${this.name}: ${key}: ${(e as Error).message ?? String(e)} (attempt ${attempt}, retrying)`);
    if (this.timers.has(key)) return;
    const delay = Math.min(FIRST_RETRY_MS * 2 ** (attempt - 1), MAX_RETRY_MS);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delay);
    timer.unref();
    this.timers.set(key, timer);
  }
}
