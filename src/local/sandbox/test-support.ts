/** Helpers for the sandbox tests: probes in pods, their output, and the addon built on demand. */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonPath, originalDestinationAvailable } from './original-dst.js';

export const PROBE = fileURLToPath(new URL('./probe-main.js', import.meta.url));
export const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' };

export interface Landing {
  port?: number;
  local?: string;
  remote?: string;
  uid?: number;
  original?: { address: string; port: number; family: number } | null;
  error?: string;
}

export function output(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Parses a probe's one JSON line; fails with everything the probe printed otherwise. */
export async function landing(child: ChildProcess): Promise<Landing> {
  const r = await output(child);
  try {
    return JSON.parse(r.stdout.trim()) as Landing;
  } catch {
    throw new Error(`probe printed no JSON (exit ${r.code}): stdout=${JSON.stringify(r.stdout)} stderr=${JSON.stringify(r.stderr)}`);
  }
}

export function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`probe not ready in 10s: ${err}`)), 10_000);
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      seen += d;
      if (seen.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`probe exited ${code} before ready: ${err}`));
    });
  });
}

/** Builds native/original-dst with npm's own node-gyp when no build is there yet. */
export function ensureAddon(): void {
  if (originalDestinationAvailable()) return;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'native', 'original-dst', 'binding.gyp'))) {
    if (dirname(dir) === dir) throw new Error('native/original-dst not found above ' + fileURLToPath(import.meta.url));
    dir = dirname(dir);
  }
  const gyp = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const nodedir = existsSync('/usr/include/node/node_api.h') ? ['--nodedir=/usr'] : [];
  const r = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedir, `--directory=${join(dir, 'native', 'original-dst')}`], { encoding: 'utf8' });
  if (r.status !== 0 || !originalDestinationAvailable()) throw new Error(`building the original-dst addon failed: ${r.stderr || r.stdout} (${addonPath()})`);
}
