/**
 * Pod creations waiting on the injector webhook, and the backoff after one failed. The controller
 * pass stays synchronous: it hands a creation over here, and the answer lands in the store later
 * (then the store change schedules the next pass). Until then the pod's name and IP stay reserved.
 */
import type { Pod } from '../../api/types.js';

const RETRY_INITIAL_MS = 500;
/** Capped low: once the injector is back, waiting meshed pods should follow within seconds. */
const RETRY_MAX_MS = 5_000;

interface Pending {
  deploymentUid: string;
  hash: string;
  name: string;
  /** absent when the API gives the pod its address as it stores it */
  podIP?: string;
}

interface Failure {
  count: number;
  retryAt: number;
  message: string;
}

export class PendingCreations {
  readonly #pending = new Set<Pending>();
  readonly #failures = new Map<string, Failure>();
  readonly #abort = new AbortController();
  #retryTimer: NodeJS.Timeout | undefined;

  /** `wake` schedules a controller pass (after a failure, and when a retry is due). */
  constructor(private readonly wake: () => void) {}

  /** Creations of this Deployment's current template still waiting for an answer. */
  pendingFor(deploymentUid: string, hash: string): number {
    let n = 0;
    for (const p of this.#pending) if (p.deploymentUid === deploymentUid && p.hash === hash) n++;
    return n;
  }

  reservedIPs(): string[] {
    return [...this.#pending].flatMap((p) => (p.podIP ? [p.podIP] : []));
  }

  reservedNames(): string[] {
    return [...this.#pending].map((p) => p.name);
  }

  /** False while the Deployment is backing off after a failed creation. */
  mayCreate(deploymentUid: string): boolean {
    return (this.#failures.get(deploymentUid)?.retryAt ?? 0) <= Date.now();
  }

  /** Why the last creation failed, while it stays unresolved. */
  failureOf(deploymentUid: string): string | undefined {
    return this.#failures.get(deploymentUid)?.message;
  }

  /** The Deployment needs no more pods (e.g. it was scaled down): its failure no longer applies. */
  resolved(deploymentUid: string): void {
    this.#failures.delete(deploymentUid);
  }

  /** Drops failures of Deployments that no longer exist. */
  forgetAllBut(deploymentUids: Set<string>): void {
    for (const uid of this.#failures.keys()) if (!deploymentUids.has(uid)) this.#failures.delete(uid);
  }

  /**
   * Runs `admit`; on success `store` writes the pod (in the same tick the reservation ends, so the
   * next pass sees it exactly once), on failure `describe` turns the error into the recorded reason.
   */
  start(p: Pending, admit: (signal: AbortSignal) => Promise<Pod>, store: (pod: Pod) => void, describe: (err: Error) => string): void {
    this.#pending.add(p);
    const settle = (outcome: { pod: Pod } | { err: Error }): void => {
      this.#pending.delete(p);
      if (this.#abort.signal.aborted) return;
      try {
        if ('err' in outcome) throw outcome.err;
        store(outcome.pod);
        this.#failures.delete(p.deploymentUid);
      } catch (err) {
        this.#recordFailure(p.deploymentUid, describe(err as Error));
      }
      this.wake();
    };
    admit(this.#abort.signal).then((pod) => settle({ pod }), (err: Error) => settle({ err }));
  }

  #recordFailure(deploymentUid: string, message: string): void {
    const count = (this.#failures.get(deploymentUid)?.count ?? 0) + 1;
    const delay = Math.min(RETRY_INITIAL_MS * 2 ** (count - 1), RETRY_MAX_MS);
    this.#failures.set(deploymentUid, { count, retryAt: Date.now() + delay, message });
    this.#armRetry();
  }

  /** One timer, for the earliest retry still to come; when it fires it re-arms for the rest. */
  #armRetry(): void {
    const now = Date.now();
    const next = Math.min(...[...this.#failures.values()].map((f) => f.retryAt).filter((t) => t > now));
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (!Number.isFinite(next) || this.#abort.signal.aborted) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.wake();
      this.#armRetry();
    }, next - now);
  }

  /** Abandons every waiting creation; nothing is written after this. */
  stop(): void {
    this.#abort.abort();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
  }
}
