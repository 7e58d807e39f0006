/** Starting and stopping container processes: own process group, output pipes, pid file, marker env. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateFiles } from '../layout.js';

/** Every process we start carries this, so a later daemon can prove a stale pid is ours. */
export const STATE_DIR_ENV = 'TESSERA_STATE_DIR';

/** Termination grace before SIGKILL. */
export const STOP_GRACE_MS = 5_000;

/** Parent variables a pod must not inherit: proxies of the user's shell, node:test plumbing. */
const NOT_INHERITED = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY', 'all_proxy', 'ALL_PROXY', 'NODE_TEST_CONTEXT'];

export interface ProcessSpec {
  stateDir: string;
  namespace: string;
  pod: string;
  container: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

export function pidFile(stateDir: string, namespace: string, pod: string, container: string): string {
  return join(stateFiles.podDir(stateDir, namespace, pod), `${container}.pid`);
}

/**
 * Spawns detached (own process group) with stdout and stderr as pipes the daemon reads: the
 * container log's writer (../container-log) owns the file, so it can rotate it between two lines.
 */
export function spawnContainer(spec: ProcessSpec): ChildProcess {
  mkdirSync(stateFiles.podDir(spec.stateDir, spec.namespace, spec.pod), { recursive: true });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !NOT_INHERITED.includes(k)) env[k] = v;
  Object.assign(env, spec.env, { [STATE_DIR_ENV]: spec.stateDir });
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  unrefContainer(child);
  if (child.pid !== undefined) writeFileSync(pidFile(spec.stateDir, spec.namespace, spec.pod, spec.container), `${child.pid}\n`);
  return child;
}

/** A container (its process and output pipes) must not keep the daemon's event loop alive on its own. */
export function unrefContainer(child: ChildProcess): void {
  child.unref();
  for (const pipe of [child.stdout, child.stderr]) (pipe as { unref?: () => void } | null)?.unref?.();
}

export function removePidFile(stateDir: string, namespace: string, pod: string, container: string): void {
  rmSync(pidFile(stateDir, namespace, pod, container), { force: true });
}

/** Signals a whole process group; false when it no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function groupAlive(pgid: number): boolean {
  return signalGroup(pgid, 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM to the group, SIGKILL to whatever is left after the grace period. */
export async function stopGroup(pgid: number, graceMs = STOP_GRACE_MS): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (!groupAlive(pgid)) return;
  }
  signalGroup(pgid, 'SIGKILL');
}

/**
 * stopGroup, or just the pid when it does not (yet) lead a group: a process started in a sandbox
 * becomes its group's leader only once `setsid` has run in it.
 */
export async function stopProcess(pid: number, graceMs = STOP_GRACE_MS): Promise<void> {
  if (groupAlive(pid)) return stopGroup(pid, graceMs);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (groupAlive(pid)) return stopGroup(pid, Math.max(0, deadline - Date.now()));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}
