/** Field and label selector errors, worded as kube-apiserver v1.37.2 words them (measured by test/e2e/differential.test.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { StatusError } from './status.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError);
    assert.equal(e.status.reason, 'BadRequest');
    return e.message;
  }
  assert.fail('expected a BadRequest');
}

test('kinds without a field-label conversion of their own: the default wording', () => {
  assert.equal(refusal(() => parseFieldSelector('data.x=1', '', 'ConfigMap')), '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"');
  assert.equal(refusal(() => parseFieldSelector('spec.replicas=1', 'apps', 'Deployment')), '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"');
  assert.deepEqual(parseFieldSelector('metadata.namespace=a,metadata.name!=b', '', 'ConfigMap'), [
    { field: 'metadata.namespace', op: '=', value: 'a' },
    { field: 'metadata.name', op: '!=', value: 'b' },
  ]);
});

test('kinds with their own conversion accept exactly their fields: "field label not supported"', () => {
  assert.equal(refusal(() => parseFieldSelector('spec.foo=1', '', 'Pod')), 'field label not supported: spec.foo');
  assert.equal(parseFieldSelector('status.phase=Running', '', 'Pod').length, 1);
  assert.equal(parseFieldSelector('type=Opaque', '', 'Secret').length, 1);
  assert.equal(parseFieldSelector('spec.type=ClusterIP,spec.clusterIP=None', '', 'Service').length, 2);
  // a Namespace is selected by name and phase, not by metadata.namespace
  assert.equal(refusal(() => parseFieldSelector('metadata.namespace=x', '', 'Namespace')), 'field label not supported: metadata.namespace');
  assert.equal(parseFieldSelector('status.phase=Active', '', 'Namespace').length, 1);
});

test('custom resources: metadata.name, metadata.namespace when namespaced, else "field label not supported"', () => {
  assert.equal(refusal(() => parseFieldSelector('spec.size=3', 'example.com', 'Widget', { custom: true, namespaced: true })), 'field label not supported: spec.size');
  assert.equal(parseFieldSelector('metadata.namespace=a', 'example.com', 'Widget', { custom: true, namespaced: true }).length, 1);
  assert.equal(refusal(() => parseFieldSelector('metadata.namespace=a', 'example.com', 'Gadget', { custom: true, namespaced: false })), 'field label not supported: metadata.namespace');
});

test('a label selector that does not parse says "unable to parse requirement" once', () => {
  const message = refusal(() => parseLabelSelector('tier in backend'));
  assert.match(message, /^unable to parse requirement: /);
  assert.doesNotMatch(message, /unable to parse requirement: unable to parse requirement/);
});
