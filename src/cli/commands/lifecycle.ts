/** `tessera up|down|__daemon`: start, stop and (hidden) run the local mesh daemon. */
import type { Command } from 'commander';
import { isAbsolute, resolve } from 'node:path';
import { CliExit, type CliDeps } from '../deps.js';
import { collectList, stateDirOf } from './common.js';
import { addOidcFlags } from './oidc-flags.js';
import { logRotationOf, type LogRotation } from '../../local/container-log/index.js';

export const DEFAULT_MESH_NAME = 'tessera';

export interface UpCommandOptions {
  stateDir: string;
  meshName: string;
  files: string[];
  detach: boolean;
  /** a quickstart directory: hand everything to runQuickstart instead */
  quickstart?: string;
  /** --pod-network namespace|loopback|auto */
  podNetwork?: string;
  /** --container-log-max-size / --container-log-max-files as given */
  containerLogMaxSize?: string;
  containerLogMaxFiles?: string;
}

/** The rotation the kubelet's flags ask for; undefined when neither is given (the daemon's defaults). */
function logRotationFlags(o: { containerLogMaxSize?: string; containerLogMaxFiles?: string }): { logRotation?: LogRotation } {
  if (o.containerLogMaxSize === undefined && o.containerLogMaxFiles === undefined) return {};
  return { logRotation: logRotationOf({ maxSize: o.containerLogMaxSize, maxFiles: o.containerLogMaxFiles }) };
}

const LOG_MAX_SIZE_HELP = 'rotate a container\'s log once it reaches this size, a quantity such as 64Ki or 10Mi (default 10Mi, as the kubelet)';
const LOG_MAX_FILES_HELP = 'log files kept per container, the one being written included (default 5, as the kubelet)';

function logTo(deps: CliDeps): (line: string) => void {
  return (line) => deps.stderr.write(line.endsWith('\n') ? line : line + '\n');
}

/** The quickstart reports each step's expected and actual status; any mismatch fails the command. */
function quickstartFailed(result: unknown): boolean {
  if (typeof result === 'number') return result !== 0;
  if (!Array.isArray(result)) return false;
  return result.some((r: { status?: unknown; expected?: unknown }) => r && r.expected !== undefined && r.status !== r.expected);
}

export async function runUp(opts: UpCommandOptions, deps: CliDeps): Promise<void> {
  if (opts.quickstart !== undefined) {
    const dir = isAbsolute(opts.quickstart) ? opts.quickstart : resolve(deps.cwd, opts.quickstart);
    const result = await deps.lifecycle.runQuickstart({ stateDir: opts.stateDir, meshName: opts.meshName, dir });
    if (quickstartFailed(result)) throw new CliExit(1);
    return;
  }
  // the daemon may run elsewhere than our cwd, so hand it absolute paths (stdin and URLs stay as they are)
  const files = opts.files.map((f) => (f === '-' || /^[a-z][a-z0-9+.-]*:\/\//i.test(f) || isAbsolute(f) ? f : resolve(deps.cwd, f)));
  await deps.lifecycle.up({
    stateDir: opts.stateDir, meshName: opts.meshName, files, detach: opts.detach, log: logTo(deps), ...(opts.podNetwork ? { podNetwork: opts.podNetwork } : {}),
    ...logRotationFlags(opts),
  });
}

export async function runDown(opts: { stateDir: string }, deps: CliDeps): Promise<void> {
  await deps.lifecycle.down(opts.stateDir);
}

export async function runDaemonCommand(
  opts: { stateDir: string; meshName: string; podNetwork?: string; containerLogMaxSize?: string; containerLogMaxFiles?: string },
  deps: CliDeps,
): Promise<void> {
  await deps.lifecycle.runDaemon({
    stateDir: opts.stateDir, meshName: opts.meshName, workdir: deps.cwd, log: logTo(deps), ...(opts.podNetwork ? { podNetwork: opts.podNetwork } : {}),
    ...logRotationFlags(opts),
  });
}

const POD_NETWORK_HELP = 'pods as sandboxes with transparent interception (namespace), as loopback processes (loopback), or namespace where possible (auto; default $TESSERA_POD_NETWORK or auto)';

export function registerLifecycle(program: Command, deps: CliDeps): void {
  program
    .command('up')
    .description('Start the control plane and the local workload runner')
    .option('--mesh-name <name>', 'mesh name; the control plane namespace is NAME-system', DEFAULT_MESH_NAME)
    .option('-f, --filename <path>', 'manifests to apply once the mesh is ready (repeatable)', collectList)
    .option('--detach', 'return once the mesh is ready and keep it running in the background')
    .option('--quickstart <dir>', 'start the mesh and run the example in DIR')
    .option('--pod-network <mode>', POD_NETWORK_HELP)
    .option('--container-log-max-size <quantity>', LOG_MAX_SIZE_HELP)
    .option('--container-log-max-files <n>', LOG_MAX_FILES_HELP)
    .action(async (o: { meshName: string; filename?: string[]; detach?: boolean; quickstart?: string; podNetwork?: string; containerLogMaxSize?: string; containerLogMaxFiles?: string }, cmd: Command) => {
      await runUp(
        {
          stateDir: stateDirOf(cmd, deps), meshName: o.meshName, files: o.filename ?? [], detach: o.detach === true, quickstart: o.quickstart,
          ...(o.podNetwork ? { podNetwork: o.podNetwork } : {}),
          ...(o.containerLogMaxSize === undefined ? {} : { containerLogMaxSize: o.containerLogMaxSize }),
          ...(o.containerLogMaxFiles === undefined ? {} : { containerLogMaxFiles: o.containerLogMaxFiles }),
        },
        deps,
      );
    });
  program
    .command('down')
    .description('Stop the mesh and every process it started (state stays on disk)')
    .action(async (_o: unknown, cmd: Command) => {
      await runDown({ stateDir: stateDirOf(cmd, deps) }, deps);
    });
  program
    .command('__daemon', { hidden: true })
    .description('run the mesh daemon in the foreground (started by `up`)')
    .option('--mesh-name <name>', 'mesh name', DEFAULT_MESH_NAME)
    .option('--pod-network <mode>', POD_NETWORK_HELP)
    .option('--container-log-max-size <quantity>', LOG_MAX_SIZE_HELP)
    .option('--container-log-max-files <n>', LOG_MAX_FILES_HELP)
    .action(async (o: { meshName: string; podNetwork?: string; containerLogMaxSize?: string; containerLogMaxFiles?: string }, cmd: Command) => {
      await runDaemonCommand({ stateDir: stateDirOf(cmd, deps), ...o }, deps);
    });
  // kube-apiserver's --oidc-* flags on `up` (issue #13), kept for the daemon
  addOidcFlags(program.commands.find((c) => c.name() === 'up')!, deps);
}
