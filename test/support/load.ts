/**
 * A bounded load loop for end-to-end tests: plain requests to a URL with a few keep-alive
 * connections, counting every answer. It stops by itself at the deadline or the request cap,
 * whichever comes first. In namespace mode it runs inside a pod (`pod-load.ts` through
 * `tessera exec`), where the pod's interception rules hand every request to its sidecar, as an
 * app's own requests are.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestMesh } from './mesh.js';

export interface LoadResult {
  sent: number;
  statuses: Record<number, number>;
  /** transport failures (reset, timeout), by message */
  errors: Record<string, number>;
}

export interface LoadHandle {
  stop(): Promise<LoadResult>;
}

export interface LoadOptions {
  url: string;
  concurrency?: number;
  maxMs: number;
  maxRequests?: number;
}

export function startLoad(opts: LoadOptions): LoadHandle {
  const target = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency ?? 4 });
  const result: LoadResult = { sent: 0, statuses: {}, errors: {} };
  const deadline = Date.now() + opts.maxMs;
  const cap = opts.maxRequests ?? 100_000;
  let stopping = false;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      result.sent++;
      const req = request(
        { host: target.hostname, port: Number(target.port || 80), path: `${target.pathname}${target.search}`, method: 'GET', agent, timeout: 10_000 },
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

/**
 * `startLoad` run by `pod-load.js` inside pod `pod` of namespace `ns` (`tessera exec`), so the
 * requests leave from the pod as its app's would. `stop()` signals through a file in a fresh
 * directory of the host's temp dir and returns what the loader counted.
 */
export function startLoadInPod(mesh: TestMesh, ns: string, pod: string, opts: LoadOptions): LoadHandle {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-load-'));
  chmodSync(dir, 0o755); // the pod's processes may run as another uid
  const stopFile = join(dir, 'stop');
  const script = fileURLToPath(new URL('./pod-load.js', import.meta.url));
  const args = [opts.url, String(opts.maxMs), String(opts.maxRequests ?? 100_000), String(opts.concurrency ?? 4), stopFile];
  const done = mesh.tessera(['exec', pod, '-n', ns, '--', process.execPath, script, ...args], { timeoutMs: opts.maxMs + 30_000 });
  done.catch(() => undefined); // a run nobody stops still must not become an unhandled rejection
  return {
    async stop() {
      writeFileSync(stopFile, '');
      const r = await done;
      rmSync(dir, { recursive: true, force: true });
      const line = r.stdout.trim().split('\n').at(-1) ?? '';
      if (r.code !== 0 || !line.startsWith('{')) throw new Error(`load in pod ${ns}/${pod} ended with ${r.code}:\n${r.stdout}\n${r.stderr}`);
      return JSON.parse(line) as LoadResult;
    },
  };
}
