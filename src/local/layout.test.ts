/** Proxy tokens expire and cannot be forged or moved to another proxy; admin tokens are per proxy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  PROXY_TOKEN_TTL_MS, SIDECAR_ENV, checkProxyToken, proxyToken, proxyTokenExpiry, proxyTokenValid, sidecarAdminToken, sidecarControlEnv,
} from './layout.js';

const KEY = 'ab'.repeat(32);
const UUID = '11111111-2222-3333-4444-555555555555';

test('a proxy token is valid for its proxy until it expires, then refused as expired', () => {
  const now = Date.UTC(2026, 0, 1);
  const token = proxyToken(KEY, UUID, { now });
  assert.equal(checkProxyToken(KEY, UUID, token, now + 1000), 'valid');
  assert.equal(proxyTokenExpiry(token), Math.floor((now + PROXY_TOKEN_TTL_MS) / 1000) * 1000);
  assert.equal(checkProxyToken(KEY, UUID, token, now + PROXY_TOKEN_TTL_MS + 1000), 'expired');
  assert.equal(proxyTokenValid(KEY, UUID, token, now + PROXY_TOKEN_TTL_MS + 1000), false);
});

test('the old forever-valid HMAC(uuid) token, another proxy\'s token and a stretched expiry are refused', () => {
  const legacy = createHmac('sha256', Buffer.from(KEY, 'hex')).update(UUID).digest('hex');
  assert.equal(checkProxyToken(KEY, UUID, legacy), 'invalid');
  const other = proxyToken(KEY, '99999999-2222-3333-4444-555555555555');
  assert.equal(checkProxyToken(KEY, UUID, other), 'invalid');
  const [iat, exp, mac] = proxyToken(KEY, UUID).split('.') as [string, string, string];
  assert.equal(checkProxyToken(KEY, UUID, `${iat}.${Number(exp) + 86_400}.${mac}`), 'invalid');
  assert.equal(checkProxyToken('cd'.repeat(32), UUID, proxyToken(KEY, UUID)), 'invalid');
  // issued in the future (beyond clock skew): refused
  assert.equal(checkProxyToken(KEY, UUID, proxyToken(KEY, UUID, { now: Date.now() + 10 * 60_000 })), 'invalid');
});

test('each (re)start gets a fresh token; the admin token is per proxy and not the proxy token', () => {
  const a = sidecarControlEnv({ stateDir: '/s', block: 9, meshKeyHex: KEY, uuid: UUID, now: 1_000_000 });
  const b = sidecarControlEnv({ stateDir: '/s', block: 9, meshKeyHex: KEY, uuid: UUID, now: 2_000_000 });
  assert.notEqual(a[SIDECAR_ENV.proxyToken], b[SIDECAR_ENV.proxyToken]);
  assert.equal(a[SIDECAR_ENV.controllerUrl], 'https://127.9.0.2:6060');
  assert.equal(a[SIDECAR_ENV.controllerCa], '/s/pki/ca.crt');
  assert.equal(a[SIDECAR_ENV.adminToken], sidecarAdminToken(KEY, UUID));
  assert.notEqual(sidecarAdminToken(KEY, UUID), sidecarAdminToken(KEY, '99999999-2222-3333-4444-555555555555'));
});
