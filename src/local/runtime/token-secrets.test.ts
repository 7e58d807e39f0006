/**
 * The token controller's Secrets: filled once the ServiceAccount exists, and their token is bound to
 * the Secret — it authenticates as the ServiceAccount only while that Secret exists, unreplaced,
 * holding that very token.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Resource } from '../../api/types.js';
import { ServiceAccountTokens } from '../../kube/auth/index.js';
import { stateFiles } from '../layout.js';
import { ensureServiceAccountKey } from '../pki/sa-key.js';
import { openStore } from '../store/index.js';
import { fillTokenSecret } from './token-secrets.js';

const NS = 'fsm-system';

test('a service-account-token Secret is filled for its ServiceAccount; the token lives and dies with the Secret', (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tessera-token-secrets-'));
  const store = openStore(stateDir, { compactEvery: 0 });
  t.after(() => {
    store.close?.();
    rmSync(stateDir, { recursive: true, force: true });
  });
  mkdirSync(join(stateDir, 'pki'), { recursive: true });
  writeFileSync(stateFiles.apiCa(stateDir), '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
  const deps = { store, stateDir, block: 9, log: () => undefined };
  const secretObject = (name: string, annotations: Record<string, string>): Resource => ({
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name, namespace: NS, annotations },
  } as Resource);
  store.transact([{ op: 'create', object: secretObject('ctl-token', { 'kubernetes.io/service-account.name': 'ctl' }) }]);
  const stored = (): Resource & { data?: Record<string, string> } => store.get({ kind: 'Secret', namespace: NS, name: 'ctl-token' }) as Resource & { data?: Record<string, string> };

  assert.equal(fillTokenSecret(deps, stored()), undefined, 'no ServiceAccount yet: nothing to write');
  store.transact([{ op: 'create', object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ctl', namespace: NS } } }]);
  const sa = store.get({ kind: 'ServiceAccount', namespace: NS, name: 'ctl' })!;
  const filled = fillTokenSecret(deps, stored()) as Resource & { data: Record<string, string> };
  assert.ok(filled);
  assert.equal(filled.metadata.annotations?.['kubernetes.io/service-account.uid'], sa.metadata.uid);
  assert.equal(Buffer.from(filled.data.namespace!, 'base64').toString(), NS);
  assert.match(Buffer.from(filled.data['ca.crt']!, 'base64').toString(), /BEGIN CERTIFICATE/);
  store.transact([{ op: 'put', object: filled }]);
  assert.equal(fillTokenSecret(deps, stored()), undefined, 'a Secret with a token is left alone');

  const tokens = new ServiceAccountTokens(ensureServiceAccountKey(stateDir), { get: (k) => store.get({ kind: k.kind, name: k.name, ...(k.namespace ? { namespace: k.namespace } : {}) }) });
  const token = Buffer.from(stored().data!.token!, 'base64').toString();
  assert.equal(tokens.authenticate(token)?.username, `system:serviceaccount:${NS}:ctl`);
  // another token written into the Secret: the first one no longer authenticates
  store.transact([{ op: 'put', object: { ...stored(), data: { ...stored().data, token: Buffer.from('other').toString('base64') } } as Resource }]);
  assert.equal(tokens.authenticate(token), undefined);
  store.transact([{ op: 'put', object: { ...stored(), data: { ...stored().data, token: Buffer.from(token).toString('base64') } } as Resource }]);
  assert.ok(tokens.authenticate(token));
  // deleted, or replaced by a Secret of the same name: refused
  store.transact([{ op: 'delete', key: { kind: 'Secret', namespace: NS, name: 'ctl-token' } }]);
  assert.equal(tokens.authenticate(token), undefined);
  store.transact([{ op: 'create', object: { ...secretObject('ctl-token', {}), data: { token: Buffer.from(token).toString('base64') } } as Resource }]);
  assert.equal(tokens.authenticate(token), undefined, 'a new Secret (another uid) holding the old token');

  // a Secret naming another ServiceAccount uid is not filled
  store.transact([{ op: 'create', object: secretObject('stale', { 'kubernetes.io/service-account.name': 'ctl', 'kubernetes.io/service-account.uid': 'not-the-uid' }) }]);
  assert.equal(fillTokenSecret(deps, store.get({ kind: 'Secret', namespace: NS, name: 'stale' })!), undefined);
});
