/** `tessera exec POD -- CMD ARGS...`: runs CMD on this machine with the pod's environment (its sidecar as HTTP proxy). */
import { spawn, type StdioOptions } from 'node:child_process';
import { runInPod } from '../../local/sandbox/index.js';
import { execMounts, loadPodSandbox, withoutProxyVariables } from '../../local/runtime/pod-network.js';
import { SIDECAR_CONTAINER_NAME } from '../../local/controllers/well-known.js';
import type { Command } from 'commander';
import { CliExit, type CliDeps } from '../deps.js';
import { UsageError } from '../errors.js';
import { namespaceOf, podNameArg, stateDirOf } from './common.js';

export interface ExecOptions {
  stateDir: string;
  pod: string;
  command: string[];
  namespace?: string;
  container?: string;
  /** `-i`: pass stdin through; without it the child gets none, as with kubectl */
  stdin?: boolean;
}

/**
 * The child's environment: ours, minus inherited no_proxy (it would let traffic bypass the
 * sidecar), with the pod's variables on top.
 */
export function execEnvironment(base: Record<string, string | undefined>, podEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v !== undefined && k !== 'no_proxy' && k !== 'NO_PROXY') env[k] = v;
  }
  return Object.assign(env, podEnv);
}

/** 128+N for a child killed by signal N, as shells report it. */
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };

export async function runExec(opts: ExecOptions, deps: CliDeps): Promise<void> {
  if (opts.command.length === 0) throw new UsageError('you must specify at least one command for the container');
  const namespace = opts.namespace ?? 'default';
  const pod = podNameArg(opts.pod);
  const api = await deps.connect(opts.stateDir);
  const info = await api.podInfo(namespace, pod);
  if (opts.container && !info.containers.includes(opts.container)) {
    throw new UsageError(`container ${opts.container} is not valid for pod ${pod}; choose one of: [${info.containers.join(' ')}]`);
  }
  const [file, ...args] = opts.command as [string, ...string[]];
  const stdinMode = opts.stdin ? 'inherit' : 'ignore';
  const stdio: StdioOptions = deps.inheritStdio ? [stdinMode, 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'];
  // Namespace mode: inside the pod (its network and mount namespaces, the app's uid, the volumes of
  // the container: the one named, else the first that is not the sidecar, as kubectl defaults), no proxy variables.
  const inPod = loadPodSandbox(opts.stateDir, namespace, pod);
  const container = opts.container ?? info.containers.find((c) => c !== SIDECAR_CONTAINER_NAME);
  const child = inPod
    ? runInPod(inPod.sandbox, opts.command, {
      uid: inPod.record.appUid, env: { PATH: deps.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp', ...withoutProxyVariables(info.env) },
      mounts: execMounts(inPod.record, container), stdio,
    })
    : spawn(file, args, { cwd: deps.cwd, env: execEnvironment(deps.env, info.env), stdio });
  child.stdout?.setEncoding('utf8').on('data', (s: string) => deps.stdout.write(s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => deps.stderr.write(s));
  // Ctrl-C reaches the child too (same process group); stay alive to report its exit status
  const ignoreSignal = (): void => {};
  if (deps.inheritStdio) process.on('SIGINT', ignoreSignal);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new Error(`exec: "${file}": executable file not found in $PATH`) : e);
    });
    child.on('close', (status, signal) => resolve(status ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 1)));
  }).finally(() => process.off('SIGINT', ignoreSignal));
  if (code !== 0) throw new CliExit(code);
}

export function registerExec(program: Command, deps: CliDeps): void {
  program
    .command('exec')
    .description("Run a command in a pod: inside its sandbox (namespace mode), or here with the pod's sidecar as its HTTP proxy (loopback mode)")
    .argument('<pod>', 'POD or pod/NAME')
    .argument('[command...]', 'command and arguments, after --')
    .option('-n, --namespace <ns>', 'namespace')
    .option('-c, --container <name>', 'container (checked; in namespace mode its volumes are mounted)')
    .option('-i, --stdin', 'pass stdin to the command')
    .option('-t, --tty', 'accepted for kubectl compatibility')
    .action(async (pod: string, command: string[], o: { container?: string; stdin?: boolean }, cmd: Command) => {
      await runExec({ stateDir: stateDirOf(cmd, deps), pod, command, namespace: namespaceOf(cmd), container: o.container, stdin: o.stdin }, deps);
    });
}
