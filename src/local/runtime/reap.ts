/**
 * Cleans up after a daemon that died without stopping its pods: every pid file under the state
 * directory whose process provably belongs to this state directory (its /proc/PID/environ carries
 * our TESSERA_STATE_DIR) gets its process group stopped. Anything we cannot prove is ours is left alone.
 */
import { processExists } from '../../lib/process.js';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { STATE_DIR_ENV, STOP_GRACE_MS, stopGroup } from './processes.js';

/** Returns the pids it stopped. */
export async function reapStale(stateDir: string): Promise<number[]> {
  const dir = resolve(stateDir);
  const stopped: Promise<void>[] = [];
  const pids: number[] = [];
  for (const file of pidFiles(join(dir, 'pods'))) {
    const pid = readPid(file);
    if (pid !== undefined && pid !== process.pid) {
      if (isOurs(pid, dir)) {
        pids.push(pid);
        // Each container was spawned detached, so it leads its own group; otherwise stop just the pid.
        stopped.push(processGroupOf(pid) === pid ? stopGroup(pid) : stopPid(pid));
      } else if (!processExists(pid)) {
        // The leader is gone but its children (a shell's) may live on in its group; each must prove itself.
        for (const member of groupMembers(pid)) {
          if (isOurs(member, dir)) {
            pids.push(member);
            stopped.push(stopPid(member));
          }
        }
      }
    }
    rmSync(file, { force: true });
  }
  await Promise.all(stopped);
  return pids;
}

/** True only when the process's initial environment names exactly this state directory. */
export function isOurs(pid: number, stateDir: string): boolean {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    return environ.split('\0').includes(`${STATE_DIR_ENV}=${resolve(stateDir)}`);
  } catch {
    return false; // gone, or not ours to read
  }
}

function processGroupOf(pid: number): number | undefined {
  try {
    // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may contain spaces, so split after ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[2]);
  } catch {
    return undefined;
  }
}


/** Live processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  return safeReaddir('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => processGroupOf(pid) === pgid);
}

/** SIGTERM one process, SIGKILL it if it is still there after the grace period. */
async function stopPid(pid: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (Date.now() < deadline && processExists(pid)) await new Promise((r) => setTimeout(r, 50));
  if (processExists(pid)) signal('SIGKILL');
}

function* pidFiles(podsDir: string): Generator<string> {
  for (const ns of safeReaddir(podsDir)) {
    for (const pod of safeReaddir(join(podsDir, ns))) {
      for (const f of safeReaddir(join(podsDir, ns, pod))) if (f.endsWith('.pid')) yield join(podsDir, ns, pod, f);
    }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}
