/** Fixtures for API server tests: fake admission checks and a running mesh API on 127.0.0.1:0. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kindInfo } from '../../api/kinds.js';
import type { Plugin, PodTemplateSpec, Resource } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import type { ManifestDocument } from '../api-contract.js';
import { inProcessInjector } from '../controllers/controller-fixtures.js';
import { startControllers, type InjectorClient } from '../controllers/index.js';
import { openStore, type ResourceStore } from '../store/index.js';
import { startApiServer } from './index.js';
import { KubeMeshApi } from '../client/index.js';
import { ApiTransport } from '../api-transport.js';
import { ensureClusterPki, writeKubeconfig, type ClusterPki } from '../pki/index.js';

/** Enough of the validator for these tests: known kind, a name, `spec.invalid` is refused. */
export function fakeValidate(docs: ManifestDocument[], namespace?: string): Resource[] {
  return docs.map((d) => {
    const o = structuredClone(d.object) as unknown as Resource;
    const info = kindInfo(o.kind);
    const where = `document ${d.index} of ${d.source}`;
    if (!info) throw new MeshError('MESH_ERR_KIND_UNKNOWN', `${where}: unknown kind "${o.kind}"`);
    if ((o.spec as { invalid?: unknown } | undefined)?.invalid !== undefined) {
      const problem = { resource: `${o.kind} ${o.metadata.name}`, field: 'spec.invalid', message: 'is not allowed' };
      throw new MeshError('MESH_ERR_MANIFEST_INVALID', `${problem.resource}: spec.invalid: is not allowed`, { problems: [problem] });
    }
    if (info.namespaced) o.metadata.namespace ??= namespace ?? 'default';
    else delete o.metadata.namespace;
    return o;
  });
}

export async function fakeCheckPlugin(plugin: Plugin): Promise<void> {
  if (plugin.spec?.script?.includes('syntax error')) {
    throw new MeshError('MESH_ERR_PLUGIN_COMPILE', `plugins/${plugin.metadata.name}.ts:1:1: syntax error`);
  }
}

export function fakeCheckImages(template: PodTemplateSpec): void {
  for (const c of template.spec.containers) {
    if (c.image === 'unknown/image') throw new MeshError('MESH_ERR_IMAGE_UNSUPPORTED', `container "${c.name}" image "${c.image}": no local runtime`);
  }
}

export interface TestMesh {
  api: KubeMeshApi;
  /** HTTPS to the test server, trusting its cluster CA */
  transport: ApiTransport;
  pki: ClusterPki;
  url: string;
  token: string;
  store: ResourceStore;
  stateDir: string;
  block: number;
  shutdowns: number;
}

/** A mesh API with controllers over a temp state dir; everything is torn down after the test. */
export async function startTestMesh(
  t: { after(fn: () => Promise<void> | void): void },
  opts: { controllers?: boolean; controllerUrl?: string; block?: number; injector?: InjectorClient } = {},
): Promise<TestMesh> {
  const stateDir = mkdtempSync(join(tmpdir(), 'tessera-apiserver-test-'));
  const store = openStore(stateDir);
  const block = opts.block ?? 100 + Math.floor(Math.random() * 150);
  const token = 'test-token';
  const mesh = { shutdowns: 0 } as TestMesh;
  // Meshed pods are admitted by the injector webhook, as in the daemon; here it is served in-process.
  const injector = opts.controllers === false ? undefined : opts.injector ?? await inProcessInjector(t, 'tessera');
  const pki = await ensureClusterPki(stateDir, 'tessera', ['127.0.0.1']);
  const server = await startApiServer({
    ...(injector ? { injector } : {}),
    store, host: '127.0.0.1', port: 0, token, meshName: 'tessera', stateDir, block,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
    onShutdown: () => { mesh.shutdowns++; },
    controllerUrl: opts.controllerUrl ?? 'http://127.0.0.1:9',
    validate: fakeValidate, checkPlugin: fakeCheckPlugin, checkImages: fakeCheckImages,
  });
  // As in the daemon: every pod through the API's admission chain, as the replicaset controller.
  const controllers = opts.controllers === false ? undefined : startControllers({ store, meshName: 'tessera', block, createPod: (pod) => server.createPod(pod) });
  t.after(async () => {
    controllers?.stop();
    await server.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  writeKubeconfig(stateDir, 'tessera', server.url, pki);
  const transport = new ApiTransport(pki.ca.cert);
  t.after(() => transport.close());
  return Object.assign(mesh, { api: new KubeMeshApi({ baseUrl: server.url, token, transport, local: { meshName: 'tessera', stateDir, block, pid: process.pid } }), url: server.url, token, store, stateDir, block, transport, pki });
}

let docIndex = 0;
export function doc(object: Record<string, unknown>): ManifestDocument {
  docIndex++;
  return { source: 'test.yaml', index: docIndex, line: 1, object };
}

export const ns = (name: string, labels?: Record<string, string>, annotations?: Record<string, string>) =>
  doc({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } });

export const configMap = (name: string, namespace: string, labels?: Record<string, string>, data: Record<string, string> = {}) =>
  doc({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data });

export const deploymentDoc = (name: string, namespace: string, replicas = 1, image = 'kennethreitz/httpbin') => doc({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace },
  spec: {
    replicas, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } },
  },
});
