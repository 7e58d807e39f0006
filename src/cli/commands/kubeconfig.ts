/** `tessera kubeconfig`: the kubeconfig `up` wrote for the local mesh, for kubectl and client libraries. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { MeshError } from '../../lib/errors.js';
import { stateFiles } from '../../local/layout.js';
import type { CliDeps } from '../deps.js';
import { stateDirOf } from './common.js';

export function runKubeconfig(opts: { stateDir: string; path?: boolean }, deps: CliDeps): void {
  const file = resolve(deps.cwd, stateFiles.kubeconfig(opts.stateDir));
  if (!existsSync(file)) {
    throw new MeshError('MESH_ERR_MESH_NOT_RUNNING', `${file} does not exist: run \`tessera up\` first, it writes the kubeconfig`);
  }
  deps.stdout.write(opts.path ? `${file}\n` : readFileSync(file, 'utf8'));
}

export function registerKubeconfig(program: Command, deps: CliDeps): void {
  program
    .command('kubeconfig')
    .description("Print the local mesh's kubeconfig (admin credentials: keep it private); use it with `export KUBECONFIG=$(tessera kubeconfig --path)`")
    .option('--path', 'print only where the file is')
    .action((o: { path?: boolean }, cmd: Command) => {
      runKubeconfig({ stateDir: stateDirOf(cmd, deps), path: o.path }, deps);
    });
}
