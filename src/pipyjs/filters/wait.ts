/**
 * wait(cond, {timeout}): holds the message until cond() is truthy. Tessera re-checks after every
 * callback and async completion of the request (see context.ts); `timeout` releases it anyway.
 */
import { evaluate } from '../context.js';
import { delaySeconds } from '../delay.js';
import type { Filter } from '../runtime-types.js';
import { park } from './pending.js';

export function wait(cond: unknown, options: unknown): Filter {
  if (typeof cond !== 'function') return (msg) => msg;
  const fn = cond as () => unknown;
  const timeout = (options as { timeout?: unknown } | undefined)?.timeout;
  const timeoutMs = timeout === undefined ? undefined : delaySeconds(timeout) * 1000;
  return (msg, run) => {
    if (evaluate(run.ctx, fn)) return msg;
    return park(msg, run, () => Boolean(fn()), () => msg, timeoutMs, () => msg);
  };
}
