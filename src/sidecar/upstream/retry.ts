/**
 * Retry decisions, pure: which attempt outcomes a RetryPolicy retries (Envoy's retry-on semantics,
 * as FSM documents them) and the jittered exponential backoff between attempts.
 */
import { parseRetryOn, type RetryOn } from '../../api/retry-on.js';
import { isMeshError } from '../../lib/errors.js';

/** What one attempt came to. */
export type AttemptOutcome =
  | { kind: 'response'; status: number }
  /** no connection could be made (refused, unreachable, connect timeout, TLS handshake) */
  | { kind: 'connect-failure' }
  /** the connection broke before a response head arrived */
  | { kind: 'reset' }
  /** the per-try timeout passed before a response head arrived */
  | { kind: 'per-try-timeout' };

export interface CompiledRetry {
  on: RetryOn;
  numRetries: number;
  /** ms; undefined: each attempt is bounded only by the request's timeout */
  perTryTimeoutMs: number | undefined;
  backoffBaseMs: number;
}

/** The sidecar's reading of a snapshot `RetryPolicy` (FSM's shape, seconds); undefined when absent or unusable. */
export function compileRetryPolicy(raw: unknown): CompiledRetry | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const p = raw as { RetryOn?: unknown; NumRetries?: unknown; PerTryTimeout?: unknown; RetryBackoffBaseInterval?: unknown };
  if (typeof p.RetryOn !== 'string') return undefined;
  const on = parseRetryOn(p.RetryOn);
  if ('invalid' in on) return undefined;
  const seconds = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v * 1000 : undefined);
  return {
    on,
    numRetries: typeof p.NumRetries === 'number' && p.NumRetries >= 0 ? Math.floor(p.NumRetries) : 1,
    perTryTimeoutMs: seconds(p.PerTryTimeout),
    backoffBaseMs: seconds(p.RetryBackoffBaseInterval) ?? 25,
  };
}

/** True when the policy retries this outcome (Envoy's x-envoy-retry-on conditions). */
export function retriable(on: RetryOn, outcome: AttemptOutcome): boolean {
  const c = on.conditions;
  switch (outcome.kind) {
    case 'connect-failure':
      return c.has('5xx') || c.has('gateway-error') || c.has('connect-failure');
    case 'reset':
      return c.has('5xx') || c.has('reset');
    case 'per-try-timeout':
      // Envoy answers an attempt that timed out with 504, which these two conditions cover
      return c.has('5xx') || c.has('gateway-error');
    case 'response': {
      const s = outcome.status;
      if (on.statuses.has(s)) return true;
      if (s >= 500 && s <= 599 && c.has('5xx')) return true;
      if ((s === 502 || s === 503 || s === 504) && c.has('gateway-error')) return true;
      return s === 409 && c.has('retriable-4xx');
    }
  }
}

/**
 * Envoy's jittered exponential backoff before retry number `retry` (1 for the first retry): uniform in
 * [0, (2^retry - 1) × base], the upper bound capped at 10 × base. `random` is in [0, 1).
 */
export function backoffMs(retry: number, baseMs: number, random: () => number = Math.random): number {
  const upper = Math.min((2 ** Math.min(retry, 30) - 1) * baseMs, 10 * baseMs);
  return Math.floor(random() * upper);
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

/** How a failed attempt failed, from the upstream client's error. */
export function classifyUpstreamError(err: unknown): 'connect-failure' | 'reset' {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  if (CONNECT_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')) return 'connect-failure';
  const message = isMeshError(err) ? err.message : String((err as Error | null)?.message ?? '');
  // the pool's own wording for connect timeouts and a missing workload certificate (engine/client.ts)
  if (message.startsWith('connect to ') || message.startsWith('no workload certificate')) return 'connect-failure';
  return 'reset';
}
