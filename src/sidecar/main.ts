/** The sidecar process entry: reads its identity from the environment the runner sets, and runs. */
import { SIDECAR_ADMIN_PORT, SIDECAR_ENV, SIDECAR_OUTBOUND_PORT } from '../local/layout.js';
import { Sidecar } from './sidecar.js';

function required(name: string): string {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`sidecar: environment variable ${name} is required\n`);
    process.exit(2);
  }
  return v;
}

const sidecar = new Sidecar({
  podName: required(SIDECAR_ENV.podName),
  podNamespace: required(SIDECAR_ENV.podNamespace),
  podIP: required(SIDECAR_ENV.podIP),
  localIP: required(SIDECAR_ENV.localIP),
  serviceAccount: process.env[SIDECAR_ENV.serviceAccount] || 'default',
  uuid: required(SIDECAR_ENV.proxyUUID),
  token: required(SIDECAR_ENV.proxyToken),
  controllerUrl: required(SIDECAR_ENV.controllerUrl),
  dataDir: required(SIDECAR_ENV.dataDir),
  adminPort: SIDECAR_ADMIN_PORT,
  outboundPort: SIDECAR_OUTBOUND_PORT,
});

const shutdown = (): void => {
  void sidecar.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

sidecar.start().catch((err: Error) => {
  process.stderr.write(`sidecar: cannot start: ${err.message}\n`);
  process.exit(1);
});
