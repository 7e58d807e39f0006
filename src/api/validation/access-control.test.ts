/** Tests for the AccessControl and AccessCert validators: FSM's webhook rules (the TLS rule fixed) and exact messages. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveKindName } from '../kinds.js';
import type { AccessCertSpec } from '../policy-types.js';
import { validateResource } from './index.js';
import { refusalLines } from './test-support.js';

const ctx = { source: '-', index: 1, namespace: 'httpbin' };
const POLICY = 'policy.flomesh.io/v1alpha1';

const acl = (spec: Record<string, unknown>) => ({ apiVersion: POLICY, kind: 'AccessControl', metadata: { name: 'httpbin' }, spec });
const cert = (spec: Record<string, unknown>) => ({ apiVersion: POLICY, kind: 'AccessCert', metadata: { name: 'curl-cert' }, spec });
const backend = (extra: Record<string, unknown> = {}) => ({ name: 'httpbin', port: { number: 14001, protocol: 'http' }, ...extra });

const problems = (obj: unknown): string[] => refusalLines(obj, ctx);

describe('AccessControl', () => {
  it('accepts FSM demo shapes: IPRange plaintext, Service source, mTLS with a principal, the global form', () => {
    validateResource(acl({ backends: [backend()], sources: [{ kind: 'IPRange', name: '10.0.0.0/8' }] }), ctx);
    validateResource(acl({ backends: [backend()], sources: [{ kind: 'Service', name: 'curl', namespace: 'curl' }] }), ctx);
    validateResource(acl({
      backends: [backend({ tls: { skipClientCertValidation: false } })],
      sources: [{ kind: 'AuthenticatedPrincipal', name: 'curl.curl.cluster.local' }],
    }), ctx);
    const global = validateResource(acl({ sources: [{ kind: 'IPRange', name: '127.0.0.1/32' }] }), ctx);
    assert.equal(global.apiVersion, POLICY);
    assert.equal(resolveKindName('acl')?.kind, 'AccessControl');
    assert.equal(resolveKindName('accesscerts.policy.flomesh.io')?.kind, 'AccessCert');
  });

  it('refuses sources FSM refuses, each with its field', () => {
    assert.deepEqual(problems(acl({
      sources: [
        { kind: 'Service', name: 'curl' },
        { kind: 'AuthenticatedPrincipal' },
        { kind: 'IPRange', name: '10.0.0.0' },
        { kind: 'IPRange', name: '10.0.0.0/33' },
        { kind: 'Pod', name: 'x' },
      ],
    })), [
      'AccessControl httpbin/httpbin: spec.sources[0].namespace: required for kind Service',
      'AccessControl httpbin/httpbin: spec.sources[1].name: required for kind AuthenticatedPrincipal',
      'AccessControl httpbin/httpbin: spec.sources[2].name: "10.0.0.0" is not a CIDR (like 10.0.0.0/8 or 192.168.1.7/32)',
      'AccessControl httpbin/httpbin: spec.sources[3].name: "10.0.0.0/33" is not a CIDR (like 10.0.0.0/8 or 192.168.1.7/32)',
      'AccessControl httpbin/httpbin: spec.sources[4].kind: "Pod" is not one of Service, IPRange, AuthenticatedPrincipal',
    ]);
    assert.deepEqual(problems(acl({ sources: [] })), ['AccessControl httpbin/httpbin: spec.sources: must not be empty']);
  });

  it('refuses duplicate backends', () => {
    assert.deepEqual(problems(acl({ backends: [backend(), backend()], sources: [{ kind: 'IPRange', name: '10.0.0.0/8' }] })), [
      'AccessControl httpbin/httpbin: spec.backends[1]: duplicate backend httpbin port 14001 (also spec.backends[0])',
    ]);
  });

  it('the TLS rule as FSM meant it: validating client certificates needs a principal; skipping does not', () => {
    assert.deepEqual(problems(acl({ backends: [backend({ tls: { skipClientCertValidation: false } })], sources: [{ kind: 'IPRange', name: '10.0.0.0/8' }] })), [
      'AccessControl httpbin/httpbin: spec.backends[0].tls: a backend with client certificate validation enabled needs at least one AuthenticatedPrincipal source (or set skipClientCertValidation: true)',
    ]);
    validateResource(acl({ backends: [backend({ tls: { skipClientCertValidation: true } })], sources: [{ kind: 'IPRange', name: '10.0.0.0/8' }] }), ctx);
  });
});

describe('AccessCert', () => {
  it('accepts SANs and a Secret, defaulting its namespace to the AccessCert own', () => {
    const r = validateResource(cert({ subjectAltNames: ['curl.curl.cluster.local'], secret: { name: 'curl-mtls-secret' } }), ctx);
    assert.deepEqual((r.spec as AccessCertSpec).secret, { name: 'curl-mtls-secret', namespace: 'httpbin' });
  });

  it('refuses no SANs, a SPIFFE ID SAN and a missing Secret name', () => {
    assert.deepEqual(problems(cert({ subjectAltNames: [], secret: { name: 's' } })), [
      'AccessCert httpbin/curl-cert: spec.subjectAltNames: must not be empty',
    ]);
    assert.deepEqual(problems(cert({ subjectAltNames: ['spiffe://cluster.local/ns/a/sa/b'], secret: {} })), [
      'AccessCert httpbin/curl-cert: spec.subjectAltNames[0]: "spiffe://cluster.local/ns/a/sa/b" is a SPIFFE ID; mesh identities are issued to sidecars only',
      'AccessCert httpbin/curl-cert: spec.secret.name: required field is missing',
    ]);
  });
});
