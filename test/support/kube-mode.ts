/**
 * Kubernetes-mode support for the e2e tests on the reference cluster (kube-reference.ts): kubectl and
 * `tessera` against the cluster, ServiceAccount kubeconfigs from the TokenRequest API, the environment
 * of the mesh's components when they run as processes on the host (injector, controller), `tessera node`,
 * and the host processes themselves (their output kept, stopped by PID). `ok` and `waitFor` are the
 * assertion and polling helpers those tests share.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Secret } from '../../src/api/types.js';
import { INJECTOR_KUBE_ENV } from '../../src/injector/kube-namespaces.js';
import { CONTROLLER_ENV, INJECTOR_ENV } from '../../src/local/layout.js';
import type { ReferenceCluster } from './kube-reference.js';
import { run, type RunResult } from './mesh.js';

/** The CLI and the components' entry points of the build this file belongs to. */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const INJECTOR_MAIN = fileURLToPath(new URL('../../src/injector/main.js', import.meta.url));
export const CONTROLLER_MAIN = fileURLToPath(new URL('../../src/control-plane/main.js', import.meta.url));
export const BOOTSTRAP_MAIN = fileURLToPath(new URL('../../src/bootstrap/main.js', import.meta.url));

/** Asserts that a command succeeded; its stdout. */
export function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Polls `fn` every `intervalMs` until it returns a truthy value; fails after `ms` with `detail()` in the message. */
export async function waitFor<T>(
  what: string, fn: () => Promise<T | undefined | false>, ms = 60_000, detail?: () => string, intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---------------------------------------------------------------------------------------------
// The cluster, through kubectl and `tessera`.

/** The reference kubectl against `cluster` (admin), 60 s timeout. */
export function kubectlOn(cluster: ReferenceCluster, args: string[], input?: string): Promise<RunResult> {
  return cluster.kubectl(args, { timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
}

/** `kubectl ARGS -o json`, asserted to succeed, parsed. */
export async function kubectlJson<T>(cluster: ReferenceCluster, args: string[]): Promise<T> {
  return JSON.parse(ok(await kubectlOn(cluster, [...args, '-o', 'json']), `kubectl ${args.join(' ')}`)) as T;
}

/** One key of a Secret, decoded. */
export async function secretText(cluster: ReferenceCluster, namespace: string, name: string, key: string): Promise<string> {
  const secret = await kubectlJson<Secret>(cluster, ['get', 'secret', '-n', namespace, name]);
  return Buffer.from(secret.data![key]!, 'base64').toString('utf8');
}

/** `tessera ARGS --kubeconfig <admin>` with this build's CLI. */
export function tesseraOn(cluster: ReferenceCluster, args: string[]): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args, '--kubeconfig', cluster.kubeconfig], { timeoutMs: 180_000, env: { ...process.env, KUBECONFIG: cluster.kubeconfig } });
}

export interface ServiceAccountKubeconfigOptions {
  namespace: string;
  serviceAccount: string;
  /** where the kubeconfig is written (the cluster's directory by default) */
  dir?: string;
}

/** A kubeconfig for a ServiceAccount: a token from the TokenRequest API (1 h) and the cluster CA. */
export async function serviceAccountKubeconfig(cluster: ReferenceCluster, o: ServiceAccountKubeconfigOptions): Promise<{ path: string; token: string }> {
  const sa = o.serviceAccount;
  const token = ok(await kubectlOn(cluster, ['create', 'token', sa, '-n', o.namespace, '--duration=1h']), `create token ${sa}`).trim();
  const path = join(o.dir ?? cluster.dir, `${sa}.kubeconfig`);
  writeFileSync(path, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': sa,
    clusters: [{ name: 'reference', cluster: { server: cluster.server, 'certificate-authority': join(cluster.dir, 'ca.crt') } }],
    users: [{ name: sa, user: { token } }],
    contexts: [{ name: sa, context: { cluster: 'reference', user: sa } }],
  }), { mode: 0o600 });
  return { path, token };
}

// ---------------------------------------------------------------------------------------------
// The components' environments on the host.

export interface ControllerEnvOptions {
  mesh: string;
  /** the `<mesh>-controller` ServiceAccount's token */
  token: string;
  port: number;
  meshKey: string;
  stateDir: string;
  /** serving certificate and key files (plaintext without) */
  tls?: { cert: string; key: string };
}

