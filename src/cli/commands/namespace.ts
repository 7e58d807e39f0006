/** `tessera namespace add|remove|list`: FSM's mesh-membership verbs, as labels and an annotation on the Namespace. */
import type { Command } from 'commander';
import { MONITORED_BY_LABEL, OSM_MONITORED_BY_LABEL, SIDECAR_INJECTION_ANNOTATION } from '../../api/types.js';
import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';
import type { MeshApi } from '../../local/api-contract.js';
import { fromKubeconfig } from '../../local/client/kubeconfig.js';
import { stateFiles } from '../../local/layout.js';
import type { CliDeps } from '../deps.js';
import { formatTable } from '../output/table.js';
import { stateDirOf } from './common.js';

/**
 * Where the verbs act: the local mesh of the state directory, or — given `kubeconfig` (from
 * `--kubeconfig`, or KUBECONFIG when no local mesh runs in the state directory) — the cluster of that
 * kubeconfig, where `tessera install` put the mesh (its name from `--mesh-name`, else the one
 * installed mesh).
 */
interface Target {
  stateDir: string;
  kubeconfig?: string;
}

export interface NamespaceAddOptions extends Target {
  stateDir: string;
  namespaces: string[];
  meshName?: string;
  disableSidecarInjection?: boolean;
}

export interface NamespaceRemoveOptions extends Target {
  stateDir: string;
  namespace: string;
  meshName?: string;
}

export interface NamespaceListOptions extends Target {
  stateDir: string;
  meshName?: string;
}

async function connectTo(t: Target, deps: CliDeps): Promise<{ api: MeshApi; kube: boolean }> {
  if (t.kubeconfig) return { api: fromKubeconfig(t.kubeconfig), kube: true };
  return { api: await deps.connect(t.stateDir), kube: false };
}

/** The kubeconfig to use: `--kubeconfig`, else KUBECONFIG when the state directory holds no local mesh. */
export function kubeconfigFor(flag: string | undefined, stateDir: string, env: Record<string, string | undefined>): string | undefined {
  if (flag) return flag;
  const fromEnv = env['KUBECONFIG']?.split(delimiter).find((p) => p !== '');
  return fromEnv && !existsSync(stateFiles.mesh(stateDir)) ? fromEnv : undefined;
}

async function meshNameOf(c: { api: MeshApi; kube: boolean }, explicit: string | undefined): Promise<string> {
  if (explicit) return explicit;
  if (!c.kube) return (await c.api.status()).meshName;
  // On a cluster: the mesh `tessera install` put there (its preset MeshConfig `<mesh>-mesh-config` in `<mesh>-system`).
  let configs: { metadata: { name: string; namespace?: string } }[] = [];
  try {
    configs = await c.api.list({ kind: 'meshconfigs.config.flomesh.io', allNamespaces: true });
  } catch {
    configs = [];
  }
  const meshes = [...new Set(configs.flatMap((mc) => {
    const m = /^(.+)-mesh-config$/.exec(mc.metadata.name);
    return m && mc.metadata.namespace === `${m[1]}-system` ? [m[1]!] : [];
  }))];
  if (meshes.length === 1) return meshes[0]!;
  throw new Error(meshes.length === 0
    ? 'no mesh installed on the cluster of the kubeconfig (tessera install); or name it with --mesh-name'
    : `meshes ${meshes.join(', ')} are installed on the cluster: choose one with --mesh-name`);
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
  const c = await connectTo(opts, deps);
  const { api } = c;
  const mesh = await meshNameOf(c, opts.meshName);
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
  const c = await connectTo(opts, deps);
  const { api } = c;
  const mesh = await meshNameOf(c, opts.meshName);
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
  const { api } = await connectTo(opts, deps);
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

const KUBECONFIG_HELP = 'act on the cluster of this kubeconfig, where `tessera install` put the mesh (default: KUBECONFIG when no local mesh runs)';

function withoutKubeconfig<T extends { kubeconfig?: string }>(o: T): Omit<T, 'kubeconfig'> {
  const { kubeconfig: _k, ...rest } = o;
  return rest;
}

export function registerNamespace(program: Command, deps: CliDeps): void {
  const target = (cmd: Command, flag: string | undefined): Target => {
    const stateDir = stateDirOf(cmd, deps);
    const kubeconfig = kubeconfigFor(flag, stateDir, deps.env);
    return { stateDir, ...(kubeconfig ? { kubeconfig } : {}) };
  };
  const namespace = program.command('namespace').alias('ns').description('Manage which namespaces belong to the mesh');
  namespace
    .command('add')
    .description('Add namespaces to the mesh and enable sidecar injection')
    .argument('<namespaces...>', 'namespace names')
    .option('--mesh-name <name>', 'mesh to join (default: the running mesh)')
    .option('--disable-sidecar-injection', 'join without injecting sidecars')
    .option('--kubeconfig <path>', KUBECONFIG_HELP)
    .action(async (namespaces: string[], o: { meshName?: string; disableSidecarInjection?: boolean; kubeconfig?: string }, cmd: Command) => {
      await runNamespaceAdd({ ...target(cmd, o.kubeconfig), namespaces, ...withoutKubeconfig(o) }, deps);
    });
  namespace
    .command('remove')
    .description('Remove a namespace from the mesh')
    .argument('<namespace>', 'namespace name')
    .option('--mesh-name <name>', 'mesh to leave (default: the running mesh)')
    .option('--kubeconfig <path>', KUBECONFIG_HELP)
    .action(async (ns: string, o: { meshName?: string; kubeconfig?: string }, cmd: Command) => {
      await runNamespaceRemove({ ...target(cmd, o.kubeconfig), namespace: ns, ...withoutKubeconfig(o) }, deps);
    });
  namespace
    .command('list')
    .alias('ls')
    .description('List the namespaces in a mesh')
    .option('--mesh-name <name>', 'only this mesh')
    .option('--kubeconfig <path>', KUBECONFIG_HELP)
    .action(async (o: { meshName?: string; kubeconfig?: string }, cmd: Command) => {
      await runNamespaceList({ ...target(cmd, o.kubeconfig), ...withoutKubeconfig(o) }, deps);
    });
}
