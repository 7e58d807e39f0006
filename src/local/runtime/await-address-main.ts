/**
 * Process entry `await-address-main.js HOST PORT ENTRY`: waits until HOST:PORT is free, then runs
 * ENTRY in this same process. A control-plane pod's replacement starts while the old pod still
 * holds the fixed address; without this it would crash-loop (EADDRINUSE), never turn Ready, and the
 * rollout would never delete the old pod.
 */
import { createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import { listenWhenFree } from '../../lib/listen-retry.js';

const [host, port, entry] = process.argv.slice(2);
if (!host || !port || !entry) {
  process.stderr.write('usage: await-address-main.js HOST PORT ENTRY\n');
  process.exit(2);
}
const probe = createServer();
await listenWhenFree(probe, host, Number(port), undefined, () =>
  process.stderr.write(`${host}:${port} is in use; waiting for the previous pod to let go\n`));
await new Promise((resolve) => probe.close(resolve));
await import(pathToFileURL(entry).href);
