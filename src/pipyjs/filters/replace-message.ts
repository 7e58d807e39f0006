/**
 * replaceMessage(r): swallows the whole message and emits r(msg) — or r itself when it is a static
 * Message, the very same object every time (as Pipy does; later mutations accumulate).
 */
import { invoke } from '../context.js';
import { isThenable, type Message, type Output } from '../message.js';
import type { Filter, Run } from '../runtime-types.js';
import { toOutput } from './binder.js';

export function replaceMessage(r: unknown): Filter {
  if (typeof r !== 'function') {
    const fixed = toOutput(r);
    return () => fixed;
  }
  const fn = r as (msg: Message, n: number) => unknown;
  const call = (msg: Message, run: Run): Output | Promise<Output> => {
    const v = invoke(run.ctx, fn, msg, 1);
    if (isThenable(v)) return Promise.resolve(v).then((x) => toOutput(x));
    return toOutput(v);
  };
  return (msg, run) => {
    const reading = msg.materialize();
    return reading ? reading.then(() => call(msg, run)) : call(msg, run);
  };
}
