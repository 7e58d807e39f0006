import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../../api/types.js';
import { ACCESS_CERT_OWNER_ANNOTATION } from '../../control-plane/access-certs.js';
import type { AdmissionRequest } from '../../kube/apiserver/index.js';
import { builtinResourceTypes } from '../../kube/registry/index.js';
import { checkControllerSecretWrite, controllerUser } from './secret-ownership.js';

const SECRET = builtinResourceTypes().find((t) => t.group === '' && t.kind === 'Secret')!;
const CONFIGMAP = builtinResourceTypes().find((t) => t.group === '' && t.kind === 'ConfigMap')!;
const controller = { username: controllerUser('fsm'), groups: ['system:serviceaccounts'] };
const secret = (namespace: string, name: string, owned = false): Resource => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, ...(owned ? { annotations: { [ACCESS_CERT_OWNER_ANNOTATION]: 'apps/client' } } : {}) },
});
const req = (operation: AdmissionRequest['operation'], object?: Resource, oldObject?: Resource, user = controller): AdmissionRequest => ({
  operation, type: SECRET, dryRun: false, user, ...(object ? { object } : {}), ...(oldObject ? { oldObject } : {}),
});

test('the controller writes the Secrets it issues and its CA bundle, nothing else', () => {
  // its own: AccessCert Secrets (annotated) anywhere, the CA bundle in fsm-system
  checkControllerSecretWrite(req('CREATE', secret('apps', 'client-cert', true)), 'fsm');
  checkControllerSecretWrite(req('UPDATE', secret('apps', 'client-cert', true), secret('apps', 'client-cert', true)), 'fsm');
  checkControllerSecretWrite(req('DELETE', undefined, secret('apps', 'client-cert', true)), 'fsm');
  checkControllerSecretWrite(req('CREATE', secret('fsm-system', 'fsm-ca-bundle')), 'fsm');
  // not its own: a user's Secret, even when the write adds the annotation; a CA bundle elsewhere
  const forbidden = /secrets "db-password" is forbidden: .* may write only the Secrets the mesh controller issues/;
  assert.throws(() => checkControllerSecretWrite(req('UPDATE', secret('apps', 'db-password', true), secret('apps', 'db-password')), 'fsm'), forbidden);
  assert.throws(() => checkControllerSecretWrite(req('DELETE', undefined, secret('apps', 'db-password')), 'fsm'), forbidden);
  assert.throws(() => checkControllerSecretWrite(req('CREATE', secret('apps', 'db-password')), 'fsm'), forbidden);
  assert.throws(() => checkControllerSecretWrite(req('CREATE', secret('apps', 'fsm-ca-bundle')), 'fsm'), /forbidden/);
});

test('other users and other kinds are not this rule\'s business (RBAC decides for them)', () => {
  const admin = { username: 'tessera-admin', groups: ['system:masters'] };
  checkControllerSecretWrite(req('DELETE', undefined, secret('apps', 'db-password'), admin), 'fsm');
  checkControllerSecretWrite({ ...req('CREATE', secret('apps', 'x')), type: CONFIGMAP }, 'fsm');
  // another mesh's controller is an ordinary user for this mesh
  checkControllerSecretWrite(req('CREATE', secret('apps', 'x'), undefined, { username: controllerUser('other'), groups: [] }), 'fsm');
});
