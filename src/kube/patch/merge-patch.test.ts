import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch } from './index.js';
import { frozen } from './test-helpers.js';

describe('applyMergePatch (RFC 7386)', () => {
  it('applies the example of RFC 7386 section 3', () => {
    const target = frozen({
      title: 'Goodbye!',
      author: { givenName: 'John', familyName: 'Doe' },
      tags: ['example', 'sample'],
      content: 'This will be unchanged',
    });
    const patch = frozen({ title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] });
    assert.deepEqual(applyMergePatch(target, patch), {
      title: 'Hello!',
      author: { givenName: 'John' },
      tags: ['example'],
      content: 'This will be unchanged',
      phoneNumber: '+01-123-456-7890',
    });
  });

  // Appendix A, row by row: [original, patch, result].
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  cases.forEach(([original, patch, result], i) => {
    it(`appendix A example ${i + 1}: ${JSON.stringify(original)} + ${JSON.stringify(patch)}`, () => {
      assert.deepEqual(applyMergePatch(frozen(original), frozen(patch)), result);
    });
  });

  it('never mutates its inputs and shares no objects with them', () => {
    const target = { metadata: { labels: { a: '1' }, annotations: { keep: 'x' } }, spec: { list: [{ n: 1 }] } };
    const patch = { metadata: { labels: { b: '2' } }, spec: { added: { deep: [1] } } };
    const before = JSON.stringify([target, patch]);
    const out = applyMergePatch(target, patch) as typeof target & { spec: { added: { deep: number[] } } };
    assert.equal(JSON.stringify([target, patch]), before);
    assert.notEqual(out.metadata.annotations, target.metadata.annotations, 'untouched subtrees are copies');
    assert.notEqual(out.spec.list, target.spec.list);
    assert.notEqual(out.spec.added, patch.spec.added, 'values from the patch are copies');
    out.spec.added.deep.push(2);
    assert.deepEqual(patch.spec.added.deep, [1]);
  });

  it('keeps the target key order and appends new keys', () => {
    const out = applyMergePatch({ a: 1, b: 2, c: 3 }, { b: 20, d: 4 });
    assert.deepEqual(Object.keys(out as object), ['a', 'b', 'c', 'd']);
  });

  it('treats __proto__ in a patch as data and does not pollute Object.prototype', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}');
    const out = applyMergePatch({}, patch) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: true });
  });
});