/** The controller's environment against `cluster`'s API server (its CA from the cluster directory). */
export function controllerEnv(cluster: ReferenceCluster, o: ControllerEnvOptions): NodeJS.ProcessEnv {
  return {
    [CONTROLLER_ENV.apiUrl]: cluster.server,
    [CONTROLLER_ENV.apiCa]: join(cluster.dir, 'ca.crt'),
    [CONTROLLER_ENV.apiToken]: o.token,
    [CONTROLLER_ENV.meshName]: o.mesh,
    [CONTROLLER_ENV.listen]: `127.0.0.1:${o.port}`,
    [CONTROLLER_ENV.meshKey]: o.meshKey,
    [CONTROLLER_ENV.stateDir]: o.stateDir,
    ...(o.tls ? { [CONTROLLER_ENV.tlsCert]: o.tls.cert, [CONTROLLER_ENV.tlsKey]: o.tls.key } : {}),
  };
}

export interface InjectorEnvOptions {
  mesh: string;
  port: number;
  /** serving certificate and key files */
  cert: string;
  key: string;
  /** the `<mesh>-injector` ServiceAccount's kubeconfig */
  kubeconfig: string;
}

/** The injector's environment in Kubernetes mode: the webhook on 127.0.0.1:PORT over TLS. */
export function injectorEnv(o: InjectorEnvOptions): NodeJS.ProcessEnv {
  return {
    [INJECTOR_ENV.meshName]: o.mesh,
    [INJECTOR_ENV.listen]: `127.0.0.1:${o.port}`,
    [INJECTOR_ENV.tlsCert]: o.cert,
    [INJECTOR_ENV.tlsKey]: o.key,
    [INJECTOR_KUBE_ENV.kubeconfig]: o.kubeconfig,
    // no TESSERA_API_TOKEN: the API server presents none, and Kubernetes mode needs none
    [INJECTOR_ENV.apiToken]: '',
  };
}

export interface TesseraNodeOptions {
  /** the node's bootstrap kubeconfig (`cluster.nodeKubeconfig(name)`) */
  kubeconfig: string;
  name: string;
  /** the kubelet API's port */
  port: number;
  rootDir: string;
  /** more `tessera node` flags */
  extraArgs?: string[];
}

/** `node CLI node …` arguments for a host process; the CSR must be approved within 2 minutes. */
export function tesseraNodeArgs(o: TesseraNodeOptions): string[] {
  return [
    CLI, 'node', '--kubeconfig', o.kubeconfig, '--node-name', o.name, '--port', String(o.port),
    '--root-dir', o.rootDir, '--csr-timeout', '2m', ...(o.extraArgs ?? []),
  ];
}

/** Waits for `tessera node` to request its serving certificate; the CSR's name. */
export function nodeCsrName(node: HostProcess, ms: number, detail?: () => string): Promise<string> {
  return waitFor('the node\'s serving certificate request', async () => /certificate request (csr-\S+)/.exec(node.output())?.[1], ms, detail);
}

// ---------------------------------------------------------------------------------------------
// Host processes.

/** A child process and everything it printed. */
export interface HostProcess {
  name: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

export function running(c: HostProcess): boolean {
  return c.proc.exitCode === null && c.proc.signalCode === null && c.proc.pid !== undefined;
}

/** `node ARGS` with `env` over this process's environment, stdout and stderr kept. */
export function startHostProcess(name: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): HostProcess {
  const proc = spawn(process.execPath, args, {
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) r();
    proc.once('exit', () => r());
  });
  return { name, proc, output: () => out, exited };
}

/** SIGTERM by PID, SIGKILL after `graceMs`; resolves once it exited. */
export async function stopHostProcess(c: HostProcess, graceMs = 5000): Promise<void> {
  if (!running(c)) return;
  process.kill(c.proc.pid!, 'SIGTERM');
  const killer = setTimeout(() => running(c) && process.kill(c.proc.pid!, 'SIGKILL'), graceMs);
  await c.exited;
  clearTimeout(killer);
}

/** The host processes a test started, for stopping them all in `after`. */
export class HostProcesses {
  readonly all: HostProcess[] = [];

  start(name: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): HostProcess {
    const c = startHostProcess(name, args, opts);
    this.all.push(c);
    return c;
  }

  /** Stops every process, the last started first; errors ignored. */
  async stopAll(graceMs: (c: HostProcess) => number = () => 5000): Promise<void> {
    for (const c of [...this.all].reverse()) await stopHostProcess(c, graceMs(c)).catch(() => undefined);
  }
}
