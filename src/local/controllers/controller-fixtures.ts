/** Fixtures for controller tests: a temp store, a fake pod status writer, an injector, waiting for quiet. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Deployment, Namespace, Pod, Resource } from '../../api/types.js';
import { createInjectorServer } from '../../injector/server.js';
import { openStore, type ResourceStore } from '../store/index.js';
import { httpInjectorClient, type InjectorClient } from './injector-client.js';

export function tempStateDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-controllers-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function tempStore(t: { after(fn: () => void): void }): { store: ResourceStore; dir: string } {
  const dir = tempStateDir(t);
  return { store: openStore(dir), dir };
}

/** Resolves once the store has seen no change for `quietMs`. */
export async function settle(store: ResourceStore, quietMs = 30, maxMs = 5000): Promise<void> {
  const start = Date.now();
  let last = store.revision;
  let quietSince = Date.now();
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 5));
    if (store.revision !== last) {
      last = store.revision;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) return;
  }
  throw new Error('store did not settle');
}

/** Plays the runtime supervisor: marks every new pod Running and Ready (keeping its podIP). */
export function fakeReadyWriter(store: ResourceStore): () => void {
  return store.watch((e) => {
    if (e.type !== 'ADDED' || e.object.kind !== 'Pod') return;
    const pod = e.object as Pod;
    setImmediate(() => {
      if (!store.get({ kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name })) return;
      store.updateStatus({ kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name }, {
        ...pod.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }],
      });
    });
  });
}

export function namespace(name: string, labels?: Record<string, string>, annotations?: Record<string, string>): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } };
}

export function deployment(name: string, ns: string, replicas: number, podAnnotations?: Record<string, string>): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: podAnnotations },
        spec: { containers: [{ name, image: 'kennethreitz/httpbin' }] },
      },
    },
  };
}

export function pods(store: ResourceStore, ns: string): Pod[] {
  return store.list('Pod', ns) as Pod[];
}

export function put(store: ResourceStore, ...objects: Resource[]): void {
  store.transact(objects.map((object) => ({ op: 'put' as const, object })));
}

export async function waitFor(what: string, fn: () => boolean, maxMs = 10_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The injector webhook served in this process on 127.0.0.1, and a client for it; both closed after the test. */
export async function inProcessInjector(t: { after(fn: () => unknown): void }, meshName: string): Promise<InjectorClient> {
  const token = 'controllers-test-token';
  const server = createInjectorServer({ meshName, token });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = httpInjectorClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token });
  t.after(async () => {
    client.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return client;
}
