/** The sidecar process entry: reads its identity from the environment the runner sets, and runs. */
import { SIDECAR_ADMIN_PORT, SIDECAR_ENV, SIDECAR_OUTBOUND_PORT, localIPFor } from '../local/layout.js';
import { Sidecar } from './sidecar.js';
import { SIDECAR_TRANSPARENT_ENV } from './listeners/transparent.js';
import { controlPlaneSecretSource, setSecretSource } from './token-plugins/secrets.js';
import { healthProbesFromEnv, type HealthProbeListeners } from './health-probes/index.js';
import { controlPlaneChannel } from './config/control-plane-fetch.js';
import { takeStartEnv } from './start-env.js';
import { setPipyScriptEnv } from './plugins/script-env.js';
import { DEFAULT_WATCHDOG_MS, containAsyncFailures, startWatchdog } from './watchdog/index.js';

// First of all: the tokens leave process.env, and PipyJS scripts get the pod spec's env only.
const start = takeStartEnv(process.env);
setPipyScriptEnv(start.scriptEnv);

function required(name: string): string {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`sidecar: environment variable ${name} is required\n`);
    process.exit(2);
  }
  return v;
}

/**
 * UDP senders: a local pod's app may send from its private app address instead of its pod IP; the
 * layout pairs them (localIPFor), so that address stands for the pod IP the control plane knows.
 */
function senderPodIP(address: string): string | undefined {
  const m = /^127\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  // pod IPs use rows 1..63, their private addresses 65..127 (layout.ts); cluster IPs (128+) are never senders
  if (!m || Number(m[2]) <= 64 || Number(m[2]) >= 128) return undefined;
  const podIP = `127.${m[1]}.${Number(m[2]) - 64}.${m[3]}`;
  return localIPFor(podIP) === address ? podIP : undefined;
}

/**
 * How the sidecar proves itself to the controller: the proxy token a Tessera runtime minted
 * (TESSERA_PROXY_TOKEN), or on a Kubernetes cluster the pod's projected ServiceAccount token, read
 * from TESSERA_PROXY_TOKEN_FILE on every call (the kubelet rotates it). The channel to the
 * controller is made here first, so every part of the sidecar shares it and its token source.
 */
const proxyToken = start.proxyToken;
const tokenFile = proxyToken ? undefined : process.env[SIDECAR_ENV.proxyTokenFile] || undefined;
if (!proxyToken && !tokenFile) {
  process.stderr.write(`sidecar: environment variable ${SIDECAR_ENV.proxyToken} or ${SIDECAR_ENV.proxyTokenFile} is required\n`);
  process.exit(2);
}
try {
  const channel = controlPlaneChannel({ controllerUrl: required(SIDECAR_ENV.controllerUrl), uuid: required(SIDECAR_ENV.proxyUUID), token: proxyToken, ...(tokenFile ? { tokenFile } : {}) });
  // fail at the start, naming the file, rather than on the first call
  channel.currentToken();
} catch (err) {
  process.stderr.write(`sidecar: ${(err as Error).message}\n`);
  process.exit(2);
}

// Built-in token plugins read their Secrets from the control plane, never from the snapshot.
setSecretSource(controlPlaneSecretSource({ controllerUrl: required(SIDECAR_ENV.controllerUrl), uuid: required(SIDECAR_ENV.proxyUUID), token: proxyToken }));

const sidecar = new Sidecar({
  podName: required(SIDECAR_ENV.podName),
  podNamespace: required(SIDECAR_ENV.podNamespace),
  podIP: required(SIDECAR_ENV.podIP),
  localIP: required(SIDECAR_ENV.localIP),
  serviceAccount: process.env[SIDECAR_ENV.serviceAccount] || 'default',
  uuid: required(SIDECAR_ENV.proxyUUID),
  token: proxyToken,
  ...(start.adminToken ? { adminToken: start.adminToken } : {}),
  controllerUrl: required(SIDECAR_ENV.controllerUrl),
  dataDir: required(SIDECAR_ENV.dataDir),
  adminPort: SIDECAR_ADMIN_PORT,
  outboundPort: SIDECAR_OUTBOUND_PORT,
  senderPodIP,
  ...(process.env[SIDECAR_TRANSPARENT_ENV] ? { transparentInboundPort: Number(process.env[SIDECAR_TRANSPARENT_ENV]) } : {}),
});

// A plugin's asynchronous throw fails its request, never the process; a blocked event loop ends it
// (exit SIDECAR_EXIT_UNRESPONSIVE) for its supervisor to restart.
containAsyncFailures(sidecar.log, sidecar.metrics);
const watchdogMs = process.env[SIDECAR_ENV.watchdogMs] === undefined || process.env[SIDECAR_ENV.watchdogMs] === '' ? DEFAULT_WATCHDOG_MS : Number(process.env[SIDECAR_ENV.watchdogMs]);
if (!Number.isInteger(watchdogMs) || watchdogMs < 0 || (watchdogMs > 0 && watchdogMs < 500)) {
  process.stderr.write(`sidecar: ${SIDECAR_ENV.watchdogMs} must be 0 (no watchdog) or a whole number of milliseconds ≥ 500, not "${process.env[SIDECAR_ENV.watchdogMs]}"\n`);
  process.exit(2);
}
const watchdog = watchdogMs > 0 ? startWatchdog({ thresholdMs: watchdogMs }) : undefined;

// The app's probes the injector rewrote to the sidecar's ports: served from the start, whatever the
// control plane does, so a slow control plane does not fail the app's liveness.
let healthProbes: HealthProbeListeners | undefined;
try {
  healthProbes = healthProbesFromEnv(process.env, { transparent: Boolean(process.env[SIDECAR_TRANSPARENT_ENV]), log: (msg, fields) => sidecar.log.warn(msg, fields) });
} catch (err) {
  process.stderr.write(`sidecar: ${(err as Error).message}\n`);
  process.exit(2);
}
healthProbes?.start().catch((err: Error) => {
  process.stderr.write(`sidecar: cannot listen for the app's probes: ${err.message}\n`);
  process.exit(1);
});

const shutdown = (): void => {
  void Promise.allSettled([sidecar.stop(), healthProbes?.close(), watchdog?.stop()]).finally(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

sidecar.start().catch((err: Error) => {
  process.stderr.write(`sidecar: cannot start: ${err.message}\n`);
  process.exit(1);
});
