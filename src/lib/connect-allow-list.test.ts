import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectAllowedBy, parseConnectAllowEntry } from './connect-allow-list.js';

describe('outboundConnectAllowList entries', () => {
  it('parses names, wildcards, IP literals and any-port entries in their canonical spelling', () => {
    assert.deepEqual(parseConnectAllowEntry('API.Example.com.:443'), { host: 'api.example.com', port: 443 });
    assert.deepEqual(parseConnectAllowEntry('*.example.com:*'), { host: '*.example.com', port: undefined });
    assert.deepEqual(parseConnectAllowEntry('10.0.0.7:5432'), { host: '10.0.0.7', port: 5432 });
    assert.deepEqual(parseConnectAllowEntry('[::1]:8080'), { host: '[::1]', port: 8080 });
  });

  it('says what is wrong with an entry that does not parse', () => {
    for (const [entry, why] of [
      ['api.example.com', /needs a port/],
      ['api.example.com:0', /1-65535/],
      ['api.example.com:http', /1-65535/],
      ['*:443', /not a DNS name/],
      ['*.com:443', /two labels/],
      ['a..b:443', /not a DNS name/],
      ['[nope]:443', /IPv6/],
      ['10.0.0.0/8:443', /not a DNS name/],
    ] as const) {
      const r = parseConnectAllowEntry(entry);
      assert.equal(typeof r, 'string', entry);
      assert.match(r as string, why, entry);
    }
  });

  it('matches a destination by host and port; a wildcard covers names under its domain, never the domain itself', () => {
    const list = ['api.example.com:443', '*.corp.example:*', 'db.data:5432', 'not valid'];
    assert.equal(connectAllowedBy(list, 'api.example.com', 443), 'api.example.com:443');
    assert.equal(connectAllowedBy(list, 'api.example.com', 80), undefined);
    assert.equal(connectAllowedBy(list, 'a.b.corp.example', 22), '*.corp.example:*');
    assert.equal(connectAllowedBy(list, 'corp.example', 22), undefined);
    assert.equal(connectAllowedBy(list, 'evilcorp.example', 22), undefined);
    assert.equal(connectAllowedBy(list, 'db.data', 5432), 'db.data:5432');
    assert.equal(connectAllowedBy(list, 'not valid', 80), undefined);
    assert.equal(connectAllowedBy(undefined, 'api.example.com', 443), undefined);
    assert.equal(connectAllowedBy([], 'api.example.com', 443), undefined);
  });
});
