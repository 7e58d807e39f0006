/** Crash-loop backoff as the kubelet does it: 1 s doubling to 30 s, forgiven after 60 s of good running. */

export const BACKOFF_INITIAL_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;
/** A container that ran at least this long before crashing starts over at the initial delay. */
export const BACKOFF_RESET_AFTER_MS = 60_000;

export class RestartBackoff {
  #next = BACKOFF_INITIAL_MS;

  /** The delay before restarting a container that crashed after running for `ranForMs`. */
  delayAfter(ranForMs: number): number {
    if (ranForMs >= BACKOFF_RESET_AFTER_MS) this.#next = BACKOFF_INITIAL_MS;
    const delay = this.#next;
    this.#next = Math.min(this.#next * 2, BACKOFF_MAX_MS);
    return delay;
  }
}
