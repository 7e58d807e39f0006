/** What startWatch lists and watches: every kind by default, or some kinds in one namespace. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KINDS } from '../api/kinds.js';
import { watchedTypes } from './watch.js';

test('every kind cluster-wide by default; named kinds in one namespace when asked', () => {
  assert.equal(watchedTypes({}).length, KINDS.length);
  assert.deepEqual(watchedTypes({ kinds: ['MeshConfig'], namespace: 'tessera-system' }), [
    { apiVersion: 'config.flomesh.io/v1alpha3', plural: 'namespaces/tessera-system/meshconfigs' },
  ]);
  assert.deepEqual(watchedTypes({ kinds: ['MeshConfig'] }), [{ apiVersion: 'config.flomesh.io/v1alpha3', plural: 'meshconfigs' }]);
  assert.throws(() => watchedTypes({ kinds: ['Nope'] }), /unknown kinds Nope/);
  assert.throws(() => watchedTypes({ kinds: ['Namespace'], namespace: 'x' }), /cluster-scoped/);
});
