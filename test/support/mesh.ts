/**
 * End-to-end support: a local mesh in a temporary state directory, driven through the real
 * `tessera` CLI. A `tessera` wrapper on PATH lets tests run the seeds' shell commands as written
 * (with kubectl/fsm replaced by tessera). `stop()` runs `tessera down` and removes the state, and
 * is safe to call from `after` even when the test failed half way. `eventually` and `within` poll;
 * `podOf` and `podFile` find a pod's name and address, and its files under the state directory;
 * `readyPods` waits for a namespace's pods and finds them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubectlBinaries } from './kubectl.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
/** FSM's sample manifests, applied in place (never copied into the repo). */
export const SAMPLES = join(REPO_ROOT, '..', 'shared', 'samples', 'fsm-docs');
export const SEEDS = join(REPO_ROOT, '..', 'shared', 'seeds');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestMesh {
  stateDir: string;
  meshName: string;
  /** runs `tessera ARGS...` */
  tessera(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  /** runs a bash script with `tessera` on PATH and this mesh selected */
  sh(script: string, opts?: { timeoutMs?: number }): Promise<RunResult>;
  stop(): Promise<void>;
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd ?? REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export interface StartMeshOptions {
  /** the CLI to run (`<repo>/dist/src/cli/main.js` by default) */
  cli?: string;
}

/** Starts a mesh (`tessera up --detach ARGS`) in a fresh state directory. */
export async function startMesh(meshName = 'fsm', extraUpArgs: string[] = [], opts: StartMeshOptions = {}): Promise<TestMesh> {
  const cli = opts.cli ?? CLI;
  const stateDir = mkdtempSync(join(tmpdir(), `tessera-e2e-${meshName}-`));
  const bin = join(stateDir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'tessera'), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`);
  chmodSync(join(bin, 'tessera'), 0o755);
  // The seeds' kubectl lines run with a real kubectl (the newest here) against the kubeconfig `up` writes.
  const newest = kubectlBinaries().at(-1);
  writeFileSync(join(bin, 'kubectl'), newest
    ? `#!/bin/sh\nexec "${newest.path}" "$@"\n`
    : '#!/bin/sh\necho "no kubectl on this machine: run scripts/install-kubectl-debian.sh" >&2\nexit 127\n');
  chmodSync(join(bin, 'kubectl'), 0o755);
  const env = {
    ...process.env, TESSERA_HOME: stateDir, KUBECONFIG: join(stateDir, 'kubeconfig'), HOME: join(stateDir, 'home'),
    PATH: `${bin}:${process.env['PATH'] ?? ''}`, SAMPLES, SEEDS,
  };
  const mesh: TestMesh = {
    stateDir,
    meshName,
    tessera: (args, opts) => run(process.execPath, [cli, ...args], { env, ...opts }),
    sh: (script, opts) => run('bash', ['-euo', 'pipefail', '-c', script], { env, ...opts }),
    stop: async () => {
      await run(process.execPath, [cli, 'down'], { env, timeoutMs: 60_000 }).catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  const up = await mesh.tessera(['up', '--mesh-name', meshName, '--detach', ...extraUpArgs], { timeoutMs: 90_000 });
  if (up.code !== 0) {
    await mesh.stop();
    throw new Error(`tessera up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  }
  return mesh;
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls `check` with no pause beyond its own duration until it holds; fails if that takes longer than `ms`. */
export async function within(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > ms) assert.fail(`${what} did not happen within ${ms} ms`);
  }
}

/** `<pod dir>/<file>` of a pod under the mesh's state directory. */
export function podFile(stateDir: string, pod: string, file: string): string {
  const rel = (readdirSync(stateDir, { recursive: true }) as string[]).find((p) => p.endsWith(join(pod, file)));
  assert.ok(rel, `${file} of ${pod}`);
  return join(stateDir, rel);
}

/** The name and pod IP of the first pod labelled `app=<app>` in `ns`. */
export async function podOf(mesh: TestMesh, ns: string, app: string): Promise<{ name: string; ip: string }> {
  const r = await mesh.sh(`tessera get pod -n ${ns} -l app=${app} -o jsonpath='{.items[0].metadata.name} {.items[0].status.podIP}'`);
  assert.equal(r.code, 0, r.stderr);
  const [name, ip] = r.stdout.trim().split(' ');
  return { name: name!, ip: ip! };
}

/** Waits (up to 120 s) until every pod in `ns` is ready; then `podOf` for each of `apps`, by app. */
export async function readyPods(mesh: TestMesh, ns: string, apps: string[]): Promise<Record<string, { name: string; ip: string }>> {
  const wait = await mesh.sh(`tessera wait --for=condition=ready pod -n ${ns} --all --timeout=120s`, { timeoutMs: 150_000 });
  assert.equal(wait.code, 0, wait.stderr);
  const pods: Record<string, { name: string; ip: string }> = {};
  for (const app of apps) pods[app] = await podOf(mesh, ns, app);
  return pods;
}
