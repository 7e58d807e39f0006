/** The `tessera up` daemon: API server, controllers and pod supervisor over one store, until shutdown. */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { MeshError } from '../../lib/errors.js';
import { startApiServer } from '../apiserver/index.js';
import { httpInjectorClient, startControllers } from '../controllers/index.js';
import { API_PORT, INJECTOR_PORT, apiAddress, controllerAddress, injectorAddress, stateFiles, type MeshFile } from '../layout.js';
import { assertDiskSpace, ensurePrivateStateDir, leaseMeshBlock, readMeshFile, readOrCreateMeshKey, releaseMeshBlock, writeMeshFile } from '../mesh-file.js';
import { reapStale, startSupervisor, startTokenSecretController } from '../runtime/index.js';
import { meshGateway, startPodNetwork } from './pod-network.js';
import { openStore } from '../store/index.js';
import { ensureClusterPki, issueServingCertificate, writeKubeconfig } from '../pki/index.js';
import { liveDaemonPid } from './daemon-process.js';
import { DEFAULT_LOG_ROTATION, type LogRotation } from '../container-log/index.js';
import { keepDaemonLogBounded } from './daemon-log.js';
import { assertSameMesh, ensureSystemObjects, meshNamesInStore } from './system-objects.js';

export interface DaemonOptions {
  stateDir: string;
  meshName: string;
  /** where `tessera up` ran; annotated local commands of workloads run here */
  workdir: string;
  log: (line: string) => void;
  /** `--pod-network`: namespace, loopback or auto */
  podNetwork?: string;
  /** `--container-log-max-size` / `--container-log-max-files`; the kubelet's defaults when absent */
  logRotation?: LogRotation;
}

export interface RunningDaemon {
  /** settles once the daemon has stopped everything (rejects if it failed to start) */
  done: Promise<void>;
  /** asks the daemon to stop, as SIGTERM would */
  shutdown(reason: string): void;
}

/** Runs the daemon until SIGINT/SIGTERM or the API's shutdown, then stops everything it started. */
export function runDaemon(opts: DaemonOptions): Promise<void> {
  return startDaemon(opts).done;
}

export function startDaemon(opts: DaemonOptions): RunningDaemon {
  let requestShutdown!: (reason: string) => void;
  const shutdownRequested = new Promise<string>((r) => (requestShutdown = r));
  return { done: serve(opts, shutdownRequested, (reason) => requestShutdown(reason)), shutdown: (reason) => requestShutdown(reason) };
}

