/**
 * fortio's periodic runner: `threads` connections calling in parallel, either exactly `calls` calls
 * split between them (the remainder to the first ones) or for `durationNs`, at `qps` in total
 * (0 or less: as fast as each connection can go), stopped early by `signal`. Bounded by the caller.
 */
import { Counter, Histogram } from './histogram.js';
import { FortioConnection, type CallTarget } from './http-call.js';
import type { Logger } from './log.js';

export interface LoadPlan {
  target: CallTarget;
  threads: number;
  qps: number;
  /** exact number of calls; 0 means run for durationNs */
  calls: number;
  durationNs: number;
  /** one call per connection before the measured run, as fortio does for timed runs */
  warmup: boolean;
  logger: Logger;
  signal?: AbortSignal;
}

export interface LoadResult {
  elapsedNs: number;
  calls: number;
  warmupCalls: number;
  durations: Histogram;
  errors: Histogram;
  codes: Map<number, number>;
  headerSizes: Counter;
  sizes: Counter;
  sockets: number;
  peers: Map<string, number>;
}

/** Calls each connection makes in exactly-N mode: N / threads each, the first N % threads one more. */
export function callsPerThread(calls: number, threads: number): number[] {
  const base = Math.floor(calls / threads);
  const extra = calls % threads;
  return Array.from({ length: threads }, (_, i) => base + (i < extra ? 1 : 0));
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const result: LoadResult = {
    elapsedNs: 0, calls: 0, warmupCalls: 0, durations: new Histogram(), errors: new Histogram(), codes: new Map(),
    headerSizes: new Counter(), sizes: new Counter(), sockets: 0, peers: new Map(),
  };
  const connections = Array.from({ length: plan.threads }, () => new FortioConnection(plan.target));
  try {
    if (plan.warmup) {
      await Promise.all(connections.map((c) => c.call()));
      result.warmupCalls = connections.length;
    }
    const quotas = plan.calls > 0 ? callsPerThread(plan.calls, plan.threads) : undefined;
    const perThreadQps = plan.qps > 0 ? plan.qps / plan.threads : 0;
    const start = process.hrtime.bigint();
    const elapsedNs = (): number => Number(process.hrtime.bigint() - start);
    await Promise.all(connections.map(async (connection, thread) => {
      for (let i = 0; ; i++) {
        if (plan.signal?.aborted) break;
        if (quotas ? i >= quotas[thread]! : elapsedNs() >= plan.durationNs) break;
        if (perThreadQps > 0) {
          await sleep((i * 1e3) / perThreadQps - elapsedNs() / 1e6, plan.signal);
          if (plan.signal?.aborted || (!quotas && elapsedNs() >= plan.durationNs)) break;
        }
        const began = process.hrtime.bigint();
        const r = await connection.call();
        const seconds = Number(process.hrtime.bigint() - began) / 1e9;
        result.calls++;
        result.durations.record(seconds);
        result.codes.set(r.code, (result.codes.get(r.code) ?? 0) + 1);
        result.headerSizes.record(r.headerBytes);
        result.sizes.record(r.totalBytes);
        if (r.code !== 200) {
          result.errors.record(seconds);
          plan.logger.log('Warning', r.code === -1
            ? `[${thread}] Unable to connect or read: ${r.error ?? 'no response'}`
            : `[${thread}] Non ok http code ${r.code} (${r.statusLine.split(' ').slice(0, 2).join(' ')})`);
        }
      }
    }));
    result.elapsedNs = elapsedNs();
  } finally {
    for (const c of connections) {
      result.sockets += c.sockets;
      for (const [peer, n] of c.peers) result.peers.set(peer, (result.peers.get(peer) ?? 0) + n);
      c.close();
    }
  }
  return result;
}
