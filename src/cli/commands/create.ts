/** `tessera create namespace|ns NAME`: a new namespace, failing like kubectl when it already exists. */
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';
import { MeshError } from '../../lib/errors.js';
import { resultLine } from '../output/results.js';
import { isNotFound, stateDirOf } from './common.js';

export interface CreateNamespaceOptions {
  stateDir: string;
  name: string;
}

export async function runCreateNamespace(opts: CreateNamespaceOptions, deps: CliDeps): Promise<void> {
  const api = await deps.connect(opts.stateDir);
  // `apply` would silently accept an existing namespace; `create` must not
  const exists = await api.get('Namespace', opts.name).then(
    () => true,
    (e: unknown) => {
      if (isNotFound(e)) return false;
      throw e;
    },
  );
  if (exists) throw new MeshError('MESH_ERR_ALREADY_EXISTS', `namespaces "${opts.name}" already exists`);
  const doc = { source: 'create namespace', index: 1, line: 1, object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: opts.name } } };
  const results = await api.apply([doc], {});
  deps.stdout.write(results.map((r) => resultLine({ ...r, action: 'created' })).join(''));
}

export function registerCreate(program: Command, deps: CliDeps): void {
  const create = program.command('create').description('Create a resource');
  create
    .command('namespace')
    .alias('ns')
    .description('Create a namespace with the given name')
    .argument('<name>', 'namespace name')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await runCreateNamespace({ stateDir: stateDirOf(cmd, deps), name }, deps);
    });
}
