/** Test support: a real SQLite-backed KubeStorage in a temporary directory, objects, bounded waits. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OwnerReference, Resource } from '../../api/types.js';
import { storeBackedStorage } from '../../local/kube/storage.js';
import { openStore } from '../../local/store/index.js';
import type { KubeStorage, StoredEvent } from '../apiserver/index.js';
import { ResourceRegistry, type CrdObject } from '../registry/index.js';
import type { ControllerOptions, RunningController } from './types.js';

export interface Harness {
  storage: KubeStorage;
  registry: ResourceRegistry;
  logs: string[];
  /** every DELETED event, as `Kind/name`, in order */
  deleted: string[];
  options: ControllerOptions;
  /** starts a controller and stops it when the test ends */
  start(fn: (o: ControllerOptions) => RunningController): RunningController;
}

export function harness(t: { after(fn: () => void): void }): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-kube-controllers-'));
  const store = openStore(dir, { compactEvery: 0, synchronous: 'NORMAL' });
  const storage = storeBackedStorage(store);
  const registry = new ResourceRegistry();
  const logs: string[] = [];
  const deleted: string[] = [];
  const stops: (() => void)[] = [];
  const unwatch = storage.watch((e: StoredEvent) => {
    if (e.type === 'DELETED') deleted.push(`${e.object.kind}/${e.object.metadata.name}`);
  });
  t.after(() => {
    for (const stop of stops.reverse()) stop();
    unwatch();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const options: ControllerOptions = { storage, registry, log: (l) => logs.push(l) };
  return {
    storage, registry, logs, deleted, options,
    start(fn) {
      const c = fn(options);
      stops.push(() => c.stop());
      return c;
    },
  };
}

export function ownerRef(owner: Resource, extra: Partial<OwnerReference> & { blockOwnerDeletion?: boolean } = {}): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid!, ...extra };
}

export function obj(apiVersion: string, kind: string, name: string, namespace: string | undefined, meta: Partial<Resource['metadata']> = {}, rest: Partial<Resource> = {}): Resource {
  const metadata: Resource['metadata'] = { name, ...meta };
  if (namespace !== undefined) metadata.namespace = namespace;
  return { apiVersion, kind, metadata, ...rest };
}

export const deployment = (name: string, ns = 'default') => obj('apps/v1', 'Deployment', name, ns, {}, { spec: { replicas: 1 } });
export const pod = (name: string, ns = 'default', meta: Partial<Resource['metadata']> = {}) => obj('v1', 'Pod', name, ns, meta, { spec: { containers: [] } });
export const configMap = (name: string, ns = 'default', meta: Partial<Resource['metadata']> = {}) => obj('v1', 'ConfigMap', name, ns, meta, { data: { k: 'v' } });
export const namespace = (name: string) => obj('v1', 'Namespace', name, undefined, {}, { spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });

export function widgetCrd(group = 'example.com', kind = 'Widget', plural = 'widgets', scope = 'Namespaced'): Resource {
  return obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', `${plural}.${group}`, undefined, {}, {
    spec: { group, scope, names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` }, versions: [{ name: 'v1', served: true, storage: true }] },
  });
}

/** Creates a CRD as the server would have it served: stored, and in the registry. */
export function installCrd(h: Harness, crd: Resource): Resource {
  const stored = h.storage.create(crd);
  h.registry.putCrd(stored as unknown as CrdObject);
  return stored;
}

export const widget = (name: string, ns: string | undefined, meta: Partial<Resource['metadata']> = {}, group = 'example.com', kind = 'Widget') =>
  obj(`${group}/v1`, kind, name, ns, meta, { spec: { size: 1 } });

export function keyOf(o: Resource): { group: string; kind: string; name: string; namespace?: string } {
  const slash = o.apiVersion.indexOf('/');
  const key: { group: string; kind: string; name: string; namespace?: string } = { group: slash < 0 ? '' : o.apiVersion.slice(0, slash), kind: o.kind, name: o.metadata.name };
  if (o.metadata.namespace !== undefined) key.namespace = o.metadata.namespace;
  return key;
}

/** Polls `cond` until it holds; fails after `timeoutMs` with what it was waiting for. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets queued controller work run, then checks `cond` still holds (a "nothing happens" assertion). */
export async function settle(ms = 100): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
