/** `tessera rollout restart|status deploy NAME`: restart a deployment's pods, or wait for it to be available. */
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { qualifiedKind } from '../output/names.js';
import { namespaceOf, parseKindAndNames, stateDirOf } from './common.js';

export interface RolloutOptions {
  stateDir: string;
  /** `deploy NAME` or `deployment/NAME` */
  args: string[];
  namespace?: string;
  timeout?: string;
}

function deploymentTarget(args: string[]): { name: string } {
  const { info, names } = parseKindAndNames(args);
  if (info.kind !== 'Deployment') throw new UsageError(`no rollout support for ${info.plural}; only deployments`);
  if (names.length !== 1) throw new UsageError('rollout takes exactly one deployment: deploy NAME or deployment/NAME');
  return { name: names[0]! };
}

export async function runRolloutRestart(opts: RolloutOptions, deps: CliDeps): Promise<void> {
  const { name } = deploymentTarget(opts.args);
  const api = await deps.connect(opts.stateDir);
  const namespace = opts.namespace ?? 'default';
  const r = await api.rolloutRestart('Deployment', name, namespace);
  deps.stdout.write(`${qualifiedKind('Deployment')}/${r.name || name} restarted\n`);
}

export async function runRolloutStatus(opts: RolloutOptions, deps: CliDeps): Promise<void> {
  const { name } = deploymentTarget(opts.args);
  const api = await deps.connect(opts.stateDir);
  const timeoutMs = opts.timeout ? parseDuration(opts.timeout) : 10 * 60_000;
  await api.wait({ kind: 'Deployment', name, namespace: opts.namespace ?? 'default' }, 'available', timeoutMs);
  deps.stdout.write(`deployment "${name}" successfully rolled out\n`);
}

export function registerRollout(program: Command, deps: CliDeps): void {
  const rollout = program.command('rollout').description('Manage the rollout of a deployment');
  rollout
    .command('restart')
    .description("Restart a deployment's pods")
    .argument('<args...>', 'deploy NAME or deployment/NAME')
    .option('-n, --namespace <ns>', 'namespace')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      await runRolloutRestart({ stateDir: stateDirOf(cmd, deps), args, namespace: namespaceOf(cmd) }, deps);
    });
  rollout
    .command('status')
    .description('Wait until a deployment is available')
    .argument('<args...>', 'deploy NAME or deployment/NAME')
    .option('-n, --namespace <ns>', 'namespace')
    .option('--timeout <duration>', 'how long to wait', '10m')
    .action(async (args: string[], o: { timeout?: string }, cmd: Command) => {
      await runRolloutStatus({ stateDir: stateDirOf(cmd, deps), args, namespace: namespaceOf(cmd), timeout: o.timeout }, deps);
    });
}
