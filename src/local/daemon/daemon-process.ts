/** Telling whether the daemon named in mesh.json is alive and really ours, and waiting for it to go. */
import { processExists } from '../../lib/process.js';
import { readFileSync, readlinkSync } from 'node:fs';
import { readMeshFile } from '../mesh-file.js';

export { processExists };

/** The argument the CLI's hidden daemon command is started with. */
export const DAEMON_COMMAND = '__daemon';


/**
 * True when `pid` is a node process running `tessera up` or the hidden daemon command. With a pid
 * taken from our own mesh.json this is the evidence we need before signalling it: a recycled pid
 * belongs to some other program (or is not a tessera lifecycle command).
 */
export function looksLikeDaemon(pid: number): boolean {
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const isNode = exe === process.execPath || /\/node[^/]*$/.test(exe);
    return isNode && (argv.includes(DAEMON_COMMAND) || argv.includes('up'));
  } catch {
    return false;
  }
}

/** The pid of a live daemon for this state directory, or undefined. */
export function liveDaemonPid(stateDir: string): number | undefined {
  let pid: number | undefined;
  try {
    pid = readMeshFile(stateDir)?.pid;
  } catch {
    return undefined; // an unreadable mesh.json names no live daemon
  }
  if (pid === undefined || pid === process.pid) return undefined;
  return processExists(pid) && looksLikeDaemon(pid) ? pid : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true once `pid` is gone, false after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processExists(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}
