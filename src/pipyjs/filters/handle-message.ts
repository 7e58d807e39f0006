/** handleMessage(cb): calls cb with the whole message (body buffered) and passes it on. */
import { invoke } from '../context.js';
import { isThenable, type Message } from '../message.js';
import type { Filter, Run } from '../runtime-types.js';
import { fail } from '../layout.js';

export function handleMessage(cb: unknown): Filter {
  if (typeof cb !== 'function') return (msg) => msg;
  const fn = cb as (msg: Message, n: number) => unknown;
  const call = (msg: Message, run: Run): Message | Promise<Message | ReturnType<typeof fail>> => {
    const r = invoke(run.ctx, fn, msg, 1);
    if (isThenable(r)) return Promise.resolve(r).then(() => msg, (err) => fail(run, err, 'handleMessage'));
    return msg;
  };
  return (msg, run) => {
    const reading = msg.materialize();
    return reading ? reading.then(() => call(msg, run)) : call(msg, run);
  };
}