async function serve(opts: DaemonOptions, shutdownRequested: Promise<string>, requestShutdown: (reason: string) => void): Promise<void> {
  const stateDir = resolve(opts.stateDir);
  const { meshName, log } = opts;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  ensurePrivateStateDir(stateDir);
  assertDiskSpace(stateDir);
  const other = liveDaemonPid(stateDir);
  if (other !== undefined) {
    throw new MeshError('MESH_ERR_MESH_RUNNING', `a mesh is already running in ${stateDir} (pid ${other}); run \`tessera down\` first`);
  }
  const previous = readMeshFile(stateDir);
  const store = openStore(stateDir);
  // mesh.json is the daemon's own record; the store is asked only without it (it may also hold a
  // mesh `tessera install` put into this API).
  assertSameMesh(stateDir, meshName, previous?.meshName !== undefined ? [previous.meshName] : meshNamesInStore(store));

  // Everything started below is undone, in reverse, by `cleanups` — also when a later step fails.
  const cleanups: { what: string; run: () => unknown }[] = [];
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`${signal} again: exiting without waiting; \`tessera up\` reaps what is left`);
      process.exit(130);
    }
    requestShutdown(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  cleanups.push({ what: 'signal handlers', run: () => (process.off('SIGINT', onSignal), process.off('SIGTERM', onSignal)) });
  // detached, the daemon's stdout is daemon.log: bounded like the containers' logs
  const stopDaemonLog = keepDaemonLogBounded(stateFiles.daemonLog(stateDir), opts.logRotation ?? DEFAULT_LOG_ROTATION);
  cleanups.push({ what: 'daemon log rotation', run: stopDaemonLog });

  try {
    const block = leaseMeshBlock(stateDir);
    cleanups.push({ what: 'address block', run: () => releaseMeshBlock(stateDir) });
    const meshKey = readOrCreateMeshKey(stateDir);
    // A fresh secret per run for the daemon's calls to the injector (mesh.json's `apiToken`); the API
    // does not accept it: the components use their ServiceAccount tokens (issue #13).
    const apiToken = randomBytes(32).toString('hex');

    const reaped = await reapStale(stateDir);
    if (reaped.length > 0) log(`stopped ${reaped.length} process(es) left by an earlier run: ${reaped.join(', ')}`);

    const pki = await ensureClusterPki(stateDir, meshName, [apiAddress(block), 'localhost']);
    // The controller's and injector's fixed addresses get certificates of the cluster CA: sidecars,
    // the daemon and readiness probes check who answers there before trusting or sending anything.
    // …and, for sandboxed pods (--pod-network=namespace), the mesh bridge's gateway the relay listens on
    await issueServingCertificate(stateDir, 'controller', [controllerAddress(block), meshGateway(meshName)]);
    await issueServingCertificate(stateDir, 'injector', [injectorAddress(block)]);
    // Pods of meshed namespaces are admitted by the `<mesh>-injector` pod, authenticated with the
    // per-run secret: the API's admission calls it for every pod created there, whoever creates it.
    const injector = httpInjectorClient({ baseUrl: `https://${injectorAddress(block)}:${INJECTOR_PORT}`, token: apiToken, ca: pki.ca.cert });
    cleanups.push({ what: 'injector client', run: () => injector.close() });
    const api = await startApiServer({
      injector,
      store, host: apiAddress(block), port: API_PORT, meshName, stateDir, block, workdir: opts.workdir,
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
      onShutdown: () => requestShutdown('shutdown requested through the API'),
    });
    cleanups.push({ what: 'API server', run: () => api.close() });
    log(`API server listening at ${api.url}`);
    const kubeconfig = writeKubeconfig(stateDir, meshName, api.url, pki);
    log(`kubeconfig written to ${kubeconfig}`);

    const podNetwork = await startPodNetwork({ choice: opts.podNetwork, store, stateDir, meshName, block, log });
    if (podNetwork.sandboxes) cleanups.push({ what: 'pod network', run: () => podNetwork.sandboxes!.close() });

    const mesh: MeshFile = {
      meshName, block, apiUrl: api.url, apiToken, pid: process.pid, workdir: opts.workdir, startedAt: new Date().toISOString(),
      podNetwork: podNetwork.mode,
      ...(opts.logRotation ? { containerLogs: opts.logRotation } : {}),
    };
    writeMeshFile(stateDir, mesh);
    // Keep mesh.json (the CLI finds the mesh and its block there) but say no daemon runs.
    cleanups.push({ what: 'mesh.json', run: () => writeMeshFile(stateDir, withoutPid(mesh)) });

    const created = ensureSystemObjects(store, meshName);
    if (created.length > 0) log(`created ${created.join(', ')}`);

    // Every pod is created through the API's admission chain, as the replicaset controller.
    const controllers = startControllers({ store, meshName, block, log, createPod: (pod) => api.createPod(pod) });
    cleanups.push({ what: 'controllers', run: () => controllers.stop() });
    const tokenSecrets = startTokenSecretController({ store, stateDir, block, log });
    cleanups.push({ what: 'token controller', run: () => tokenSecrets.stop() });
    const supervisor = startSupervisor({
      store, stateDir, meshName, block, meshKey, workdir: opts.workdir, log, ...(podNetwork.sandboxes ? { sandboxes: podNetwork.sandboxes } : {}),
      ...(opts.logRotation ? { logRotation: opts.logRotation } : {}),
    });
    cleanups.push({ what: 'pods', run: () => supervisor.stop() });
    log(`mesh "${meshName}" daemon running (pid ${process.pid}, addresses 127.${block}.0.0/16)`);

    log(`shutting down: ${await shutdownRequested}`);
  } finally {
    stopping = true;
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup.run();
      } catch (e) {
        log(`stopping ${cleanup.what} failed: ${(e as Error).message}`);
      }
    }
  }
  log(`mesh "${meshName}" stopped`);
}

/** mesh.json with its pid removed; the contract types pid as always present, so this is the one cast. */
function withoutPid(mesh: MeshFile): MeshFile {
  const { pid: _pid, ...rest } = mesh;
  return rest as MeshFile;
}
