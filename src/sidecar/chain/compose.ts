/**
 * Joins modules into one function. `next()` may be called once per module; an error thrown by a
 * module rejects the returned promise (modules convert expected failures to responses via rescue).
 */
import type { Next } from './types.js';

type Mod<C> = (ctx: C, next: Next) => void | Promise<void>;

const done: Promise<void> = Promise.resolve();

export function compose<C>(modules: readonly Mod<C>[]): (ctx: C) => Promise<void> {
  const n = modules.length;
  return function run(ctx: C): Promise<void> {
    let last = -1;
    const dispatch = (i: number): Promise<void> => {
      if (i <= last) return Promise.reject(new Error('next() called more than once'));
      last = i;
      if (i === n) return done;
      try {
        const r = modules[i]!(ctx, () => dispatch(i + 1));
        return r instanceof Promise ? r : done;
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return dispatch(0);
  };
}
