/** URL rebuilding, query parsing and header naming as gunicorn + werkzeug do them. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pythonTitle, werkzeugHeaders } from './request-view.js';
import { latin1Bytes, parseUrlEncoded, werkzeugRequestUrl } from './werkzeug-url.js';

describe('werkzeugRequestUrl', () => {
  const url = (target: string): string => {
    const q = target.indexOf('?');
    return q === -1 ? werkzeugRequestUrl('http', 'h', target, '') : werkzeugRequestUrl('http', 'h', target.slice(0, q), target.slice(q + 1));
  };
  const cases: Array<[string, string]> = [
    ['/get', 'http://h/get'],
    ['/get?', 'http://h/get'],
    ['/anything/a%20b', 'http://h/anything/a b'],
    ['/anything/a%2Cb,c', 'http://h/anything/a,b,c'],
    ['/anything/%3Bx%3F%25', 'http://h/anything/%3Bx%3F%25'],
    ['//get', 'http://h/get'],
    ['/anything/%C3%A9', 'http://h/anything/é'],
    ['/anything/%FF', 'http://h/anything/%FF'],
    ['/get?a=%20b&c=1%262', 'http://h/get?a= b&c=1%262'],
    // werkzeug quotes / ? @ in the query and uri_to_iri leaves them quoted.
    ['/get?u=http://x/y?z@w', 'http://h/get?u=http:%2F%2Fx%2Fy%3Fz%40w'],
    ['/get?x=%7e~[]', 'http://h/get?x=~~[]'],
  ];
  for (const [target, expected] of cases) it(`${target} -> ${expected}`, () => assert.equal(url(target), expected));
});

describe('parseUrlEncoded', () => {
  it('splits on &, decodes + and escapes, keeps bare keys', () => {
    assert.deepEqual(parseUrlEncoded(latin1Bytes('a=1&&b=x+y%2B&c&d=%C3%A9&e=%zz')), [
      ['a', '1'], ['b', 'x y+'], ['c', ''], ['d', 'é'], ['e', '%zz'],
    ]);
  });
});

describe('header names', () => {
  it('follow Python str.title() after gunicorn joins and renames them', () => {
    assert.equal(pythonTitle('X-B3-TRACEID'), 'X-B3-Traceid');
    assert.equal(pythonTitle('x-b3traceid'), 'X-B3Traceid');
    const headers = werkzeugHeaders(['x-iam-token', 't', 'X_IAM_TOKEN', 'u', 'content-type', 'a/b', 'Content-Length', '']);
    assert.deepEqual([...headers], [['X-Iam-Token', 't,u'], ['Content-Type', 'a/b']]);
  });
});
