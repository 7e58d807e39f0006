/** Identity formats and SPIFFE ID parsing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshError } from '../lib/errors.js';
import {
  identityCommonName,
  identityParts,
  istioPrincipal,
  parseServiceIdentity,
  parseSpiffeId,
  serviceIdentity,
  spiffeId,
  trustDomain,
} from './service-identity.js';
import { serviceCertValidityMs } from './validity.js';

const invalid = (e: unknown) => isMeshError(e) && e.code === 'MESH_ERR_IDENTITY_INVALID';

test('identity formats: sa.ns, CN, SPIFFE ID, Istio principal', () => {
  const id = serviceIdentity('bookstore-v2', 'bookstore');
  assert.equal(id, 'bookstore-v2.bookstore');
  assert.equal(identityCommonName(id), 'bookstore-v2.bookstore.cluster.local');
  assert.equal(spiffeId(id), 'spiffe://cluster.local/ns/bookstore/sa/bookstore-v2');
  assert.equal(istioPrincipal(id), 'cluster.local/ns/bookstore/sa/bookstore-v2');
  assert.equal(spiffeId(id, trustDomain('example.org')), 'spiffe://example.org/ns/bookstore/sa/bookstore-v2');
  assert.equal(serviceIdentity('', 'ns1'), 'default.ns1');
});

test('dotted service account names split at the last dot', () => {
  const id = parseServiceIdentity('my.sa.ns1');
  assert.deepEqual(identityParts(id), { serviceAccount: 'my.sa', namespace: 'ns1' });
  assert.equal(parseSpiffeId(spiffeId(id)), id);
});

test('SPIFFE IDs parse by segment and refuse other trust domains and odd shapes', () => {
  assert.equal(parseSpiffeId('spiffe://cluster.local/ns/default/sa/api'), 'api.default');
  for (const bad of [
    'spiffe://other.domain/ns/default/sa/api',
    'spiffe://cluster.local/ns/default/sa/api/extra',
    'spiffe://cluster.local/sa/api/ns/default',
    'spiffe://cluster.local/ns/default/sa/',
    'spiffe://cluster.local/ns/Default/sa/api',
    'spiffe://cluster.local/ns/default/sa/a%2Fb',
    'spiffe://cluster.local:443/ns/default/sa/api',
    'spiffe://user@cluster.local/ns/default/sa/api',
    'spiffe://cluster.local/ns/default/sa/api?x=1',
    'https://cluster.local/ns/default/sa/api',
  ]) {
    assert.throws(() => parseSpiffeId(bad), invalid, bad);
  }
  assert.throws(() => serviceIdentity('api', 'has.dot'), invalid);
  assert.throws(() => parseServiceIdentity('nodot'), invalid);
});

test('serviceCertValidityDuration: Go durations, 24h default and fallback', () => {
  assert.equal(serviceCertValidityMs(undefined), 86_400_000);
  assert.equal(serviceCertValidityMs('1h30m'), 5_400_000);
  assert.equal(serviceCertValidityMs('90s'), 90_000);
  assert.equal(serviceCertValidityMs('24 hours'), 86_400_000);
  assert.equal(serviceCertValidityMs('-1h'), 86_400_000);
});
