/**
 * `tessera dashboard`: serves the mesh's live view on a loopback address (src/dashboard), as the
 * user's own API credentials show it, and opens it in the browser. Runs until SIGINT or SIGTERM.
 * The login URL, with this run's token, is the one line it prints on stdout.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { isLoopbackAddress, newToken } from '../../dashboard/auth/index.js';
import { Collector } from '../../dashboard/collect/index.js';
import { startDashboardServer } from '../../dashboard/server/index.js';
import type { CliDeps } from '../deps.js';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { stateDirOf } from './common.js';

export interface DashboardOptions {
  stateDir: string;
  address: string;
  port: number;
  intervalMs: number;
  open: boolean;
}

interface DashboardFlags {
  port: string;
  address: string;
  open: boolean;
  interval: string;
}

/** The flags checked at the edge: a bad one is named with what it should be. */
export function dashboardOptionsOf(flags: DashboardFlags, stateDir: string): DashboardOptions {
  const port = Number(flags.port);
  if (!/^\d+$/.test(flags.port) || port > 65535) throw new UsageError(`--port ${flags.port}: not a port (0-65535; 0 picks a free one)`);
  if (!isLoopbackAddress(flags.address)) {
    throw new UsageError(`--address ${flags.address}: the dashboard binds to a loopback address only (127.0.0.1, another 127.x.y.z, or ::1); it shows the mesh with your credentials to whoever reaches it`);
  }
  const intervalMs = parseDuration(flags.interval);
  if (!(intervalMs >= 250 && intervalMs <= 60_000)) throw new UsageError(`--interval ${flags.interval}: between 250ms and 1m`);
  return { stateDir, address: flags.address, port, intervalMs, open: flags.open };
}

/** xdg-open, detached; a desktop-less machine is told where to go instead of failing. */
function openBrowser(url: string, deps: CliDeps): void {
  const note = (why: string): void => void deps.stderr.write(`note: could not open a browser (${why}); open the URL above yourself\n`);
  try {
    const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
    child.on('error', (e) => note(e.message));
    child.on('exit', (code) => {
      if (code) note(`xdg-open exited with status ${code}`);
    });
    child.unref();
  } catch (e) {
    note((e as Error).message);
  }
}

function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function runDashboard(opts: DashboardOptions, deps: CliDeps, until: Promise<void> = untilSignal()): Promise<void> {
  const api = await deps.connect(opts.stateDir);
  const collector = new Collector(api, { intervalMs: opts.intervalMs });
  const server = await startDashboardServer({ address: opts.address, port: opts.port, token: newToken(), source: collector });
  // the only place the token is ever written
  deps.stdout.write(`dashboard: ${server.loginUrl}\n`);
  void collector.start();
  if (opts.open) openBrowser(server.loginUrl, deps);
  await until;
  collector.stop();
  await server.close();
}

export function registerDashboard(program: Command, deps: CliDeps): void {
  program
    .command('dashboard')
    .description('Serve a live web view of the mesh (topology, proxies, refusals, resources) on a loopback address and open it')
    .option('--port <n>', 'port to listen on (0: any free one)', '0')
    .option('--address <ip>', 'loopback address to listen on', '127.0.0.1')
    .option('--no-open', 'print the URL but do not open a browser')
    .option('--interval <duration>', 'how often the mesh is read', '1s')
    .action(async (flags: DashboardFlags, cmd: Command) => {
      await runDashboard(dashboardOptionsOf(flags, stateDirOf(cmd, deps)), deps);
    });
}
