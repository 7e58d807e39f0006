/** The access-log filter language: what compiles, what a line's attributes make of it, and that an error writes nothing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFilter, type AccessAttributes } from './index.js';

const http = (code: number, method = 'GET', headers: Record<string, string> = {}): AccessAttributes => ({
  request: { method, path: '/status/x?a=1', url_path: '/status/x', headers },
  response: { code, headers: {} },
  source: { address: '10.0.0.1', port: 40000, principal: 'curl.curl' },
  destination: { address: '10.0.0.2', port: 14001, service: 'httpbin.httpbin' },
  connection: { mtls: true, protocol: 'http' },
});
const tcp: AccessAttributes = { source: { address: '10.0.0.1', port: 1, principal: '' }, destination: { address: '', port: 0, service: '' }, connection: { mtls: false, protocol: 'tcp' } };

function filter(expression: string) {
  const r = compileFilter(expression);
  if ('error' in r) throw new Error(r.error);
  return r.filter;
}

describe('access-log filter', () => {
  it("Istio's error filter keeps 4xx/5xx and drops the rest", () => {
    const f = filter('response.code >= 400');
    assert.equal(f.matches(http(403)), true);
    assert.equal(f.matches(http(503)), true);
    assert.equal(f.matches(http(200)), false);
    assert.equal(f.matches(http(302)), false);
  });

  it('reads methods, headers, paths, principals and mTLS', () => {
    assert.equal(filter('request.method == "POST" || request.headers["x-debug"] == "1"').matches(http(200, 'GET', { 'x-debug': '1' })), true);
    assert.equal(filter('request.url_path.startsWith("/status/")').matches(http(200)), true);
    assert.equal(filter('source.principal == "curl.curl" && connection.mtls').matches(http(200)), true);
    assert.equal(filter('destination.service == "other.ns"').matches(http(200)), false);
  });

  it('an evaluation error writes nothing (a TCP line has no response), as in Envoy', () => {
    assert.equal(filter('response.code >= 400').matches(tcp), false);
    assert.equal(filter('request.headers["absent"] == "x"').matches(http(200)), false);
    assert.equal(filter('connection.protocol == "tcp"').matches(tcp), true);
  });

  it('refuses what does not compile, naming why', () => {
    const cases: Array<[string, RegExp]> = [
      ['respnse.code >= 400', /Unknown variable: respnse/],
      ['response.code >= ', /./],
      ['"not a bool"', /type string; a filter must be a bool/],
      ['1 + 2', /type int; a filter must be a bool/],
    ];
    for (const [expression, why] of cases) {
      const r = compileFilter(expression);
      assert.ok('error' in r, expression);
      assert.match(r.error, why, expression);
    }
  });
});
