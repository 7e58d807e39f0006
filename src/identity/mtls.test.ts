/** Real TLS handshakes on 127.0.0.1 between workloads: identity from the verified cert, refusals, rotation, expiry. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRootCa } from './certificate-authority.js';
import { serviceIdentity, type ServiceIdentity } from './service-identity.js';
import { handshake, issueWorkload, type Workload } from './test-support/fixtures.js';
import { meshClientTlsOptions, meshPermissiveServerTlsOptions, meshServerTlsOptions } from './tls-options.js';
import { TrustBundle } from './trust-bundle.js';
import { BuiltinCertificateProvider } from './builtin-provider.js';
import { reconcileTrustBundle, trustBundleFromConfigMap, trustBundleToConfigMap } from './trust-bundle-store.js';

const ca = await createRootCa({ meshName: 'fsm' });
const bundle = TrustBundle.fromPem(ca.certificatePem);
const api = serviceIdentity('api-service', 'default');
const website = serviceIdentity('website-service', 'default');
const evil = serviceIdentity('evil', 'default');

function material(w: Workload, trust: TrustBundle = bundle) {
  return { privateKeyPem: w.privateKeyPem, chainPem: w.issued.chainPem, trustBundle: trust };
}

function pair(server: Workload, client: Workload, allowed: ServiceIdentity[], trust: { server?: TrustBundle; client?: TrustBundle } = {}) {
  return handshake(meshServerTlsOptions(material(server, trust.server)), meshClientTlsOptions(material(client, trust.client), { allowedIdentities: allowed }));
}

test('mTLS: the server reads the client identity from the verified certificate only', async () => {
  const server = await issueWorkload(ca, api);
  const client = await issueWorkload(ca, website);
  const started = performance.now();
  const r = await pair(server, client, [api]);
  console.log(`# loopback mTLS connection (handshake + reply) ${(performance.now() - started).toFixed(1)} ms`);
  assert.equal(r.clientError, undefined);
  assert.equal(r.ok, true);
  assert.equal(r.serverSawAuthorized, true);
  assert.equal(r.serverSawIdentity, website);
});

test('client refuses a server holding a certificate for the wrong identity', async () => {
  const impostor = await issueWorkload(ca, evil);
  const client = await issueWorkload(ca, website);
  const r = await pair(impostor, client, [api]);
  assert.equal(r.ok, false);
  assert.equal((r.clientError as { code?: string } | undefined)?.code, 'MESH_ERR_PEER_IDENTITY_REJECTED');
  assert.match(r.clientError!.message, /evil\.default is not one of the destination's identities: api-service\.default/);
});

test('a certificate from another CA is refused on both sides', async () => {
  const foreignCa = await createRootCa({ meshName: 'fsm' }); // same subject name, different key
  const server = await issueWorkload(ca, api);
  const foreignClient = await issueWorkload(foreignCa, website);
  const r1 = await pair(server, foreignClient, [api]);
  assert.equal(r1.ok, false);
  assert.equal(r1.serverAccepted, false, 'server refuses the client certificate');
  assert.equal(r1.serverSawIdentity, undefined);

  const foreignServer = await issueWorkload(foreignCa, api);
  const client = await issueWorkload(ca, website);
  const r2 = await pair(foreignServer, client, [api]);
  assert.equal(r2.ok, false);
  assert.match(String((r2.clientError as { code?: string }).code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_SIGNATURE_FAILURE|UNABLE_TO_GET_ISSUER_CERT/);
});

test('a client without a certificate is refused (client certificate required)', async () => {
  const server = await issueWorkload(ca, api);
  const r = await handshake(meshServerTlsOptions(material(server)), { ca: bundle.pems(), checkServerIdentity: () => undefined });
  assert.equal(r.ok, false);
  assert.equal(r.serverAccepted, false);
  assert.equal(r.serverSawIdentity, undefined);
});

test('expired certificates are refused', async () => {
  const longAgo = new Date(Date.now() - 48 * 3_600_000);
  const expiredClient = await issueWorkload(ca, website, { now: longAgo, ttlMs: 3_600_000 });
  const server = await issueWorkload(ca, api);
  const r1 = await pair(server, expiredClient, [api]);
  assert.equal(r1.ok, false);
  assert.equal(r1.serverAccepted, false, 'the strict listener drops the connection during the handshake');
  // A listener that admits unverified clients (for AccessControl) sees why, and gives no identity.
  const r1b = await handshake(meshPermissiveServerTlsOptions(material(server)), meshClientTlsOptions(material(expiredClient), { allowedIdentities: [api] }));
  assert.equal(r1b.serverAccepted, true);
  assert.equal(r1b.serverSawAuthorized, false);
  assert.equal(r1b.serverSawAuthorizationError, 'CERT_HAS_EXPIRED');
  assert.equal(r1b.serverSawIdentity, undefined);

  const expiredServer = await issueWorkload(ca, api, { now: longAgo, ttlMs: 3_600_000 });
  const client = await issueWorkload(ca, website);
  const r2 = await pair(expiredServer, client, [api]);
  assert.equal(r2.ok, false);
  assert.equal((r2.clientError as { code?: string }).code, 'CERT_HAS_EXPIRED');
});

test('root rotation: a bundle with old and new roots (same subject) accepts certificates from both', async () => {
  const oldCa = ca;
  const newCa = await createRootCa({ meshName: 'fsm' });
  // What the control plane does after the Secret is deleted and it restarts: the stored bundle
  // still holds the old root; the new one is added in front.
  const stored = trustBundleFromConfigMap(trustBundleToConfigMap(TrustBundle.fromPem(oldCa.certificatePem), { meshName: 'fsm' }));
  const rotating = reconcileTrustBundle(stored, newCa.certificatePem, new Date());
  assert.equal(rotating.roots.length, 2);
  const provider = new BuiltinCertificateProvider(newCa, { previousRoots: rotating });
  assert.equal(provider.trustBundle().roots.length, 2);
  assert.equal(provider.trustBundle().roots[0]!.pem, newCa.certificatePem);

  const oldServer = await issueWorkload(oldCa, api);
  const newServer = await issueWorkload(newCa, api);
  const oldClient = await issueWorkload(oldCa, website);
  const newClient = await issueWorkload(newCa, website);
  const both = { server: rotating, client: rotating };
  for (const [s, c] of [
    [oldServer, newClient],
    [newServer, oldClient],
    [newServer, newClient],
    [oldServer, oldClient],
  ] as const) {
    const r = await pair(s, c, [api], both);
    assert.equal(r.clientError, undefined);
    assert.equal(r.ok, true);
    assert.equal(r.serverSawIdentity, website);
  }
  // Without the old root, a new-only peer refuses an old certificate: this is the seed's downtime.
  const newOnly = TrustBundle.fromPem(newCa.certificatePem);
  const r = await pair(oldServer, newClient, [api], { server: rotating, client: newOnly });
  assert.equal(r.ok, false);

  // End of rotation: retire the old root.
  provider.retireRoot(provider.trustBundle().roots[1]!.fingerprint);
  assert.equal(provider.trustBundle().roots.length, 1);
});
