/** Python-compatible JSON parsing and Flask jsonify formatting. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flaskJsonify, parsePythonJson, pythonFloatRepr, PyJsonError } from './python-json.js';

describe('flaskJsonify', () => {
  it('indents by 2, sorts keys, leaves ", " at line ends and ends with a newline', () => {
    assert.equal(
      flaskJsonify({ b: [1n, 'x'], a: {}, c: [], d: null, e: true }),
      '{\n  "a": {}, \n  "b": [\n    1, \n    "x"\n  ], \n  "c": [], \n  "d": null, \n  "e": true\n}\n',
    );
  });
  it('escapes non-ASCII like ensure_ascii', () => {
    assert.equal(flaskJsonify('é😀\u007f"\\\n'), '"\\u00e9\\ud83d\\ude00\\u007f\\"\\\\\\n"\n');
  });
});

describe('pythonFloatRepr', () => {
  const cases: Array<[number, string]> = [
    [1, '1.0'], [0.1, '0.1'], [-2.5, '-2.5'], [1e16, '1e+16'], [1234567890123456.0, '1234567890123456.0'],
    [1e-5, '1e-05'], [0.0001, '0.0001'], [1.5e-7, '1.5e-07'], [2e20, '2e+20'], [1e100, '1e+100'],
    [-0, '-0.0'], [Infinity, 'Infinity'], [NaN, 'NaN'], [123.456, '123.456'],
  ];
  for (const [value, repr] of cases) it(`${value} -> ${repr}`, () => assert.equal(pythonFloatRepr(value), repr));
});

describe('parsePythonJson', () => {
  it('keeps ints and floats apart', () => {
    assert.deepEqual({ ...(parsePythonJson('{"i": 1, "f": 1.0, "e": 1e2, "big": 123456789012345678901}') as object) }, {
      i: 1n,
      f: 1,
      e: 100,
      big: 123456789012345678901n,
    });
    assert.equal(typeof (parsePythonJson('[1.0]') as number[])[0], 'number');
  });
  it('accepts what json.loads accepts', () => {
    assert.deepEqual(parsePythonJson(' [NaN, -Infinity, "\\u00e9\\n", true, false, null] '), [
      NaN, -Infinity, 'é\n', true, false, null,
    ]);
  });
  it('rejects what json.loads rejects', () => {
    for (const bad of ['', '{', '[1,]', '01', '"\u0001"', "{'a': 1}", '1 2', '\ufeff{}']) {
      assert.throws(() => parsePythonJson(bad), PyJsonError, JSON.stringify(bad));
    }
  });
  it('treats __proto__ as an ordinary key', () => {
    const parsed = parsePythonJson('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
