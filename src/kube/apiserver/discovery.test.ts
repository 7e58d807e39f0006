/** Discovery documents as kube-apiserver v1.37.2 writes them (measured by test/e2e/differential.test.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResourceRegistry, type CrdObject } from '../registry/index.js';
import { apiResourceList, discoveryVerbs, storageVersionHash } from './discovery.js';

const WIDGETS = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wdg'] },
    versions: [
      { name: 'v1beta1', served: true, storage: false, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object' } } },
      { name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object' } } },
    ],
  },
} as unknown as CrdObject;

test('storageVersionHash: 8 bytes of SHA-256 over group/storage-version/kind, padded base64 (values kube-apiserver serves)', () => {
  const registry = new ResourceRegistry();
  registry.putCrd(WIDGETS);
  const configmaps = registry.lookup({ group: '', version: 'v1', resource: 'configmaps' })!;
  assert.equal(storageVersionHash(configmaps), 'qFsyl6wFWjQ=');
  const widgets = registry.lookup({ group: 'example.com', version: 'v1beta1', resource: 'widgets' })!;
  // the storage version's hash at every served version
  assert.equal(storageVersionHash(widgets), 'gIwvi5rymmg=');
});

test('a custom resource lists its verbs in kube-apiserver\'s order; built-in kinds keep theirs (sorted)', () => {
  const registry = new ResourceRegistry();
  registry.putCrd(WIDGETS);
  const widgets = registry.lookup({ group: 'example.com', version: 'v1', resource: 'widgets' })!;
  assert.deepEqual(discoveryVerbs(widgets), ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch']);
  const configmaps = registry.lookup({ group: '', version: 'v1', resource: 'configmaps' })!;
  assert.deepEqual(discoveryVerbs(configmaps), ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
  const list = apiResourceList(registry, 'example.com', 'v1') as { resources: { name: string; verbs: string[]; storageVersionHash?: string }[] };
  assert.deepEqual(list.resources.map((r) => [r.name, r.verbs.join(','), r.storageVersionHash]), [
    ['widgets', 'delete,deletecollection,get,list,patch,create,update,watch', 'gIwvi5rymmg='],
    ['widgets/status', 'get,patch,update', undefined],
  ]);
});
