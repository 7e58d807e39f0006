/**
 * The bootstrap process (pod `<mesh>-bootstrap`): watches the API and keeps the mesh's preset
 * objects in place. `GET /healthz` answers 200 once the watch has synced (its readiness).
 */
import { createServer } from 'node:http';
import { startWatch } from '../control-plane/watch.js';
import { listenWhenFree, splitHostPort } from '../lib/listen-retry.js';
import { HttpMeshApi } from '../local/apiserver/index.js';
import { BOOTSTRAP_ENV } from '../local/layout.js';
import { PresetKeeper } from './preset-keeper.js';

function required(name: string): string {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`bootstrap: environment variable ${name} is required\n`);
    process.exit(2);
  }
  return v;
}

const log = (level: 'info' | 'warn') => (msg: string, fields?: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
};

const meshName = required(BOOTSTRAP_ENV.meshName);
const apiUrl = required(BOOTSTRAP_ENV.apiUrl);
const token = required(BOOTSTRAP_ENV.apiToken);
const listenAt = required(BOOTSTRAP_ENV.listen);

const keeper = new PresetKeeper({ api: new HttpMeshApi(apiUrl, token), meshName, log: log('warn') });
const watch = startWatch({
  apiUrl,
  token,
  onSync: (objects) => {
    log('info')('resources synced', { count: objects.length });
    keeper.onSync(objects);
  },
  onChange: (type, object) => keeper.onChange(type, object),
  onError: (err) => log('warn')('watch interrupted', { error: err.message }),
});

const health = createServer((req, res) => {
  if (req.method !== 'GET' || req.url !== '/healthz') return void res.writeHead(404).end();
  res.writeHead(keeper.synced ? 200 : 503, { 'content-type': 'text/plain' }).end(keeper.synced ? 'ok' : 'watch not synced yet');
});
const stopping = new AbortController();
const { host, port } = splitHostPort(listenAt);
listenWhenFree(health, host, port, stopping.signal, () => log('warn')('address in use; waiting for the previous bootstrap to let go', { address: listenAt }))
  .then(() => log('info')('bootstrap listening', { address: listenAt, mesh: meshName }))
  .catch((err: Error) => {
    if (stopping.signal.aborted) return;
    log('warn')('cannot listen', { address: listenAt, error: err.message });
    process.exit(1);
  });

const shutdown = (): void => {
  stopping.abort();
  watch.stop();
  keeper.stop();
  health.close(() => process.exit(0));
  health.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
