/** AccessCert issuance: only while the flag is on, once per spec and bundle, and clean-up of its own Secrets only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource, Secret } from '../api/types.js';
import { ACCESS_CERT_OWNER_ANNOTATION, AccessCertIssuer } from './access-certs.js';

const NOW = new Date('2030-01-01T00:00:00Z');

const meshConfig = (enableAccessCertPolicy: boolean): Resource => ({
  apiVersion: 'config.flomesh.io/v1alpha3',
  kind: 'MeshConfig',
  metadata: { name: 'fsm-mesh-config', namespace: 'fsm-system' },
  spec: { featureFlags: { enableAccessCertPolicy } },
});

const accessCert = (secretName: string): Resource => ({
  apiVersion: 'policy.flomesh.io/v1alpha1',
  kind: 'AccessCert',
  metadata: { name: 'client', namespace: 'ingress' },
  spec: { subjectAltNames: ['client.ingress.cluster.local'], secret: { name: secretName, namespace: 'ingress' } },
});

const orphan: Secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'old-cert', namespace: 'ingress', annotations: { [ACCESS_CERT_OWNER_ANNOTATION]: 'ingress/gone' } },
  data: {},
};
const foreign: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mine', namespace: 'ingress' }, data: {} };

function harness() {
  const applied: string[] = [];
  const deleted: string[] = [];
  const issuer = new AccessCertIssuer({
    meshName: 'fsm',
    now: () => NOW,
    log: { info: () => undefined, warn: () => undefined },
    api: {
      apply: async (docs) => {
        for (const d of docs) applied.push(`${(d.object as unknown as Secret).metadata.namespace}/${(d.object as unknown as Secret).metadata.name}`);
        return [] as never;
      },
      delete: async (_kind, name, namespace) => {
        deleted.push(`${namespace}/${name}`);
        return undefined as never;
      },
    },
    identity: () => ({
      trust: { bundle: ['ROOT'], activeRoot: 'fp' },
      issueAccessCert: async (req) => ({
        secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name: req.secret.name, namespace: req.secret.namespace }, data: {} },
        certificate: { certificatePem: '', chainPem: '', issuingCaPem: '', serialNumber: '01', notBefore: NOW, notAfter: new Date(NOW.getTime() + 3_600_000) },
      }),
    }),
  });
  return { issuer, applied, deleted };
}

test('flag off: nothing issued and nothing deleted, not even Secrets it issued earlier', async () => {
  const { issuer, applied, deleted } = harness();
  issuer.sync([meshConfig(false), accessCert('client-cert'), orphan, foreign]);
  await issuer.reconcile();
  assert.deepEqual(applied, []);
  assert.deepEqual(deleted, []);
});

test('flag on: issues once, deletes only the Secrets it owns whose AccessCert is gone', async () => {
  const { issuer, applied, deleted } = harness();
  issuer.sync([meshConfig(true), accessCert('client-cert'), orphan, foreign]);
  await issuer.reconcile();
  assert.deepEqual(applied, ['ingress/client-cert']);
  assert.deepEqual(deleted, ['ingress/old-cert']);
  await issuer.reconcile();
  assert.deepEqual(applied, ['ingress/client-cert'], 'not issued again while the spec, bundle and renewal time hold');
  issuer.change('MODIFIED', accessCert('other-cert'));
  await issuer.reconcile();
  assert.deepEqual(applied, ['ingress/client-cert', 'ingress/other-cert']);
  assert.deepEqual(deleted, ['ingress/old-cert', 'ingress/client-cert'], 'the Secret the AccessCert no longer names');
});

test('not the leader (canWrite false): nothing issued or deleted; once it leads, the pass writes', async () => {
  const { issuer, applied, deleted } = harness();
  let leading = false;
  issuer.canWrite = () => leading;
  issuer.sync([meshConfig(true), accessCert('client-cert'), orphan]);
  await issuer.reconcile();
  assert.deepEqual(applied, []);
  assert.deepEqual(deleted, []);
  leading = true;
  await issuer.reconcile();
  assert.deepEqual(applied, ['ingress/client-cert']);
  assert.deepEqual(deleted, ['ingress/old-cert']);
});
