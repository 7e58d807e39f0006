/**
 * chain(): continues with "the rest of the list" the current pipeline inherited (at the end of the
 * list: pass-through). chain([paths]) starts a new list of those modules, which does not return to
 * the outer list when it runs out.
 */
import type { Filter } from '../runtime-types.js';
import type { Binder } from './binder.js';

export function chain(args: unknown[], b: Binder): Filter {
  if (args.length === 0 || args[0] === undefined) {
    return (msg, run) => (run.rest ? run.rest.call(msg, run) : msg);
  }
  const list = b.chainList(args[0]);
  return (msg, run) => (list ? list.call(msg, { ctx: run.ctx, rest: null, module: run.module, host: run.host }) : msg);
}
