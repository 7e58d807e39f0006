/** `tessera up`: start the daemon (here, or detached in the background), wait until ready, apply `-f` files. */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MeshError } from '../../lib/errors.js';
import { loadManifests } from '../../manifest/index.js';
import type { MeshApi } from '../api-contract.js';
import { stateFiles } from '../layout.js';
import type { UpOptions } from '../lifecycle-contract.js';
import { assertDiskSpace, diskFullError, ensurePrivateStateDir, readMeshFile } from '../mesh-file.js';
import { connectMesh } from '../client/index.js';
import { DAEMON_COMMAND, liveDaemonPid, processExists, waitForExit } from './daemon-process.js';
import { startDaemon } from './run-daemon.js';
import { LOOPBACK_WARNINGS, loadMeshNetwork } from '../runtime/index.js';
import { waitUntilReady } from './wait-ready.js';

/** How long `up --detach` waits for the mesh to become ready. */
export const READY_TIMEOUT_MS = 60_000;

const cliEntry = (): string => fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export async function up(opts: UpOptions): Promise<void> {
  const stateDir = resolve(opts.stateDir);
  await refuseIfRunning(stateDir);
  return opts.detach ? upDetached({ ...opts, stateDir }) : upForeground({ ...opts, stateDir });
}

async function refuseIfRunning(stateDir: string): Promise<void> {
  let pid = liveDaemonPid(stateDir);
  if (pid === undefined) {
    // A daemon that is not a `tessera up` command line (e.g. embedded in a test) still proves itself by answering.
    const mesh = safeRead(stateDir);
    if (mesh?.pid && processExists(mesh.pid) && (await connectMesh(stateDir).then(() => true, () => false))) pid = mesh.pid;
  }
  if (pid !== undefined) {
    throw new MeshError('MESH_ERR_MESH_RUNNING', `a mesh is already running in ${stateDir} (pid ${pid}); run \`tessera down\` first`);
  }
}

async function upForeground(opts: UpOptions): Promise<void> {
  const { stateDir, meshName, log } = opts;
  log(`starting mesh "${meshName}" in ${stateDir}`);
  const daemon = startDaemon({
    stateDir, meshName, workdir: process.cwd(), log, ...(opts.podNetwork ? { podNetwork: opts.podNetwork } : {}), ...(opts.logRotation ? { logRotation: opts.logRotation } : {}),
  });
  try {
    const api = await waitUntilReady({ stateDir, meshName, pid: process.pid, timeoutMs: READY_TIMEOUT_MS, log, daemonEnded: daemon.done });
    await applyFiles(api, opts.files, log);
    log(`mesh "${meshName}" is up (state ${stateDir}, API ${safeRead(stateDir)?.apiUrl ?? '?'}); press Ctrl-C to stop`);
    log(kubectlHint(stateDir));
    warnIfLoopback(stateDir, log);
  } catch (e) {
    daemon.shutdown('startup failed');
    await daemon.done.catch(() => undefined);
    throw e;
  }
  await daemon.done;
}

async function upDetached(opts: UpOptions): Promise<void> {
  const { stateDir, meshName, log } = opts;
  ensurePrivateStateDir(stateDir);
  assertDiskSpace(stateDir);
  const logFile = stateFiles.daemonLog(stateDir);
  let fd: number;
  try {
    fd = openSync(logFile, 'a', 0o600);
    chmodSync(logFile, 0o600);
  } catch (e) {
    throw diskFullError(logFile, e) ?? e;
  }
  let child;
  try {
    const podNetwork = opts.podNetwork ? ['--pod-network', opts.podNetwork] : [];
    const logRotation = opts.logRotation
      ? ['--container-log-max-size', String(opts.logRotation.maxSize), '--container-log-max-files', String(opts.logRotation.maxFiles)]
      : [];
    child = spawn(process.execPath, [cliEntry(), DAEMON_COMMAND, '--state', stateDir, '--mesh-name', meshName, ...podNetwork, ...logRotation], {
      detached: true, stdio: ['ignore', fd, fd], cwd: process.cwd(),
    });
  } finally {
    closeSync(fd);
  }
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new MeshError('MESH_ERR_INTERNAL', `could not start the mesh daemon (see ${logFile})`);
  log(`starting mesh "${meshName}" in ${stateDir} (daemon pid ${pid}, log ${logFile})`);
  const exited = new Promise<void>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new MeshError('MESH_ERR_INTERNAL', `the mesh daemon exited while starting (${signal ?? `exit code ${code}`}):\n${tail(logFile)}`))),
  );
  exited.catch(() => undefined);
  try {
    const api = await waitUntilReady({
      stateDir, meshName, pid, timeoutMs: READY_TIMEOUT_MS, log, daemonEnded: exited, hint: `see ${logFile}`,
    });
    await applyFiles(api, opts.files, log);
  } catch (e) {
    // We started it, so we stop it: a half-started mesh must not linger in the background.
    stopStartedDaemon(pid);
    await waitForExit(pid, 10_000);
    throw e;
  }
  log(`mesh "${meshName}" is up (state ${stateDir}, API ${safeRead(stateDir)?.apiUrl ?? '?'})`);
  log(kubectlHint(stateDir));
  warnIfLoopback(stateDir, log);
}

/** Loopback mode leaves pods open to every local process: `up` says so (the daemon log has the reason). */
function warnIfLoopback(stateDir: string, log: (line: string) => void): void {
  const mode = safeRead(stateDir)?.podNetwork ?? 'loopback';
  if (mode !== 'loopback') {
    // root or rootless (a user namespace of the daemon's): what the mesh network was made as
    const sandbox = loadMeshNetwork(stateDir)?.mode;
    log(`pod network: namespace mode${sandbox ? ` (${sandbox})` : ''} (each pod in its own network and mount namespaces, traffic intercepted)`);
    return;
  }
  log('WARNING: pod network: loopback mode (see the daemon log for why namespace mode was not used)');
  for (const w of LOOPBACK_WARNINGS) log(`WARNING:   ${w}`);
}

/** How to point kubectl at this mesh: the kubeconfig `up` wrote, with the admin's client certificate. */
function kubectlHint(stateDir: string): string {
  return `use kubectl with it: export KUBECONFIG=${stateFiles.kubeconfig(stateDir)}`;
}

function stopStartedDaemon(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}

async function applyFiles(api: MeshApi, files: string[], log: (line: string) => void): Promise<void> {
  if (files.length === 0) return;
  const docs = await loadManifests(files, readStdin);
  for (const r of await api.apply(docs, {})) {
    log(`${r.kind.toLowerCase()}/${r.name}${r.namespace ? ` (${r.namespace})` : ''} ${r.action}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function safeRead(stateDir: string) {
  try {
    return readMeshFile(stateDir);
  } catch {
    return undefined;
  }
}

/** The last lines of the daemon log, to explain a failed start without sending the user hunting. */
function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
