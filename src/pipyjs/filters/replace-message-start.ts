/**
 * replaceMessageStart(r): replaces only the head; the body passes unchanged. A StreamEnd result
 * (e.g. `new StreamEnd('Replay')`) ends the stream there, which is what a parent replay acts on.
 */
import { invoke } from '../context.js';
import { MessageStart, isThenable, type Output } from '../message.js';
import type { Filter } from '../runtime-types.js';
import { toOutput } from './binder.js';

export function replaceMessageStart(r: unknown): Filter {
  if (typeof r !== 'function') return (msg) => toOutput(r, msg);
  const fn = r as (evt: MessageStart, n: number) => unknown;
  return (msg, run) => {
    const v = invoke(run.ctx, fn, new MessageStart(msg.head), 1);
    if (isThenable(v)) return Promise.resolve(v).then((x): Output => toOutput(x, msg));
    return toOutput(v, msg);
  };
}
