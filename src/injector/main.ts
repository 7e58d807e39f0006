/** The injector process (pod `<mesh>-injector`): serves the sidecar-injection webhook until SIGTERM. */
import { podProcess } from '../lib/pod-process.js';
import { INJECTOR_ENV } from '../local/layout.js';
import { createInjectorServer } from './server.js';

const { required, log, serve } = podProcess('injector');

const meshName = required(INJECTOR_ENV.meshName);
const listenAt = required(INJECTOR_ENV.listen);
const server = createInjectorServer({ meshName, token: required(INJECTOR_ENV.apiToken), log: log('info') });
// In-flight webhook calls are short: let them finish, but do not let a stuck client hold the port
// (the exit timer bounds them).
serve(server, { listenAt, meshName, closeConnections: 'idle' });
