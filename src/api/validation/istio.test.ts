/** Tests for the Istio security validators: the book's manifests, kubectl names, and exact messages for bad fields (security-rules.md §1, §2). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveKindName } from '../kinds.js';
import { validateResource } from './index.js';
import { refusalLines } from './test-support.js';

const ctx = { source: '-', index: 1 };
const API = 'security.istio.io/v1beta1';
const ra = (spec: unknown) => ({ apiVersion: API, kind: 'RequestAuthentication', metadata: { name: 'jwt-auth', namespace: 'development' }, spec });
const ap = (spec: unknown) => ({ apiVersion: API, kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'default' }, spec });

const problems = (obj: unknown): string[] => refusalLines(obj, ctx).map((l) => l.replace(/^\w+ [\w-]+\/[\w-]+: /, ''));

describe('Istio kinds', () => {
  it('kubectl names resolve', () => {
    for (const n of ['requestauthentication', 'requestauthentications', 'ra', 'requestauthentications.security.istio.io']) assert.equal(resolveKindName(n)?.kind, 'RequestAuthentication');
    for (const n of ['authorizationpolicy', 'authorizationpolicies', 'ap']) assert.equal(resolveKindName(n)?.kind, 'AuthorizationPolicy');
  });

  it("the book's manifests validate", () => {
    validateResource(ra({ selector: { matchLabels: { app: 'todos' } }, jwtRules: [{ issuer: 'https://example.fusionauth.io', jwksUri: 'https://example.fusionauth.io/.well-known/jwks.json', outputPayloadToHeader: 'X-payload', fromHeaders: [{ name: 'Authorization', prefix: 'Bearer ' }] }] }), ctx);
    validateResource(ap({ selector: { matchLabels: { app: 'todos' } }, action: 'DENY', rules: [{ when: [{ key: 'request.auth.claims[iss]', values: ['https://example.fusionauth.io'] }, { key: 'request.auth.claims[roles]', notValues: ['admin'] }] }] }), ctx);
    validateResource(ap({ selector: { matchLabels: { app: 'todos' } }, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/reminder'] } }], to: [{ operation: { methods: ['GET'] } }] }] }), ctx);
    validateResource(ap({}), ctx);
    validateResource(ap({ rules: [{}] }), ctx);
  });

  it('RequestAuthentication problems', () => {
    const out = problems(ra({
      jwtRules: [
        { issuer: '', jwksUri: 'ftp://x' },
        { issuer: 'not-a-url', fromHeaders: [{ name: 'bad header' }], fromCookies: ['c'], jwks: '{' },
        { issuer: 'https://a', outputClaimToHeaders: [{ header: 'x', claim: '' }], timeout: 'soon', jwks: '{"keys":[]}' },
        { issuer: 'https://a', jwksUri: 'https://a/jwks' },
      ],
    }));
    assert.deepEqual(out, [
      'spec.jwtRules[0].issuer: required field is missing',
      'spec.jwtRules[0].jwksUri: "ftp://x" must be an http(s) URL',
      'spec.jwtRules[1].jwks: is not valid JSON',
      'spec.jwtRules[1].fromHeaders[0].name: "bad header" is not a valid header name',
      'spec.jwtRules[1].fromCookies: is not supported; use fromHeaders or fromParams',
      'spec.jwtRules[2].jwks: must be a JSON object with a non-empty "keys" array',
      'spec.jwtRules[2].outputClaimToHeaders[0].claim: required field is missing',
      'spec.jwtRules[2].timeout: "soon" is not a valid duration (use a Go duration like 24h, 1h30m or 90s)',
      'spec.jwtRules[3].issuer: duplicate issuer "https://a"',
    ]);
    assert.deepEqual(problems(ra({ selector: { matchLabels: { app: 'x' }, matchExpressions: [] } })), ['spec.selector.matchExpressions: unknown field "matchExpressions"']);
    assert.deepEqual(problems(ra({ jwtRules: [{ issuer: 'plain' }] })), ['spec.jwtRules[0].jwksUri: required when jwks is not set and the issuer is not an http(s) URL for OpenID discovery']);
  });

  it('security.istio.io/v1 is accepted with the same schema as v1beta1', () => {
    validateResource({ ...ra({ jwtRules: [{ issuer: 'https://a', jwksUri: 'https://a/jwks' }] }), apiVersion: 'security.istio.io/v1' }, ctx);
    validateResource({ ...ap({ action: 'ALLOW', rules: [{}] }), apiVersion: 'security.istio.io/v1' }, ctx);
    assert.throws(() => validateResource({ ...ap({}), apiVersion: 'security.istio.io/v2' }, ctx));
  });

  it('jwtRules: Istio spaceDelimitedClaims, Tessera requiredClaims and maxTokenBytes', () => {
    validateResource(ra({ jwtRules: [{ issuer: 'https://a', jwksUri: 'https://a/jwks', spaceDelimitedClaims: ['scp', 'roles'], requiredClaims: ['exp', 'tenant'], maxTokenBytes: 16384 }] }), ctx);
    const out = problems(ra({
      jwtRules: [{ issuer: 'https://a', jwksUri: 'https://a/jwks', spaceDelimitedClaims: [''], requiredClaims: 'exp', maxTokenBytes: 100 }, { issuer: 'https://b', jwksUri: 'https://b/jwks', maxTokenBytes: 70000 }],
    }));
    assert.deepEqual(out, [
      'spec.jwtRules[0].spaceDelimitedClaims[0]: required field is missing',
      'spec.jwtRules[0].requiredClaims: expected array, got string "exp"',
      'spec.jwtRules[0].maxTokenBytes: 100 must be at least 1024',
      'spec.jwtRules[1].maxTokenBytes: 70000 must be at most 65536',
    ]);
  });

  it('AuthorizationPolicy problems', () => {
    const out = problems(ap({
      action: 'CUSTOM',
      rules: [
        { to: [{ operation: { ports: ['0'], paths: ['/a*b'], methods: [] } }] },
        { when: [{ key: 'request.auth.claims[]', values: ['x'] }, { key: 'source.ip', values: ['10.0.0.0/33'] }, { key: 'request.headers[x-a]' }, { key: 'experimental.envoy.filters.x', values: ['y'] }, { key: 'destination.port', notValues: ['http'] }] },
        { from: [{ source: { ipBlocks: ['nope'], principals: ['**'] } }] },
      ],
    }));
    assert.deepEqual(out.filter((l) => !l.startsWith('spec:')), out, 'every problem has a precise path');
    const text = out.join('\n');
    for (const want of [
      /spec\.rules\[0\]\.to\[0\]\.operation\.ports\[0\]: .*"0" is not a port number/,
      /spec\.rules\[0\]\.to\[0\]\.operation\.paths\[0\]: .*"\*" is allowed only as a whole value/,
      /spec\.rules\[0\]\.to\[0\]\.operation\.methods: /,
      /spec\.rules\[1\]\.when\[0\]\.key: .*claims are written request\.auth\.claims\[name\]/,
      /spec\.rules\[1\]\.when\[1\]\.values\[0\]: .*invalid prefix length/,
      /spec\.rules\[1\]\.when\[2\]: .*needs values or notValues/,
      /spec\.rules\[1\]\.when\[3\]\.key: .*is not supported/,
      /spec\.rules\[1\]\.when\[4\]\.notValues\[0\]: .*"http" is not a port number/,
      /spec\.rules\[2\]\.from\[0\]\.source\.ipBlocks\[0\]: .*"nope" is not an IP address or CIDR/,
      /spec\.rules\[2\]\.from\[0\]\.source\.principals\[0\]: /,
      /spec\.provider: .*required when action is CUSTOM/,
    ]) assert.match(text, want);
    assert.deepEqual(problems(ap({ rules: [{ from: [{ source: {} }], to: [{ operation: {} }] }] })), ['spec.rules[0].from[0].source: source must set at least one field', 'spec.rules[0].to[0].operation: operation must set at least one field']);
    assert.match(problems(ap({ action: 'DENY', provider: { name: 'x' } })).join('\n'), /spec\.provider: .*must not be set unless action is CUSTOM/);
    assert.match(problems(ap({ action: 'deny' })).join('\n'), /spec\.action: /);
    assert.match(problems(ap({ rules: [{ when: [{ key: 'request.bogus', values: ['x'] }] }] })).join('\n'), /unknown key "request\.bogus"/);
  });
});
