/**
 * Parking a message until a condition holds: used by wait() and by a branch that matched nothing.
 * The condition is re-checked whenever the request's WaitGroup is poked (after every callback and
 * async completion). With no timeout of its own, a parked request is dropped after the host's idle
 * timeout with StreamEnd('IdleTimeout'), as FSM's sidecar closes an idle connection.
 */
import { evaluate } from '../context.js';
import { StreamEnd, type Message, type Output } from '../message.js';
import type { Run } from '../runtime-types.js';
import { fail } from '../layout.js';

export function park(
  msg: Message,
  run: Run,
  ready: () => boolean,
  onReady: () => Output | Promise<Output>,
  timeoutMs: number | undefined,
  onTimeout: () => Output | Promise<Output>,
): Promise<Output> {
  return new Promise<Output>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (f: () => Output | Promise<Output>): void => {
      clearTimeout(timer);
      try {
        resolve(f());
      } catch (err) {
        resolve(fail(run, err, 'wait'));
      }
    };
    const waiter = {
      ctx: run.ctx,
      check: () => {
        try {
          return evaluate(run.ctx, ready);
        } catch (err) {
          // a throwing condition releases the request as a runtime error
          waiter.done = () => settle(() => fail(run, err, 'wait condition'));
          return true;
        }
      },
      done: () => settle(onReady),
    };
    const limit = timeoutMs ?? run.host.idleTimeoutMs;
    timer = setTimeout(() => {
      run.ctx.group.remove(waiter);
      settle(timeoutMs === undefined ? () => new StreamEnd('IdleTimeout') : onTimeout);
    }, limit);
    run.ctx.group.add(waiter);
    void msg;
  });
}
