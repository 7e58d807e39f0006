/** The control-plane process (pod `<mesh>-controller`): watch resources, compute, deliver. */
import { CONTROLLER_ENV } from '../local/layout.js';
import { Controller } from './controller.js';
import { readFileSync } from 'node:fs';
import { createDeliveryEndpoint, createDeliveryServer } from './delivery.js';
import { ProxyRegistry } from './registry.js';
import { ConvergenceTracker } from './convergence.js';
import { startWatch } from './watch.js';
import { MeshIdentity, trustEvent } from './identity.js';
import { AccessCertIssuer } from './access-certs.js';
import { AccessControlStatusWriter } from './status.js';
import { KubeMeshApi } from '../local/client/index.js';
import { ApiTransport } from '../local/api-transport.js';
import { tokenSource, type TokenSource } from '../kube/auth/token-file.js';
import { ServiceAccountTokenReviewer, type ReviewApi } from './sa-tokens.js';
import { CaRootConfigMapKeeper } from './ca-root-configmaps.js';
import { controllerTokenAudience } from '../sidecar/config/cluster-bootstrap.js';

function required(name: string): string {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`controller: environment variable ${name} is required\n`);
    process.exit(2);
  }
  return v;
}

const log = {
  info(msg: string, fields?: Record<string, unknown>) {
    process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg, ...fields }) + '\n');
  },
  warn(msg: string, fields?: Record<string, unknown>) {
    process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg, ...fields }) + '\n');
  },
};

const meshName = required(CONTROLLER_ENV.meshName);
const listenAt = required(CONTROLLER_ENV.listen);
const registry = new ProxyRegistry();
const convergence = new ConvergenceTracker(Date.now, { processMetrics: true });
const controller = new Controller(meshName, registry, log, convergence);
let identity: MeshIdentity | undefined;
// Sidecars on a cluster prove themselves with their pod's projected ServiceAccount token (audience
// `<mesh>-controller`), checked with a TokenReview (sa-tokens.ts); the runtimes' proxy tokens still work.
// The reviewer is given the API client below, once it exists.
let reviewApi: ReviewApi | undefined;
const serviceAccounts = new ServiceAccountTokenReviewer({
  api: { request: (method, path, o) => (reviewApi ? reviewApi.request(method, path, o) : Promise.reject(new Error('the API client is not set up yet'))) },
  audience: controllerTokenAudience(meshName),
});
const deliveryOptions = { controller, registry, convergence, meshKey: required(CONTROLLER_ENV.meshKey), log, identity: () => identity, serviceAccounts };
// TLS with the certificate `up` issued from the cluster CA: sidecars verify it before sending their
// token. Without one (a hand-started controller) it serves plain HTTP and says so.
const tlsCertFile = process.env[CONTROLLER_ENV.tlsCert];
const tlsKeyFile = process.env[CONTROLLER_ENV.tlsKey];
let server: { listen: (o: { host: string; port: number }, cb: () => void) => unknown; closeAll: () => void; close: (cb: () => void) => unknown };
if (tlsCertFile && tlsKeyFile) {
  const endpoint = createDeliveryEndpoint(deliveryOptions, { cert: readFileSync(tlsCertFile, 'utf8'), key: readFileSync(tlsKeyFile, 'utf8') });
  server = { listen: (o, cb) => endpoint.server.listen(o, cb), closeAll: () => endpoint.closeAll(), close: (cb) => endpoint.server.close(cb) };
} else {
  log.warn(`no ${CONTROLLER_ENV.tlsCert}/${CONTROLLER_ENV.tlsKey}: serving delivery over plain HTTP`);
  const plain = createDeliveryServer(deliveryOptions);
  server = { listen: (o, cb) => plain.listen(o, cb), closeAll: () => plain.closeAllConnections(), close: (cb) => plain.close(cb) };
}
const transport = ApiTransport.fromFile(required(CONTROLLER_ENV.apiCa));
// The ServiceAccount's token: from TESSERA_API_TOKEN_FILE (re-read as it rotates), else TESSERA_API_TOKEN.
let apiToken: TokenSource;
try {
  apiToken = tokenSource(CONTROLLER_ENV.apiToken);
} catch (e) {
  process.stderr.write(`controller: ${(e as Error).message}\n`);
  process.exit(2);
}
const api = new KubeMeshApi({ baseUrl: required(CONTROLLER_ENV.apiUrl), get token() { return apiToken.current(); }, transport });
reviewApi = api;

