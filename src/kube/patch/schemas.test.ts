import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { strategicSchemaFor, type StrategicSchema } from './index.js';

function at(schema: StrategicSchema | undefined, path: string): StrategicSchema | undefined {
  let s = schema;
  for (const f of path.split('.')) s = s?.fields?.[f];
  return s;
}

describe('strategicSchemaFor', () => {
  it('describes the Pod spec with the merge keys of k8s.io/api', () => {
    const pod = strategicSchemaFor('', 'Pod');
    const expected: [string, StrategicSchema][] = [
      ['metadata.ownerReferences', { patchStrategy: 'merge', patchMergeKey: 'uid' }],
      ['metadata.finalizers', { patchStrategy: 'merge' }],
      ['spec.volumes', { patchStrategy: 'merge', patchMergeKey: 'name', retainKeys: true }],
      ['spec.imagePullSecrets', { patchStrategy: 'merge', patchMergeKey: 'name' }],
      ['spec.hostAliases', { patchStrategy: 'merge', patchMergeKey: 'ip' }],
      ['spec.containers.env', { patchStrategy: 'merge', patchMergeKey: 'name' }],
      ['spec.containers.ports', { patchStrategy: 'merge', patchMergeKey: 'containerPort' }],
      ['spec.containers.volumeMounts', { patchStrategy: 'merge', patchMergeKey: 'mountPath' }],
      ['spec.containers.volumeDevices', { patchStrategy: 'merge', patchMergeKey: 'devicePath' }],
      ['spec.initContainers.env', { patchStrategy: 'merge', patchMergeKey: 'name' }],
      ['spec.ephemeralContainers.volumeMounts', { patchStrategy: 'merge', patchMergeKey: 'mountPath' }],
      ['status.conditions', { patchStrategy: 'merge', patchMergeKey: 'type' }],
    ];
    for (const [path, schema] of expected) assert.deepEqual(at(pod, path), schema, path);
    assert.equal(at(pod, 'spec.containers')?.patchMergeKey, 'name');
    assert.equal(at(pod, 'spec.tolerations'), undefined);
    assert.equal(at(pod, 'spec.containers.envFrom'), undefined);
  });

  it('describes Deployment spec.template.spec as a PodSpec and spec.strategy as retainKeys', () => {
    const d = strategicSchemaFor('apps', 'Deployment');
    assert.deepEqual(at(d, 'spec.template.spec'), at(strategicSchemaFor('', 'Pod'), 'spec'));
    assert.deepEqual(at(d, 'spec.template.metadata.ownerReferences'), { patchStrategy: 'merge', patchMergeKey: 'uid' });
    assert.deepEqual(at(d, 'spec.strategy'), { retainKeys: true });
    assert.deepEqual(at(d, 'status.conditions'), { patchStrategy: 'merge', patchMergeKey: 'type' });
  });

  it('describes Service, ServiceAccount and Namespace', () => {
    assert.deepEqual(at(strategicSchemaFor('', 'Service'), 'spec.ports'), { patchStrategy: 'merge', patchMergeKey: 'port' });
    assert.deepEqual(at(strategicSchemaFor('', 'ServiceAccount'), 'secrets'), { patchStrategy: 'merge', patchMergeKey: 'name' });
    assert.equal(at(strategicSchemaFor('', 'ServiceAccount'), 'imagePullSecrets'), undefined);
    // NamespaceSpec.finalizers is +listType=atomic without a patchStrategy in k8s.io/api: it is replaced.
    assert.equal(at(strategicSchemaFor('', 'Namespace'), 'spec.finalizers'), undefined);
    assert.deepEqual(at(strategicSchemaFor('', 'Namespace'), 'status.conditions'), { patchStrategy: 'merge', patchMergeKey: 'type' });
  });

  it('knows every built-in kind the server serves, and nothing else', () => {
    for (const [group, kind] of [
      ['', 'Pod'], ['', 'Service'], ['', 'Endpoints'], ['', 'ConfigMap'], ['', 'Secret'], ['', 'ServiceAccount'],
      ['', 'Namespace'], ['', 'Event'], ['apps', 'Deployment'], ['discovery.k8s.io', 'EndpointSlice'],
      ['coordination.k8s.io', 'Lease'], ['apiextensions.k8s.io', 'CustomResourceDefinition'],
      ['rbac.authorization.k8s.io', 'Role'], ['rbac.authorization.k8s.io', 'ClusterRole'],
      ['rbac.authorization.k8s.io', 'RoleBinding'], ['rbac.authorization.k8s.io', 'ClusterRoleBinding'],
      ['admissionregistration.k8s.io', 'MutatingWebhookConfiguration'], ['admissionregistration.k8s.io', 'ValidatingWebhookConfiguration'],
      ['admissionregistration.k8s.io', 'ValidatingAdmissionPolicy'], ['admissionregistration.k8s.io', 'ValidatingAdmissionPolicyBinding'],
    ] as const) {
      assert.deepEqual(at(strategicSchemaFor(group, kind), 'metadata.finalizers'), { patchStrategy: 'merge' }, `${group}/${kind}`);
    }
    assert.equal(strategicSchemaFor('example.com', 'Widget'), undefined);
    assert.equal(strategicSchemaFor('', 'Deployment'), undefined);
    assert.equal(strategicSchemaFor('apps', 'Pod'), undefined);
    assert.equal(strategicSchemaFor('', 'pod'), undefined);
  });

  it('merges webhooks and match conditions by name; RBAC, CRD and policy lists are replaced', () => {
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      const c = strategicSchemaFor('admissionregistration.k8s.io', kind);
      assert.equal(at(c, 'webhooks')?.patchMergeKey, 'name', kind);
      assert.deepEqual(at(c, 'webhooks.matchConditions'), { patchStrategy: 'merge', patchMergeKey: 'name' }, kind);
      assert.equal(at(c, 'webhooks.rules'), undefined, kind);
    }
    const vap = strategicSchemaFor('admissionregistration.k8s.io', 'ValidatingAdmissionPolicy');
    assert.deepEqual(at(vap, 'spec.matchConditions'), { patchStrategy: 'merge', patchMergeKey: 'name' });
    for (const atomic of ['spec.validations', 'spec.variables', 'spec.auditAnnotations', 'spec.matchConstraints', 'status.conditions']) {
      assert.equal(at(vap, atomic), undefined, atomic);
    }
    assert.equal(at(strategicSchemaFor('rbac.authorization.k8s.io', 'ClusterRole'), 'rules'), undefined);
    assert.equal(at(strategicSchemaFor('rbac.authorization.k8s.io', 'RoleBinding'), 'subjects'), undefined);
    assert.equal(at(strategicSchemaFor('apiextensions.k8s.io', 'CustomResourceDefinition'), 'spec.versions'), undefined);
  });

  it('hands out frozen schemas', () => {
    const pod = strategicSchemaFor('', 'Pod')!;
    assert.ok(Object.isFrozen(pod) && Object.isFrozen(pod.fields) && Object.isFrozen(at(pod, 'spec.containers.env')));
  });
});
