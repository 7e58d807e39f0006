/** Root CA creation, the `<mesh>-ca-bundle` Secret round trip, create-if-absent, and the seed's openssl command. */
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { inspect } from 'node:util';
import { test } from 'node:test';
import type { Secret } from '../api/types.js';
import { isMeshError, MeshError } from '../lib/errors.js';
import { caBundleSecretName, caFromSecret, caToSecret, loadOrCreateCa, type SecretStore } from './ca-secret.js';
import { createRootCa } from './certificate-authority.js';
import { opensslText } from './test-support/fixtures.js';

class MemoryStore implements SecretStore {
  readonly secrets = new Map<string, Secret>();
  creates = 0;
  async get(namespace: string, name: string): Promise<Secret | undefined> {
    return this.secrets.get(`${namespace}/${name}`);
  }
  async create(secret: Secret): Promise<Secret> {
    this.creates++;
    const key = `${secret.metadata.namespace}/${secret.metadata.name}`;
    if (this.secrets.has(key)) throw new MeshError('MESH_ERR_ALREADY_EXISTS', `secret ${key} exists`);
    this.secrets.set(key, secret);
    return secret;
  }
}

test('root CA: RSA-2048, 10 years, CN <mesh>-ca.<trustDomain>, CA:TRUE, as openssl prints it', async () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const started = performance.now();
  const ca = await createRootCa({ meshName: 'fsm', now });
  const ms = performance.now() - started;
  const text = opensslText(ca.certificatePem);
  assert.match(text, /Subject: O = Tessera Service Mesh, CN = fsm-ca\.cluster\.local/);
  assert.match(text, /Issuer: O = Tessera Service Mesh, CN = fsm-ca\.cluster\.local/);
  assert.match(text, /Public-Key: \(2048 bit\)/);
  assert.match(text, /CA:TRUE/);
  assert.match(text, /Certificate Sign, CRL Sign/);
  assert.match(text, /Subject Key Identifier/);
  assert.match(text, /Not After : Jan {2}1 00:00:00 2036 GMT/);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  // The private key never prints.
  assert.doesNotMatch(inspect(ca), /BEGIN PRIVATE KEY/);
  assert.doesNotMatch(JSON.stringify({ key: ca.privateKeyPem }), /BEGIN PRIVATE KEY/);
  console.log(`# root CA (RSA-2048) created in ${ms.toFixed(1)} ms`);
});

test('ECDSA P-256 root is available as an option', async () => {
  const ca = await createRootCa({ meshName: 'tessera', keyAlgorithm: 'ECDSA-P256' });
  assert.match(opensslText(ca.certificatePem), /ASN1 OID: prime256v1/);
});

test('Secret round trip: <mesh>-ca-bundle in <mesh>-system with ca.crt and private.key; the seed command reads it', async () => {
  const ca = await createRootCa({ meshName: 'fsm' });
  const secret = caToSecret(ca, { meshName: 'fsm' });
  assert.equal(secret.metadata.name, 'fsm-ca-bundle');
  assert.equal(secret.metadata.namespace, 'fsm-system');
  assert.equal(secret.type, 'Opaque');
  assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ['ca.crt', 'expiration', 'private.key']);
  // Seed 003: `kubectl get secret ... -o jsonpath='{.data.ca\.crt}' | base64 -d | openssl x509 -text -noout`
  const printed = execSync(`printf %s '${secret.data!['ca.crt']}' | base64 -d | openssl x509 -text -noout`, { encoding: 'utf8' });
  assert.match(printed, /CN = fsm-ca\.cluster\.local/);
  const dates = execSync(`printf %s '${secret.data!['ca.crt']}' | base64 -d | openssl x509 -noout -dates`, { encoding: 'utf8' });
  assert.match(dates, /notAfter=/);

  const loaded = await caFromSecret(JSON.parse(JSON.stringify(secret)) as Secret);
  assert.equal(loaded.certificatePem, ca.certificatePem);
  assert.equal(loaded.certificate.serialNumber, ca.certificate.serialNumber);
});

test('caFromSecret refuses a key that does not match the certificate, and missing keys', async () => {
  const a = await createRootCa({ meshName: 'fsm' });
  const b = await createRootCa({ meshName: 'fsm' });
  const mixed = caToSecret(a, { meshName: 'fsm' });
  mixed.data!['private.key'] = caToSecret(b, { meshName: 'fsm' }).data!['private.key']!;
  await assert.rejects(caFromSecret(mixed), (e) => isMeshError(e) && e.code === 'MESH_ERR_CERT_INVALID' && /does not belong/.test(e.message));
  const missing = caToSecret(a, { meshName: 'fsm' });
  delete missing.data!['ca.crt'];
  await assert.rejects(caFromSecret(missing), (e) => isMeshError(e) && e.code === 'MESH_ERR_CERT_INVALID' && /ca\.crt/.test(e.message));
});

test('loadOrCreateCa: creates on first start, loads afterwards, and a lost create race loads the winner', async () => {
  const store = new MemoryStore();
  const first = await loadOrCreateCa(store, { meshName: 'fsm' });
  assert.equal(first.created, true);
  const again = await loadOrCreateCa(store, { meshName: 'fsm' });
  assert.equal(again.created, false);
  assert.equal(again.ca.certificatePem, first.ca.certificatePem);

  // Two replicas race on an empty store: exactly one root wins and both end up with it.
  const racing = new MemoryStore();
  const [x, y] = await Promise.all([loadOrCreateCa(racing, { meshName: 'm' }), loadOrCreateCa(racing, { meshName: 'm' })]);
  assert.equal(x.ca.certificatePem, y.ca.certificatePem);
  assert.equal([x.created, y.created].filter(Boolean).length, 1);
  assert.ok(racing.secrets.has(`m-system/${caBundleSecretName('m')}`));
});
