/** The injector process (pod `<mesh>-injector`): serves the sidecar-injection webhook until SIGTERM. */
import { INJECTOR_ENV } from '../local/layout.js';
import { listenWhenFree, splitHostPort } from '../lib/listen-retry.js';
import { createInjectorServer } from './server.js';

function required(name: string): string {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`injector: environment variable ${name} is required\n`);
    process.exit(2);
  }
  return v;
}

const log = (level: 'info' | 'warn') => (msg: string, fields?: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
};
const info = log('info');

const meshName = required(INJECTOR_ENV.meshName);
const listenAt = required(INJECTOR_ENV.listen);
const server = createInjectorServer({ meshName, token: required(INJECTOR_ENV.apiToken), log: info });
const stopping = new AbortController();

const { host, port } = splitHostPort(listenAt);
listenWhenFree(server, host, port, stopping.signal, () => log('warn')('address in use; waiting for the previous injector to let go', { address: listenAt }))
  .then(() => info('injector listening', { address: listenAt, mesh: meshName }))
  .catch((err: Error) => {
    if (stopping.signal.aborted) return;
    log('warn')('cannot listen', { address: listenAt, error: err.message });
    process.exit(1);
  });

const shutdown = (): void => {
  stopping.abort();
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  // In-flight webhook calls are short; do not let a stuck client hold the port.
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
