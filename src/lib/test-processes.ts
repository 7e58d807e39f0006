/** Test helpers shared by suites that start real child processes: a free port, cleanup of the children, a liveness probe and polling. */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** SIGTERMs every child still running and waits for it to exit (call from `after`). */
export async function stopChildren(children: readonly ChildProcess[]): Promise<void> {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** Whether `pid` runs and this process may signal it (signal 0; any error, EPERM included, is "no"). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What passes an `if`: the value `waitFor` resolves with. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

/**
 * Calls `fn` (awaiting it) until it returns something truthy and resolves with that, or throws
 * `timed out waiting for <what>` once `timeoutMs` has passed.
 */
export type WaitFor = <T>(what: string, fn: () => T | Promise<T>, timeoutMs?: number) => Promise<Truthy<T>>;

/** A `waitFor` with this suite's default timeout, polling every `pollMs` (100 unless told). */
export function waiter(defaults: { timeoutMs: number; pollMs?: number }): WaitFor {
  const pollMs = defaults.pollMs ?? 100;
  return async <T>(what: string, fn: () => T | Promise<T>, timeoutMs = defaults.timeoutMs): Promise<Truthy<T>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v as Truthy<T>;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
}
