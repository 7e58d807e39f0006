/** Strict JSON objects and strict base64url, the two parsing hardenings jose leaves out (reference §6). */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStrictBase64url } from './base64url.js';
import { parseStrictJsonObject, parseStrictJsonObjectText } from './strict-json.js';

describe('parseStrictJsonObjectText', () => {
  const reason = (t: string) => {
    const r = parseStrictJsonObjectText(t);
    return r.ok ? 'ok' : r.reason;
  };
  it('accepts objects, with names that only look repeated', () => {
    assert.equal(reason('{}'), 'ok');
    assert.equal(reason(' { "a" : 1 , "b" : [ {"a":1}, {"a":2} ] } '), 'ok');
    assert.equal(reason('{"a":"\\"a\\":","b":"x\\\\","c":{"a":{"a":1}}}'), 'ok');
    assert.equal(reason('{"__proto__":1,"constructor":2}'), 'ok');
    // Values that begin with ':' and names that end with it look like extra names to the quick count.
    assert.equal(reason('{"scope":":read","b":[":x",":y"],"c:":{"d":":"}}'), 'ok');
    assert.equal(reason('{"s":"a :b","t":" :c"}'), 'ok');
  });
  it('refuses duplicates that the quick count and the exact count both see', () => {
    assert.equal(reason('{"a":":x","a":1}'), 'duplicate-key');
    assert.equal(reason('{"a":1,"b":":","a":2}'), 'duplicate-key');
    assert.equal(reason('{"a":1,"a" :2}'), 'duplicate-key');
    assert.equal(reason('{"a":1,"a"\n:2}'), 'duplicate-key');
    assert.equal(reason('{"a":1,"a"\t:2,"s":"x"}'), 'duplicate-key');
    assert.equal(reason('{"a":"\\\\","a":2}'), 'duplicate-key');
  });
  it('refuses duplicates at any depth, including escaped spellings', () => {
    assert.equal(reason('{"a":1,"a":1}'), 'duplicate-key');
    assert.equal(reason('{"a":1,"\\u0061":2}'), 'duplicate-key');
    assert.equal(reason('{"x":{"a":1,"b":{"c":1,"c":2}}}'), 'duplicate-key');
    assert.equal(reason('{"x":[[{"a":1,"a" :2}]]}'), 'duplicate-key');
    assert.equal(reason('{"__proto__":1,"__proto__":2}'), 'duplicate-key');
  });
  it('refuses non-objects and bad syntax', () => {
    for (const t of ['[]', 'null', '1', '"s"', 'true']) assert.equal(reason(t), 'not-object');
    for (const t of ['', '{', "{'a':1}", '{"a":1,}', '\uFEFF{}', '{"a":NaN}']) assert.equal(reason(t), 'syntax');
  });
  it('refuses invalid UTF-8 bytes', () => {
    const r = parseStrictJsonObject(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]));
    assert.ok(!r.ok && r.reason === 'utf8');
  });
});

describe('isStrictBase64url', () => {
  it('accepts canonical unpadded base64url', () => {
    for (const n of [1, 2, 3, 4, 5, 31, 32, 33]) {
      const s = Buffer.alloc(n, 0xfb).toString('base64url');
      assert.ok(isStrictBase64url(s), s);
    }
  });
  it('refuses padding, standard alphabet, whitespace, bad lengths and non-zero trailing bits', () => {
    for (const s of ['', 'QQ==', 'QQ=', '+w', '/w', 'QQ\n', 'Q Q', 'A', 'QUJDR', 'QR', 'QUJ', 'Zm9vYmE=', 'é']) {
      assert.equal(isStrictBase64url(s), false, JSON.stringify(s));
    }
    assert.ok(isStrictBase64url('QQ') && isStrictBase64url('QUI'));
  });
});
