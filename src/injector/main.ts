/**
 * The injector process (pod `<mesh>-injector`): serves the sidecar-injection webhook until SIGTERM.
 * Local mode: the daemon calls it with the mesh's token (`TESSERA_API_TOKEN`, required). Kubernetes
 * mode (`INJECTOR_KUBE_ENV`: a kubeconfig, or API URL + CA + token file): the API server calls it with
 * AdmissionReviews, and it reads namespaces with its ServiceAccount; the token is then optional.
 */
import { readFileSync } from 'node:fs';
import { podProcess } from '../lib/pod-process.js';
import { INJECTOR_ENV } from '../local/layout.js';
import { namespaceLookupFromEnv } from './kube-namespaces.js';
import { createInjectorServer } from './server.js';

const { required, log, serve } = podProcess('injector');

const meshName = required(INJECTOR_ENV.meshName);
const listenAt = required(INJECTOR_ENV.listen);
const certFile = process.env[INJECTOR_ENV.tlsCert];
const keyFile = process.env[INJECTOR_ENV.tlsKey];
if (!certFile || !keyFile) log('warn')(`no ${INJECTOR_ENV.tlsCert}/${INJECTOR_ENV.tlsKey}: serving the webhook over plain HTTP`);
const tls = certFile && keyFile ? { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') } : undefined;
let kube: ReturnType<typeof namespaceLookupFromEnv>;
try {
  kube = namespaceLookupFromEnv();
} catch (e) {
  process.stderr.write(`injector: ${(e as Error).message}\n`);
  process.exit(2);
}
if (kube) log('info')('Kubernetes mode: answering AdmissionReviews, reading namespaces from the API server', { server: kube.server });
if (kube && !tls) log('warn')(`Kubernetes mode without ${INJECTOR_ENV.tlsCert}: the API server calls webhooks over HTTPS only`);
const token = kube ? process.env[INJECTOR_ENV.apiToken] || undefined : required(INJECTOR_ENV.apiToken);
const server = createInjectorServer({
  meshName, log: log('info'), ...(token ? { token } : {}), ...(tls ? { tls } : {}), ...(kube ? { namespaces: kube.lookup } : {}),
});
// In-flight webhook calls are short: let them finish, but do not let a stuck client hold the port
// (the exit timer bounds them).
serve(server, { listenAt, meshName, closeConnections: 'idle' });
