/** `tessera namespace add|remove|list`: FSM's mesh-membership verbs, as labels and an annotation on the Namespace. */
import type { Command } from 'commander';
import { MONITORED_BY_LABEL, OSM_MONITORED_BY_LABEL, SIDECAR_INJECTION_ANNOTATION } from '../../api/types.js';
import type { MeshApi } from '../../local/api-contract.js';
import type { CliDeps } from '../deps.js';
import { formatTable } from '../output/table.js';
import { stateDirOf } from './common.js';

export interface NamespaceAddOptions {
  stateDir: string;
  namespaces: string[];
  meshName?: string;
  disableSidecarInjection?: boolean;
}

export interface NamespaceRemoveOptions {
  stateDir: string;
  namespace: string;
  meshName?: string;
}

export interface NamespaceListOptions {
  stateDir: string;
  meshName?: string;
}

async function meshNameOf(api: MeshApi, explicit: string | undefined): Promise<string> {
  return explicit ?? (await api.status()).meshName;
}

/** The merge patch that joins a namespace to `mesh` (both label spellings, so FSM and OSM selectors match). */
export function joinPatch(mesh: string, injection: boolean): unknown {
  return {
    metadata: {
      labels: { [MONITORED_BY_LABEL]: mesh, [OSM_MONITORED_BY_LABEL]: mesh },
      annotations: { [SIDECAR_INJECTION_ANNOTATION]: injection ? 'enabled' : 'disabled' },
    },
  };
}

/** Null in a merge patch deletes the key. */
export const LEAVE_PATCH = {
  metadata: {
    labels: { [MONITORED_BY_LABEL]: null, [OSM_MONITORED_BY_LABEL]: null },
    annotations: { [SIDECAR_INJECTION_ANNOTATION]: null },
  },
};

export async function runNamespaceAdd(opts: NamespaceAddOptions, deps: CliDeps): Promise<void> {
  const api = await deps.connect(opts.stateDir);
  const mesh = await meshNameOf(api, opts.meshName);
  for (const ns of opts.namespaces) {
    const current = (await api.get('Namespace', ns)).metadata.labels?.[MONITORED_BY_LABEL];
    if (current && current !== mesh) {
      throw new Error(`Namespace [${ns}] already has [${MONITORED_BY_LABEL}] label set to [${current}]. Use 'tessera namespace remove ${ns} --mesh-name ${current}' first`);
    }
    await api.patch('Namespace', ns, undefined, joinPatch(mesh, !opts.disableSidecarInjection));
    deps.stdout.write(`Namespace [${ns}] successfully added to mesh [${mesh}]\n`);
  }
}

export async function runNamespaceRemove(opts: NamespaceRemoveOptions, deps: CliDeps): Promise<void> {
  const api = await deps.connect(opts.stateDir);
  const mesh = await meshNameOf(api, opts.meshName);
  const current = (await api.get('Namespace', opts.namespace)).metadata.labels?.[MONITORED_BY_LABEL];
  if (!current) {
    // FSM reports this without failing
    deps.stdout.write(`Namespace [${opts.namespace}] already does not belong to any mesh\n`);
    return;
  }
  if (current !== mesh) throw new Error(`Namespace belongs to mesh [${current}], not mesh [${mesh}]. Please specify the correct mesh`);
  await api.patch('Namespace', opts.namespace, undefined, LEAVE_PATCH);
  deps.stdout.write(`Namespace [${opts.namespace}] successfully removed from mesh [${mesh}]\n`);
}

export async function runNamespaceList(opts: NamespaceListOptions, deps: CliDeps): Promise<void> {
  const api = await deps.connect(opts.stateDir);
  const selector = opts.meshName ? `${MONITORED_BY_LABEL}=${opts.meshName}` : MONITORED_BY_LABEL;
  const namespaces = await api.list({ kind: 'Namespace', labelSelector: selector });
  if (namespaces.length === 0) {
    deps.stdout.write(opts.meshName ? `No namespace in mesh [${opts.meshName}]\n` : 'No namespace in any mesh\n');
    return;
  }
  const rows = namespaces.map((ns) => [
    ns.metadata.name,
    ns.metadata.labels?.[MONITORED_BY_LABEL] ?? '',
    ns.metadata.annotations?.[SIDECAR_INJECTION_ANNOTATION] ?? '-',
  ]);
  deps.stdout.write(formatTable(['NAMESPACE', 'MESH', 'SIDECAR-INJECTION'], rows));
}

export function registerNamespace(program: Command, deps: CliDeps): void {
  const namespace = program.command('namespace').alias('ns').description('Manage which namespaces belong to the mesh');
  namespace
    .command('add')
    .description('Add namespaces to the mesh and enable sidecar injection')
    .argument('<namespaces...>', 'namespace names')
    .option('--mesh-name <name>', 'mesh to join (default: the running mesh)')
    .option('--disable-sidecar-injection', 'join without injecting sidecars')
    .action(async (namespaces: string[], o: { meshName?: string; disableSidecarInjection?: boolean }, cmd: Command) => {
      await runNamespaceAdd({ stateDir: stateDirOf(cmd, deps), namespaces, ...o }, deps);
    });
  namespace
    .command('remove')
    .description('Remove a namespace from the mesh')
    .argument('<namespace>', 'namespace name')
    .option('--mesh-name <name>', 'mesh to leave (default: the running mesh)')
    .action(async (ns: string, o: { meshName?: string }, cmd: Command) => {
      await runNamespaceRemove({ stateDir: stateDirOf(cmd, deps), namespace: ns, ...o }, deps);
    });
  namespace
    .command('list')
    .alias('ls')
    .description('List the namespaces in a mesh')
    .option('--mesh-name <name>', 'only this mesh')
    .action(async (o: { meshName?: string }, cmd: Command) => {
      await runNamespaceList({ stateDir: stateDirOf(cmd, deps), ...o }, deps);
    });
}
