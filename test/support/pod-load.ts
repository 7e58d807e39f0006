/**
 * `startLoad` as a process of its own, for running inside a pod with `tessera exec`:
 *   node pod-load.js URL MAX_MS MAX_REQUESTS CONCURRENCY STOP_FILE
 * It stops at the deadline, the cap, or as soon as STOP_FILE exists (the test creates it: a file on
 * the host is visible in the pod's mount namespace), then prints the LoadResult as one JSON line.
 */
import { existsSync } from 'node:fs';
import { startLoad } from './load.js';

const [url, maxMs, maxRequests, concurrency, stopFile] = process.argv.slice(2);
if (!url || !stopFile) {
  process.stderr.write('usage: pod-load URL MAX_MS MAX_REQUESTS CONCURRENCY STOP_FILE\n');
  process.exit(2);
}
const deadline = Date.now() + Number(maxMs);
const load = startLoad({ url, maxMs: Number(maxMs), maxRequests: Number(maxRequests), concurrency: Number(concurrency) });
while (!existsSync(stopFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
process.stdout.write(`${JSON.stringify(await load.stop())}\n`);
