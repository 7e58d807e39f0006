/**
 * The `retryOn` conditions of FSM's Retry, with Envoy's meaning (x-envoy-retry-on): parsed once at
 * the edge (validation) and again by the sidecar, so both agree on what a token means.
 */

/** Envoy's condition names Tessera understands. */
export const RETRY_CONDITIONS = ['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream'] as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];

export interface RetryOn {
  conditions: ReadonlySet<RetryCondition>;
  /** status codes retried as such: `503`, or a whole class from FSM's `4xx`-style tokens other than `5xx` */
  statuses: ReadonlySet<number>;
}

/** The parsed conditions, or the first token that is not one (the error names it). */
export function parseRetryOn(text: string): RetryOn | { invalid: string } {
  const conditions = new Set<RetryCondition>();
  const statuses = new Set<number>();
  const tokens = text.split(',').map((t) => t.trim());
  for (const token of tokens) {
    if ((RETRY_CONDITIONS as readonly string[]).includes(token)) conditions.add(token as RetryCondition);
    else if (/^[1-5]\d\d$/.test(token)) statuses.add(Number(token));
    else if (/^[1-4]xx$/.test(token)) {
      // FSM's sidecar reads `Nxx` as the whole class; `5xx` is Envoy's condition (it also covers resets)
      const base = Number(token[0]) * 100;
      for (let s = base; s < base + 100; s++) statuses.add(s);
    } else return { invalid: token };
  }
  return { conditions, statuses };
}
