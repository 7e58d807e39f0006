/** algo.Cache, algo.URLRouter and algo.uuid (reference §1.5). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cache, URLRouter, algo } from './index.js';

describe('algo.Cache', () => {
  test('identity keys: objects by identity, undefined/null distinct, 1 and "1" distinct; falsy values are stored', () => {
    let calls = 0;
    const c = new Cache((k) => (calls++, k === 'f' ? false : { k }));
    const a = {};
    assert.equal(c.get(a), c.get(a));
    assert.notEqual(c.get({}), c.get({}));
    c.get(undefined);
    c.get(null);
    c.get(1);
    c.get('1');
    const before = calls;
    assert.equal(c.get('f'), false);
    assert.equal(c.get('f'), false);
    assert.equal(calls, before + 1);
    assert.equal(new Cache().get('x'), undefined);
  });
});

describe('algo.URLRouter', () => {
  const r = new URLRouter({ '/get': 'get', '/api/*': 'api', 'example.com/x': 'x', '*.svc.local/y/*': 'y' });
  test('exact and segment-prefix paths; query and port stripped; case-sensitive', () => {
    assert.equal(r.find('/get'), 'get');
    assert.equal(r.find('/get?x=1'), 'get');
    assert.equal(r.find('/get/'), undefined);
    assert.equal(r.find('/GET'), undefined);
    assert.equal(r.find('/api'), 'api');
    assert.equal(r.find('/api/'), 'api');
    assert.equal(r.find('/api/a/b'), 'api');
    assert.equal(r.find('/apix'), undefined);
  });
  test('hosts: exact host, one-label wildcard, fallback to host-less; null parts skipped', () => {
    assert.equal(r.find('example.com:80', '/x'), 'x');
    assert.equal(r.find('example.com', '/get'), 'get');
    assert.equal(r.find('a.svc.local', '/y/z'), 'y');
    assert.equal(r.find('b.a.svc.local', '/y/z'), undefined);
    assert.equal(r.find(undefined, '/get'), 'get');
    assert.equal(r.find('httpbin.httpbin:14001', '/get?x=1'), 'get');
  });
  test('a pattern without / or with a host port is invalid', () => {
    assert.throws(() => new URLRouter({ nope: 1 }));
    assert.throws(() => new URLRouter({ 'h:80/x': 1 }));
  });
});

test('algo.uuid is a lowercase v4 UUID', () => {
  assert.match(algo.uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
