/**
 * branch(c1, L1, c2, L2, …, [fallback]): conditions run in order when the message arrives; the
 * first truthy one picks its layout for this pipeline instance (sharing context and chain). With
 * no match and no fallback the message waits, re-checked like wait().
 */
import { evaluate, invoke } from '../context.js';
import { FALLBACK, type FilterSpec } from '../configuration.js';
import { runLayout, type Layout } from '../layout.js';
import type { Message, Output } from '../message.js';
import type { Filter, Run } from '../runtime-types.js';
import type { Binder } from './binder.js';
import { park } from './pending.js';

export function branch(spec: FilterSpec, b: Binder): Filter {
  const conds = spec.args;
  const layouts: Layout[] = (spec.layouts ?? []).map((l) => b.layout(l, 'branch'));
  const hasFallback = conds[conds.length - 1] === FALLBACK;
  const n = hasFallback ? conds.length - 1 : conds.length;

  const pick = (run: Run, call: boolean): Layout | undefined => {
    for (let i = 0; i < n; i++) {
      const c = conds[i];
      const v = typeof c === 'function' ? (call ? invoke(run.ctx, c as () => unknown) : evaluate(run.ctx, c as () => unknown)) : c;
      if (v) return layouts[i];
    }
    return hasFallback ? layouts[n] : undefined;
  };

  return (msg: Message, run: Run): Output | Promise<Output> => {
    const chosen = pick(run, true);
    if (chosen) return runLayout(chosen, msg, run);
    let found: Layout | undefined;
    return park(
      msg,
      run,
      () => (found = pick(run, false)) !== undefined,
      () => runLayout(found!, msg, run),
      undefined,
      () => null,
    );
  };
}