/** Loads (or on first start creates) the CA; retries while the API server is not answering. */
async function loadIdentity(): Promise<void> {
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      const started = await MeshIdentity.start(api, meshName);
      identity = started.identity;
      log.info(started.created ? 'created the mesh root CA' : 'loaded the mesh root CA', { roots: identity.trust.bundle.length });
      return;
    } catch (err) {
      log.warn('cannot load the certificate authority yet', { error: (err as Error).message });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
void loadIdentity();

// Retire roots left from a rotation once every proxy holds a certificate from the active root. Not
// before the first catalog: with no proxies known yet, "every proxy" would be vacuously true.
setInterval(() => {
  const id = identity;
  if (!id || !controller.ready) return;
  const live = controller.proxyUuids();
  id.forget(new Set(live));
  void id.retireOldRoots(live).then((changed) => {
    if (!changed) return;
    log.info('retired the previous root CA: every proxy holds a certificate from the new one');
    const event = trustEvent(id.trust);
    for (const r of registry.connected()) r.push?.(event);
  });
}, 5000).unref();
// AccessCert Secrets: issued on change, re-checked periodically for renewal and root changes.
const accessCerts = new AccessCertIssuer({ api, meshName, identity: () => identity, log });
setInterval(() => void accessCerts.reconcile(), 5000).unref();
// The mesh CA as the ConfigMap `<mesh>-ca-root-cert` in every monitored namespace (ca-root-configmaps.ts):
// what injected sidecars verify the controller with.
const caRoots = new CaRootConfigMapKeeper({ api, meshName, log, roots: () => identity?.trust.bundle });
setInterval(() => void caRoots.reconcile(), 5000).unref();
// AccessControl status, through the status subresource, from each recompute's view (control-plane/status.ts).
const statusWriter = new AccessControlStatusWriter({ api, meshName, log, view: () => controller.resourcesNow() });
controller.onRecompute = (resources) => void statusWriter.update(resources);
// A rotated token restarts the watch: its reconnects must not present an expired one.
const startApiWatch = (token: string) => startWatch({
  transport,
  apiUrl: required(CONTROLLER_ENV.apiUrl),
  token,
  onSync: (objects) => {
    log.info('resources synced', { count: objects.length });
    controller.sync(objects);
    accessCerts.sync(objects);
    caRoots.sync(objects);
  },
  onChange: (type, object) => {
    controller.change(type, object);
    accessCerts.change(type, object);
    caRoots.change(type, object);
  },
  onError: (err) => log.warn('watch interrupted', { error: err.message }),
});
let watch = startApiWatch(apiToken.current());
apiToken.onChange((token) => {
  watch.stop();
  watch = startApiWatch(token);
});

const colon = listenAt.lastIndexOf(':');
server.listen({ host: listenAt.slice(0, colon), port: Number(listenAt.slice(colon + 1)) }, () => {
  log.info('control plane listening', { address: listenAt, mesh: meshName, tls: Boolean(tlsCertFile && tlsKeyFile) });
});

const shutdown = (): void => {
  watch.stop();
  server.closeAll();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

// ---------------------------------------------------------------------------------------------
// Leader election (control-plane/leader.ts; one block, so it stays apart from the rest): every
// replica watches, computes and serves its own sidecars, but only the holder of the Lease
// `<mesh>-controller` in `<mesh>-system` writes: the CA bundle Secret, the trust-bundle ConfigMap,
// AccessCert Secrets, AccessControl status, the CA ConfigMaps of monitored namespaces. The gates are set here, at the end of the module body,
// before any of the asynchronous work started above can reach a write. SIGTERM and SIGINT release the Lease first.
import { leaderIdentity, startLeaderElection } from './leader.js';
import { meshSystemNamespace } from '../identity/index.js';

const election = startLeaderElection({
  api, namespace: meshSystemNamespace(meshName), name: `${meshName}-controller`, identity: leaderIdentity(), log,
  onStartedLeading: () => {
    void identity?.flushBundle().catch((err: Error) => log.warn('cannot write the trust bundle', { error: err.message }));
    void accessCerts.reconcile();
    void caRoots.reconcile();
    void statusWriter.retry();
  },
  onNewLeader: (holder) => log.info('leader election: the Lease names a holder', { holder: holder ?? null }),
});
MeshIdentity.canWrite = election.canWrite;
accessCerts.canWrite = election.canWrite;
caRoots.canWrite = election.canWrite;
statusWriter.canWrite = election.canWrite;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.removeListener(signal, shutdown);
  process.once(signal, () => {
    const released = election.stop();
    void Promise.race([released, new Promise((r) => setTimeout(r, 1500).unref())]).then(shutdown);
  });
}
