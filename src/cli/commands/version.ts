/** `tessera version`: the CLI's version, and the running mesh's name when one answers. */
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';
import { stateDirOf } from './common.js';

export async function runVersion(opts: { stateDir: string; client?: boolean }, deps: CliDeps): Promise<void> {
  deps.stdout.write(`Client Version: v${deps.version}\n`);
  if (opts.client) return;
  // the mesh is optional here: `version` must work before `up`
  try {
    // connecting checked that the mesh answers; its name needs no further call
    const api = await deps.connect(opts.stateDir);
    const status = api.about?.() ?? (await api.status());
    deps.stdout.write(`Mesh: ${status.meshName} (running, api ${status.apiUrl})\n`);
  } catch {
    deps.stdout.write('Mesh: not running\n');
  }
}

export function registerVersion(program: Command, deps: CliDeps): void {
  program
    .command('version')
    .description('Print the version')
    .option('--client', 'only the client version')
    .action(async (o: { client?: boolean }, cmd: Command) => {
      await runVersion({ stateDir: stateDirOf(cmd, deps), client: o.client }, deps);
    });
}
