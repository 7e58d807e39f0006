/**
 * Runnable layouts: a list of filters plus the onStart handlers of the pipeline. Running a layout
 * is a left fold of the message through its filters; it stays synchronous until a filter returns
 * a promise, so plugins that only touch heads cost no promise per filter.
 */
import { invoke } from './context.js';
import { Message, StreamEnd, isThenable, type Output } from './message.js';
import type { PipyModule } from './module.js';
import type { Filter, Run } from './runtime-types.js';

const NO_ARGS: readonly unknown[] = [];

export class Layout {
  readonly starts: unknown[] = [];
  readonly filters: Filter[] = [];
  /** set when the layout is a muxHTTP session: what its connect() targets */
  connectTarget: unknown = undefined;
  constructor(
    readonly name: string,
    readonly module: PipyModule,
  ) {}
}

/** Logs a script error with the module's name and turns it into what Pipy emits: StreamEnd(RuntimeError). */
export function fail(run: Run, err: unknown, where: string): StreamEnd {
  const e = err as Error;
  run.host.log('error', `${run.module.filename}: ${where}: ${e?.message ?? String(err)}`, {
    module: run.module.filename,
    error: e?.stack ?? String(err),
  });
  return new StreamEnd('RuntimeError');
}

/** Runs `layout` as a new pipeline instance (its onStart handlers run first) on `input`. */
export function runLayout(layout: Layout, input: Message, run: Run, startArgs: readonly unknown[] = NO_ARGS): Output | Promise<Output> {
  if (layout.starts.length > 0) return start(layout, 0, input, run, startArgs);
  return runFilters(layout.filters, 0, input, run);
}

export function runFilters(filters: readonly Filter[], from: number, value: Output, run: Run): Output | Promise<Output> {
  let v = value;
  for (let i = from; i < filters.length; i++) {
    if (!(v instanceof Message)) return v;
    let r: Output | Promise<Output>;
    try {
      r = filters[i]!(v, run);
    } catch (err) {
      return fail(run, err, 'filter');
    }
    if (isThenable(r)) {
      const next = i + 1;
      return (r as Promise<Output>).then(
        (out) => runFilters(filters, next, out, run),
        (err) => fail(run, err, 'filter'),
      );
    }
    v = r;
  }
  return v;
}

/** onStart: undefined/null = no input; a Message/StreamEnd (or array) goes in first; a Promise holds input. */
function start(layout: Layout, i: number, input: Message, run: Run, args: readonly unknown[]): Output | Promise<Output> {
  for (; i < layout.starts.length; i++) {
    const h = layout.starts[i];
    let r: unknown;
    try {
      r = typeof h === 'function' ? invoke(run.ctx, h as (...a: unknown[]) => unknown, ...args) : h;
    } catch (err) {
      return fail(run, err, 'onStart');
    }
    if (isThenable(r)) {
      const at = i + 1;
      return Promise.resolve(r).then(
        (v) => afterStart(layout, at, input, run, args, v),
        (err) => fail(run, err, 'onStart'),
      );
    }
    if (r !== undefined && r !== null) return afterStart(layout, i + 1, input, run, args, r);
  }
  return runFilters(layout.filters, 0, input, run);
}

function afterStart(layout: Layout, next: number, input: Message, run: Run, args: readonly unknown[], value: unknown): Output | Promise<Output> {
  if (value === undefined || value === null) return start(layout, next, input, run, args);
  const injected = Array.isArray(value) ? value : [value];
  const first = injected.find((e) => e instanceof Message || e instanceof StreamEnd);
  if (first === undefined || injected.some((e) => !(e instanceof Message || e instanceof StreamEnd))) {
    return fail(run, new TypeError('initial input is not an event or a message. Consider using void(...)'), 'onStart');
  }
  if (first instanceof StreamEnd) return first;
  // The injected message runs first; when it yields nothing, the real input follows.
  const rest = (): Output | Promise<Output> => start(layout, next, input, run, args);
  const out = runFilters(layout.filters, 0, first as Message, run);
  if (isThenable(out)) return (out as Promise<Output>).then((o) => (o === null ? rest() : o));
  return out === null ? rest() : out;
}
