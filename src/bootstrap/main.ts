/**
 * The bootstrap process (pod `<mesh>-bootstrap`): watches the MeshConfigs of `<mesh>-system` and keeps
 * the mesh's preset MeshConfig in place. `GET /healthz` answers 200 once the watch has synced (its readiness).
 */
import { createServer } from 'node:http';
import { startWatch } from '../control-plane/watch.js';
import { podProcess } from '../lib/pod-process.js';
import { KubeMeshApi } from '../local/client/index.js';
import { BOOTSTRAP_ENV } from '../local/layout.js';
import { ApiTransport } from '../local/api-transport.js';
import { PresetKeeper } from './preset-keeper.js';
import { tokenSource, type TokenSource } from '../kube/auth/token-file.js';
import { systemNamespace } from './preset-mesh-config.js';

const { required, log, serve } = podProcess('bootstrap');

const meshName = required(BOOTSTRAP_ENV.meshName);
const apiUrl = required(BOOTSTRAP_ENV.apiUrl);
// The ServiceAccount's token: from TESSERA_API_TOKEN_FILE (re-read as it rotates), else TESSERA_API_TOKEN.
let apiToken: TokenSource;
try {
  apiToken = tokenSource(BOOTSTRAP_ENV.apiToken);
} catch (e) {
  process.stderr.write(`bootstrap: ${(e as Error).message}\n`);
  process.exit(2);
}
const listenAt = required(BOOTSTRAP_ENV.listen);

const transport = ApiTransport.fromFile(required(BOOTSTRAP_ENV.apiCa));
const keeper = new PresetKeeper({ api: new KubeMeshApi({ baseUrl: apiUrl, get token() { return apiToken.current(); }, transport }), meshName, log: log('warn') });
// Only what it keeps: MeshConfigs in its own namespace (its Role grants nothing else, in Kubernetes mode).
// A rotated token restarts the watch: its reconnects must not present an expired one.
const startApiWatch = (token: string) => startWatch({
  transport,
  apiUrl,
  token,
  kinds: ['MeshConfig'],
  namespace: systemNamespace(meshName),
  onSync: (objects) => {
    log('info')('resources synced', { count: objects.length });
    keeper.onSync(objects);
  },
  onChange: (type, object) => keeper.onChange(type, object),
  onError: (err) => log('warn')('watch interrupted', { error: err.message }),
});
let watch = startApiWatch(apiToken.current());
apiToken.onChange((token) => {
  watch.stop();
  watch = startApiWatch(token);
});

const health = createServer((req, res) => {
  if (req.method !== 'GET' || req.url !== '/healthz') return void res.writeHead(404).end();
  res.writeHead(keeper.synced ? 200 : 503, { 'content-type': 'text/plain' }).end(keeper.synced ? 'ok' : 'watch not synced yet');
});
// Health probes hold nothing worth waiting for: every connection is dropped on shutdown.
serve(health, {
  listenAt,
  meshName,
  closeConnections: 'all',
  onStop: () => {
    watch.stop();
    keeper.stop();
  },
});
