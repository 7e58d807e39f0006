/**
 * A bounded load loop for end-to-end tests: requests through a pod's outbound proxy (as the pod's
 * app would send them) with a few keep-alive connections, counting every answer. It stops by itself
 * at the deadline or the request cap, whichever comes first.
 */
import { Agent, request } from 'node:http';

export interface LoadResult {
  sent: number;
  statuses: Record<number, number>;
  /** transport failures (reset, timeout), by message */
  errors: Record<string, number>;
}

export interface LoadHandle {
  stop(): Promise<LoadResult>;
}

export function startLoad(opts: { proxyUrl: string; url: string; concurrency?: number; maxMs: number; maxRequests?: number }): LoadHandle {
  const proxy = new URL(opts.proxyUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency ?? 4 });
  const result: LoadResult = { sent: 0, statuses: {}, errors: {} };
  const deadline = Date.now() + opts.maxMs;
  const cap = opts.maxRequests ?? 100_000;
  let stopping = false;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      result.sent++;
      const req = request(
        { host: proxy.hostname, port: Number(proxy.port), path: opts.url, method: 'GET', agent, headers: { host: new URL(opts.url).host }, timeout: 10_000 },
        (res) => {
          res.resume();
          res.on('end', () => {
            result.statuses[res.statusCode ?? 0] = (result.statuses[res.statusCode ?? 0] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        result.errors[e.message] = (result.errors[e.message] ?? 0) + 1;
        resolve();
      });
      req.end();
    });
  const worker = async (): Promise<void> => {
    while (!stopping && Date.now() < deadline && result.sent < cap) {
      await one();
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const workers = Array.from({ length: opts.concurrency ?? 4 }, worker);
  return {
    async stop() {
      stopping = true;
      await Promise.all(workers);
      agent.destroy();
      return result;
    },
  };
}

/** Requests answered with something other than `ok`, plus transport errors. */
export function failures(r: LoadResult, ok = 200): number {
  let n = 0;
  for (const [status, count] of Object.entries(r.statuses)) if (Number(status) !== ok) n += count;
  for (const count of Object.values(r.errors)) n += count;
  return n;
}
