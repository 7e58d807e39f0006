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
