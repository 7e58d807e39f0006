/**
 * Context data: one slot object per loaded module, holding that module's `pipy({...})` variables
 * (and exports). Callbacks bind free identifiers to the context of the pipeline running them, so
 * the runtime keeps a "current context" while a callback runs. Contexts of one request share a
 * WaitGroup: pending `wait` conditions are re-checked after every callback and async completion
 * (the Tessera decision; Pipy 1.5.14 re-checks only on new input and hangs the IAM demo).
 */

/** Per-module initial values, created lazily in each context. */
export interface SlotOwner {
  readonly id: number;
  makeSlots(): Record<string, unknown>;
}

interface Waiter {
  ctx: Context;
  check: () => boolean;
  done: () => void;
}

export class WaitGroup {
  #waiters: Waiter[] = [];
  #checking = false;

  add(w: Waiter): void {
    this.#waiters.push(w);
  }

  remove(w: Waiter): void {
    const i = this.#waiters.indexOf(w);
    if (i >= 0) this.#waiters.splice(i, 1);
  }

  /** Re-evaluates pending conditions; cheap when nothing waits. */
  poke(): void {
    if (this.#waiters.length === 0 || this.#checking) return;
    this.#checking = true;
    try {
      for (let again = true; again; ) {
        again = false;
        for (const w of [...this.#waiters]) {
          if (w.check()) {
            this.remove(w);
            w.done();
            again = true;
          }
        }
      }
    } finally {
      this.#checking = false;
    }
  }

  get size(): number {
    return this.#waiters.length;
  }
}

export class Context {
  readonly data: (Record<string, unknown> | undefined)[];
  readonly group: WaitGroup;
  /** `__inbound`: the downstream connection as far as scripts read it */
  inbound: unknown;

  constructor(group: WaitGroup = new WaitGroup(), data: (Record<string, unknown> | undefined)[] = [], inbound: unknown = undefined) {
    this.group = group;
    this.data = data;
    this.inbound = inbound;
  }

  slots(owner: SlotOwner): Record<string, unknown> {
    return (this.data[owner.id] ??= owner.makeSlots());
  }

  /** A shallow copy of every module's slots (demuxHTTP per request, fork([...]) per branch). */
  clone(group: WaitGroup = this.group): Context {
    const copy = this.data.map((d) => (d === undefined ? undefined : { ...d }));
    return new Context(group, copy, this.inbound);
  }
}

let current: Context | undefined;

/** The context whose variables free identifiers resolve to right now. */
export function currentContext(): Context | undefined {
  return current;
}

/**
 * Runs a script callback with `ctx` current, then re-checks the waits of its group (a callback may
 * have set what a wait is waiting for).
 */
export function invoke<A extends unknown[], R>(ctx: Context, fn: (...args: A) => R, ...args: A): R {
  const prev = current;
  current = ctx;
  try {
    return fn(...args);
  } finally {
    current = prev;
    ctx.group.poke();
  }
}

/** Evaluates a condition without triggering a re-check (used by the re-check itself). */
export function evaluate<R>(ctx: Context, fn: () => R): R {
  const prev = current;
  current = ctx;
  try {
    return fn();
  } finally {
    current = prev;
  }
}
