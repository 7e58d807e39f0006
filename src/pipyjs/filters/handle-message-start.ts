/** handleMessageStart(cb): calls cb(MessageStart event) and passes the message on; a Promise holds it. */
import { invoke } from '../context.js';
import { MessageStart, isThenable } from '../message.js';
import type { Filter } from '../runtime-types.js';
import { fail } from '../layout.js';

export function handleMessageStart(cb: unknown): Filter {
  if (typeof cb !== 'function') return (msg) => msg;
  const fn = cb as (evt: MessageStart, n: number) => unknown;
  return (msg, run) => {
    const r = invoke(run.ctx, fn, new MessageStart(msg.head), 1);
    if (isThenable(r)) return Promise.resolve(r).then(() => msg, (err) => fail(run, err, 'handleMessageStart'));
    return msg;
  };
}
