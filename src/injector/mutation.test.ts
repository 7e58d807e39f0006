/** The injector's rules, pure: FSM's namespace selector, annotation precedence and values, and the patch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../api/types.js';
import { InvalidInjectionAnnotation, hasSidecar, mustInject, mutatePod } from './mutation.js';
import { webhookCoversNamespace } from './namespace-selector.js';
import type { NamespaceInfo } from './protocol.js';

const MESH = 'fsm';
const monitored = { 'flomesh.io/monitored-by': MESH };
const enabled = { 'flomesh.io/sidecar-injection': 'enabled' };

function pod(annotations?: Record<string, string>, extra: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web-abc', namespace: 'demo', labels: { app: 'web' }, annotations },
    spec: { containers: [{ name: 'web', image: 'kennethreitz/httpbin' }], ...extra },
    status: { podIP: '127.9.1.1' },
  };
}
const ns = (name: string, labels?: Record<string, string>, annotations?: Record<string, string>): NamespaceInfo => ({ name, labels, annotations });

test('the namespace selector: monitored by this mesh, not ignored, not the control plane or Kubernetes', () => {
  assert.equal(webhookCoversNamespace(ns('demo', monitored), MESH), true);
  assert.equal(webhookCoversNamespace(ns('demo'), MESH), false);
  assert.equal(webhookCoversNamespace(ns('demo', { 'flomesh.io/monitored-by': 'other' }), MESH), false);
  assert.equal(webhookCoversNamespace(ns('demo', { ...monitored, 'flomesh.io/ignore': 'true' }), MESH), false);
  assert.equal(webhookCoversNamespace(ns('demo', { ...monitored, 'control-plane': 'x' }), MESH), false);
  assert.equal(webhookCoversNamespace(ns('fsm-system', monitored), MESH), false);
  assert.equal(webhookCoversNamespace(ns('kube-system', monitored), MESH), false);
  assert.equal(webhookCoversNamespace(ns('kube-public', monitored), MESH), false);
});

test('the pod annotation decides when present, else the namespace annotation; values are case-insensitive', () => {
  const meshed = ns('demo', monitored, enabled);
  const labelOnly = ns('demo', monitored);
  assert.equal(mustInject(pod(), meshed, MESH), true);
  assert.equal(mustInject(pod(), ns('demo', monitored, { 'flomesh.io/sidecar-injection': 'Yes' }), MESH), true);
  assert.equal(mustInject(pod(), ns('demo', monitored, { 'flomesh.io/sidecar-injection': 'disabled' }), MESH), false);
  assert.equal(mustInject(pod(), labelOnly, MESH), false, 'a monitored namespace alone does not inject');
  for (const v of ['enabled', 'yes', 'TRUE']) assert.equal(mustInject(pod({ 'flomesh.io/sidecar-injection': v }), labelOnly, MESH), true, v);
  for (const v of ['disabled', 'No', 'false']) assert.equal(mustInject(pod({ 'flomesh.io/sidecar-injection': v }), meshed, MESH), false, v);
  assert.equal(mustInject(pod(enabled), ns('demo', { 'flomesh.io/monitored-by': 'other' }, enabled), MESH), false, 'outside the selector even when asked');
  assert.equal(mustInject(pod(enabled), ns('fsm-system', monitored, enabled), MESH), false);
  assert.equal(mustInject(pod(undefined, { hostNetwork: true } as never), meshed, MESH), false, 'host-network pods are skipped');
});

test('any other annotation value is an error, on the pod or on the namespace', () => {
  assert.throws(() => mustInject(pod({ 'flomesh.io/sidecar-injection': 'maybe' }), ns('demo', monitored, enabled), MESH),
    (e: unknown) => e instanceof InvalidInjectionAnnotation && /for Pod 'web-abc': maybe/.test(e.message));
  assert.throws(() => mustInject(pod(), ns('demo', monitored, { 'flomesh.io/sidecar-injection': 'on' }), MESH),
    (e: unknown) => e instanceof InvalidInjectionAnnotation && /for Namespace 'demo': on/.test(e.message));
  // The pod's valid answer wins before the namespace's value is read.
  assert.equal(mustInject(pod(enabled), ns('demo', monitored, { 'flomesh.io/sidecar-injection': 'on' }), MESH), true);
});

test('the patch: a fresh proxy UUID label and the sidecar container appended; the input is untouched', () => {
  const input = pod();
  const a = mutatePod(input, ns('demo', monitored, enabled), MESH);
  const b = mutatePod(input, ns('demo', monitored, enabled), MESH);
  assert.equal(a.injected, true);
  assert.match(a.pod.metadata.labels!['fsm-proxy-uuid']!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a.pod.metadata.labels!['fsm-proxy-uuid'], b.pod.metadata.labels!['fsm-proxy-uuid']);
  assert.equal(a.pod.metadata.labels!.app, 'web');
  assert.deepEqual(a.pod.spec!.containers, [{ name: 'web', image: 'kennethreitz/httpbin' }, { name: 'sidecar', image: 'tessera/sidecar' }]);
  assert.equal(hasSidecar(a.pod), true);
  assert.equal(hasSidecar(input), false);
  assert.equal(input.metadata.labels!['fsm-proxy-uuid'], undefined);

  const skipped = mutatePod(input, ns('demo', monitored), MESH);
  assert.deepEqual(skipped, { pod: input, injected: false });
  const again = mutatePod(a.pod, ns('demo', monitored, enabled), MESH);
  assert.equal(again.injected, false, 'a pod that has its sidecar is not injected twice');
  assert.equal(again.pod.spec!.containers.length, 2);
});
