/**
 * fork() / fork([v…]).to(layout): starts sub-pipelines on clones of the message and passes the
 * original on at once; their output is discarded. fork() shares the context (its writes are seen
 * by the main flow); fork([v…]) runs one branch per element, each in a cloned context, and onStart
 * receives (value, index).
 */
import { invoke } from '../context.js';
import type { FilterSpec } from '../configuration.js';
import { fail, runLayout } from '../layout.js';
import { isThenable, Message, type Output } from '../message.js';
import type { Filter, Run } from '../runtime-types.js';
import type { Binder } from './binder.js';

export function fork(spec: FilterSpec, b: Binder): Filter {
  const layout = b.layout(spec.to, 'fork');
  const init = spec.args[0];
  const launch = (msg: Message, run: Run): Message => {
    let value: unknown;
    try {
      value = typeof init === 'function' ? invoke(run.ctx, init as () => unknown) : init;
    } catch (err) {
      fail(run, err, 'fork');
      return msg;
    }
    const branches: [Run, unknown[]][] = Array.isArray(value)
      ? value.map((v, i) => [{ ctx: run.ctx.clone(), rest: run.rest, module: run.module, host: run.host }, [v, i]])
      : [[run, [value]]];
    for (const [r, args] of branches) {
      let out: Output | Promise<Output>;
      try {
        out = runLayout(layout, msg.clone(), r, args);
      } catch (err) {
        fail(r, err, 'fork');
        continue;
      }
      if (isThenable(out)) (out as Promise<Output>).then(discard, (err) => fail(r, err, 'fork'));
      else discard(out);
    }
    return msg;
  };
  return (msg, run) => {
    // both the branches and the main flow read the body: buffer it once
    const reading = msg.materialize();
    return reading ? reading.then(() => launch(msg, run)) : launch(msg, run);
  };
}

/** Fork output goes nowhere; a response body still in its source is drained so its connection frees. */
export function discard(out: Output): void {
  if (out instanceof Message && out.pending) {
    const src = out.source as { discard?: () => void } | undefined;
    src?.discard?.();
  }
}
