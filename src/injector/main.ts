/** The injector process (pod `<mesh>-injector`): serves the sidecar-injection webhook until SIGTERM. */
import { readFileSync } from 'node:fs';
import { podProcess } from '../lib/pod-process.js';
import { INJECTOR_ENV } from '../local/layout.js';
import { createInjectorServer } from './server.js';

const { required, log, serve } = podProcess('injector');

const meshName = required(INJECTOR_ENV.meshName);
const listenAt = required(INJECTOR_ENV.listen);
const certFile = process.env[INJECTOR_ENV.tlsCert];
const keyFile = process.env[INJECTOR_ENV.tlsKey];
if (!certFile || !keyFile) log('warn')(`no ${INJECTOR_ENV.tlsCert}/${INJECTOR_ENV.tlsKey}: serving the webhook over plain HTTP`);
const tls = certFile && keyFile ? { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') } : undefined;
const server = createInjectorServer({ meshName, token: required(INJECTOR_ENV.apiToken), log: log('info'), ...(tls ? { tls } : {}) });
// In-flight webhook calls are short: let them finish, but do not let a stuck client hold the port
// (the exit timer bounds them).
serve(server, { listenAt, meshName, closeConnections: 'idle' });
