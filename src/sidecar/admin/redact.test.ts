/** config_dump never shows an HMAC secret from an inline JWKS. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactSnapshot } from './redact.js';
import type { ProxySnapshot } from '../../snapshot/types.js';

test('an oct key in an inline jwks is redacted, public keys are kept', () => {
  const jwks = JSON.stringify({ keys: [{ kty: 'oct', kid: 'h1', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' }, { kty: 'EC', kid: 'e1', crv: 'P-256', x: 'AAA', y: 'BBB' }] });
  const s = { Inbound: { TrafficMatches: {}, ClustersConfigs: {}, Authn: { JwtRules: [{ Policy: 'ns/ra', Rule: { issuer: 'i', jwks } }] } } } as unknown as ProxySnapshot;
  const out = JSON.stringify(redactSnapshot(s));
  assert.doesNotMatch(out, /c2VjcmV0/);
  assert.match(out, /\[redacted\]/);
  assert.match(out, /P-256/);
  // the applied snapshot itself is untouched (the sidecar still verifies with it)
  assert.match(JSON.stringify(s), /c2VjcmV0/);
});

test('PluginConfig values marked secret or named as secrets are redacted; Secret references and ordinary values are kept', () => {
  const s = {
    Inbound: { TrafficMatches: {}, ClustersConfigs: {} },
    Outbound: {
      TrafficMatches: {},
      ClustersConfigs: {},
      HttpRoute: {
        'svc.ns': {
          RouteRules: [],
          Plugins: {
            'my-plugin': { endpoint: 'https://idp', clientSecret: 'hunter2-client', apiKey: 'AKIA-123', nested: { password: 'pw-1' }, webhookSalt: 'salty-1', secretFields: ['webhookSalt'] },
            'token-issuer': { signingKey: { secretName: 'issuer-key' }, audience: 'aud-1' },
          },
        },
      },
    },
    PluginScripts: { x: 'const k = `-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----`' },
    Jwk: { kty: 'EC', crv: 'P-256', x: 'AAA', y: 'BBB', d: 'PRIVATE-D' },
  } as unknown as ProxySnapshot;
  const out = JSON.stringify(redactSnapshot(s));
  for (const secret of ['hunter2-client', 'AKIA-123', 'pw-1', 'salty-1', 'MIIB', 'PRIVATE-D']) assert.doesNotMatch(out, new RegExp(secret), secret);
  for (const kept of ['https://idp', 'issuer-key', 'aud-1', 'P-256']) assert.match(out, new RegExp(kept), kept);
  assert.match(JSON.stringify(s), /hunter2-client/, 'the applied snapshot itself is untouched');
});
