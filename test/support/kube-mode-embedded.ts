/**
 * Kubernetes mode against the embedded API (`tessera up`'s API server) instead of the reference
 * cluster: the real kubectl against the mesh's kubeconfig, ServiceAccount kubeconfigs from the
 * embedded TokenRequest API, and the rendered install split into what the embedded API serves.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';
import { kubectl, kubectlBinaries, type KubectlBinary } from './kubectl.js';
import type { RunResult, TestMesh } from './mesh.js';
import { ok } from './kube-mode.js';

export type Kubectl = (args: string[], input?: string) => Promise<RunResult>;

/** The newest kubectl on the machine against `mesh`, or undefined when there is none. */
export function newestKubectl(mesh: TestMesh): { bin: KubectlBinary; run: Kubectl } | undefined {
  const bin = kubectlBinaries().at(-1);
  if (!bin) return undefined;
  return { bin, run: (args, input) => kubectl(mesh, args, { bin, timeoutMs: 90_000, ...(input !== undefined ? { input } : {}) }) };
}

/** A kubeconfig for a ServiceAccount of the embedded API: a TokenRequest token and the mesh's cluster CA. */
export async function embeddedServiceAccountKubeconfig(mesh: TestMesh, run: Kubectl, namespace: string, sa: string): Promise<{ path: string; token: string }> {
  const token = ok(await run(['create', 'token', sa, '-n', namespace, '--duration=1h']), `create token ${sa}`).trim();
  const admin = parseYaml(await readText(join(mesh.stateDir, 'kubeconfig'))) as { clusters: { cluster: Record<string, string> }[] };
  const cluster = admin.clusters[0]!.cluster;
  const path = join(mesh.stateDir, `${sa}.kubeconfig`);
  writeFileSync(path, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': sa,
    clusters: [{ name: 'embedded', cluster: { server: cluster.server, 'certificate-authority-data': cluster['certificate-authority-data'] } }],
    users: [{ name: sa, user: { token } }],
    contexts: [{ name: sa, context: { cluster: 'embedded', user: sa } }],
  }), { mode: 0o600 });
  return { path, token };
}

async function readText(path: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8');
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}

/** The YAML stream `tessera install --dry-run` prints, as objects. */
export function manifestsOf(yaml: string): Manifest[] {
  return parseAllDocuments(yaml).map((d) => d.toJSON() as Manifest).filter((m) => m && typeof m.kind === 'string');
}

export function yamlOf(list: Manifest[]): string {
  return list.map((m) => stringify(m)).join('---\n');
}
