/**
 * replay({delay}).to(layout): runs a fresh instance of the layout (sharing the context) on a clone
 * of the message; when it ends with StreamEnd('Replay'), waits `delay` and runs it again.
 */
import { invoke } from '../context.js';
import type { FilterSpec } from '../configuration.js';
import { delaySeconds } from '../delay.js';
import { runLayout } from '../layout.js';
import { StreamEnd, type Message, type Output } from '../message.js';
import type { Filter, Run } from '../runtime-types.js';
import type { Binder } from './binder.js';

export function replay(spec: FilterSpec, b: Binder): Filter {
  const layout = b.layout(spec.to, 'replay');
  const delay = (spec.args[0] as { delay?: unknown } | undefined)?.delay;
  const attempt = async (msg: Message, run: Run): Promise<Output> => {
    for (;;) {
      const out = await runLayout(layout, msg.clone(), run);
      if (!(out instanceof StreamEnd) || out.errorName !== 'Replay') return out;
      const d = typeof delay === 'function' ? invoke(run.ctx, delay as () => unknown) : delay;
      const ms = delaySeconds(d) * 1000;
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    }
  };
  return async (msg, run) => {
    await msg.materialize();
    return attempt(msg, run);
  };
}
