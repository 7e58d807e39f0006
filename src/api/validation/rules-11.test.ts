/**
 * security-rules.md §11 rule 3 ("fail closed everywhere: … unknown policy keys or fields") at the
 * API: an AuthorizationPolicy or RequestAuthentication with a key or field Tessera does not know is
 * refused whole at apply time (nothing is stored, so no sidecar ever sees a half-understood rule);
 * the "silently ignored" of old Istio docs is not followed. Rule 10: SMI route kinds are strict too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshError } from '../../lib/errors.js';
import { validateResource } from './index.js';

const ctx = { source: '-', index: 1 };
const API = 'security.istio.io/v1beta1';
const ap = (spec: unknown) => ({ apiVersion: API, kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'default' }, spec });
const ra = (spec: unknown) => ({ apiVersion: API, kind: 'RequestAuthentication', metadata: { name: 'r', namespace: 'default' }, spec });

/** The validation problems of one object, or [] when it is accepted. */
function problems(obj: unknown): string[] {
  try {
    validateResource(obj, ctx);
    return [];
  } catch (e) {
    assert.ok(e instanceof MeshError, String(e));
    return e.message.split('\n');
  }
}
const refused = (obj: unknown, pattern: RegExp): void => {
  const p = problems(obj);
  assert.ok(p.length > 0, `accepted: ${JSON.stringify(obj)}`);
  assert.match(p.join('\n'), pattern);
};

describe('rule 3: unknown AuthorizationPolicy keys and fields are refused at apply time', () => {
  it('a misspelt field in a source, an operation, a rule or the spec', () => {
    refused(ap({ rules: [{ from: [{ source: { principal: ['cluster.local/ns/default/sa/a'] } }] }] }), /principal/);
    refused(ap({ rules: [{ to: [{ operation: { path: ['/admin'] } }] }] }), /path/);
    refused(ap({ rules: [{ frm: [{ source: { principals: ['cluster.local/ns/default/sa/a'] } }] }] }), /frm/);
    refused(ap({ rules: [{ from: [{ sources: { principals: ['x'] } }] }] }), /sources/);
    refused(ap({ action: 'DENY', rule: [{}] }), /rule/);
    refused(ap({ action: 'DENY', rules: [{ when: [{ key: 'request.headers[x-a]', value: ['b'] }] }] }), /value/);
  });
  it('unknown or unsupported when keys', () => {
    for (const key of ['request.bogus', 'request.auth.claims[]', 'experimental.envoy.filters.network.mysql_proxy[db.table]', 'source.ip.extra', 'Request.Headers[x]']) {
      assert.ok(problems(ap({ rules: [{ when: [{ key, values: ['x'] }] }] })).length > 0, key);
    }
  });
  it('an unknown action, including the lower-case spelling', () => {
    for (const action of ['deny', 'ALLOWED', 'REJECT', '']) assert.ok(problems(ap({ action, rules: [{}] })).length > 0, action);
  });
  it('values the sidecar could not compare: non-numeric ports, bad CIDRs, a condition without values', () => {
    refused(ap({ action: 'DENY', rules: [{ to: [{ operation: { ports: ['http'] } }] }] }), /not a port number/);
    refused(ap({ action: 'DENY', rules: [{ to: [{ operation: { notPorts: ['80-90'] } }] }] }), /not a port number/);
    refused(ap({ rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/33'] } }] }] }), /invalid prefix length|not an IP/);
    refused(ap({ rules: [{ from: [{ source: { remoteIpBlocks: ['example.com'] } }] }] }), /not an IP/);
    refused(ap({ rules: [{ when: [{ key: 'request.headers[x-a]' }] }] }), /needs values or notValues/);
  });
  it('the shapes Istio accepts are accepted: unset rules, [{}], and every field and key of §1', () => {
    assert.deepEqual(problems(ap({})), []);
    assert.deepEqual(problems(ap({ action: 'DENY', rules: [{}] })), []);
    const full = {
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { principals: ['cluster.local/ns/a/sa/b'], notPrincipals: ['*'], requestPrincipals: ['iss/sub'], notRequestPrincipals: ['*'], namespaces: ['a'], notNamespaces: ['b'], ipBlocks: ['10.0.0.0/8'], notIpBlocks: ['10.1.0.0/16'], remoteIpBlocks: ['1.2.3.4'], notRemoteIpBlocks: ['::1'] } }],
          to: [{ operation: { hosts: ['h', 'h:*'], notHosts: ['x'], ports: ['8080'], notPorts: ['9090'], methods: ['GET'], notMethods: ['DELETE'], paths: ['/a/*'], notPaths: ['/a/b'] } }],
          when: [
            { key: 'request.headers[X-Env]', values: ['prod'] },
            { key: 'source.ip', values: ['10.0.0.0/8'] },
            { key: 'remote.ip', notValues: ['10.0.0.1'] },
            { key: 'source.namespace', values: ['a'] },
            { key: 'source.principal', values: ['*'] },
            { key: 'request.auth.principal', values: ['iss/sub'] },
            { key: 'request.auth.audiences', values: ['aud'] },
            { key: 'request.auth.presenter', values: ['azp'] },
            { key: 'request.auth.claims[groups]', values: ['admin'] },
            { key: 'request.auth.claims[a][b]', values: ['c'] },
            { key: 'destination.ip', values: ['10.0.0.9'] },
            { key: 'destination.port', values: ['8080'] },
            { key: 'connection.sni', values: ['*.example.com'] },
          ],
        },
      ],
    };
    assert.deepEqual(problems(ap(full)), []);
  });
});

describe('rule 3: unknown RequestAuthentication fields are refused at apply time', () => {
  it('a misspelt JWTRule field or an unsupported token location', () => {
    refused(ra({ jwtRules: [{ issuer: 'https://a', jwksURI: 'https://a/jwks' }] }), /jwksURI/);
    refused(ra({ jwtRules: [{ issuer: 'https://a', jwks: '{"keys":[{"kty":"oct","k":"AA"}]}', forwardOriginalTokens: true }] }), /forwardOriginalTokens/);
    refused(ra({ jwtRules: [{ issuer: 'https://a', fromCookies: ['session'] }] }), /fromCookies/);
    refused(ra({ jwtRule: [{ issuer: 'https://a' }] }), /jwtRule/);
  });
});

describe('rule 10: SMI policies are strict as well', () => {
  const smi = (kind: string, spec: unknown, apiVersion = 'specs.smi-spec.io/v1alpha4') => ({ apiVersion, kind, metadata: { name: 'x', namespace: 'default' }, spec });
  it('unknown fields and misplaced matches are refused, not ignored', () => {
    assert.ok(problems(smi('TCPRoute', { matches: { port: [80] } })).length > 0, 'TCPRoute matches.port');
    assert.ok(problems(smi('HTTPRouteGroup', { matches: [{ name: 'a', path: '/api' }] })).length > 0, 'HTTPRouteGroup path');
    assert.ok(
      problems(smi('TrafficTarget', { destination: { kind: 'ServiceAccount', name: 'a', namespace: 'default' }, sources: [{ kind: 'ServiceAccount', name: 'b', namespace: 'default' }], rules: [{ kind: 'TCPRoute', name: 'r' }], permissive: true }, 'access.smi-spec.io/v1alpha3')).length > 0,
      'TrafficTarget permissive',
    );
  });
  it('TCPRoute ports: [] and a TCPRoute without matches are accepted (they mean every port)', () => {
    assert.deepEqual(problems(smi('TCPRoute', { matches: { ports: [] } })), []);
    assert.deepEqual(problems(smi('TCPRoute', {})), []);
  });
});
