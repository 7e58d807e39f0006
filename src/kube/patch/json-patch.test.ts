import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, PatchError, type PatchErrorCode } from './index.js';
import { frozen } from './test-helpers.js';

function rejects(fn: () => unknown, code: PatchErrorCode, message: RegExp, opIndex?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PatchError, `expected a PatchError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    if (opIndex !== undefined) assert.equal(e.opIndex, opIndex);
    return true;
  });
}

describe('applyJsonPatch: RFC 6902 appendix A', () => {
  it('A.1 adds an object member', () => {
    assert.deepEqual(applyJsonPatch(frozen({ foo: 'bar' }), frozen([{ op: 'add', path: '/baz', value: 'qux' }])), { baz: 'qux', foo: 'bar' });
  });

  it('A.2 adds an array element', () => {
    assert.deepEqual(applyJsonPatch(frozen({ foo: ['bar', 'baz'] }), [{ op: 'add', path: '/foo/1', value: 'qux' }]), {
      foo: ['bar', 'qux', 'baz'],
    });
  });

  it('A.3 removes an object member', () => {
    assert.deepEqual(applyJsonPatch(frozen({ baz: 'qux', foo: 'bar' }), [{ op: 'remove', path: '/baz' }]), { foo: 'bar' });
  });

  it('A.4 removes an array element', () => {
    assert.deepEqual(applyJsonPatch(frozen({ foo: ['bar', 'qux', 'baz'] }), [{ op: 'remove', path: '/foo/1' }]), { foo: ['bar', 'baz'] });
  });

  it('A.5 replaces a value', () => {
    assert.deepEqual(applyJsonPatch(frozen({ baz: 'qux', foo: 'bar' }), [{ op: 'replace', path: '/baz', value: 'boo' }]), {
      baz: 'boo',
      foo: 'bar',
    });
  });

  it('A.6 moves a value', () => {
    const target = frozen({ foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } });
    assert.deepEqual(applyJsonPatch(target, [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }]), {
      foo: { bar: 'baz' },
      qux: { corge: 'grault', thud: 'fred' },
    });
  });

  it('A.7 moves an array element', () => {
    assert.deepEqual(applyJsonPatch(frozen({ foo: ['all', 'grass', 'cows', 'eat'] }), [{ op: 'move', from: '/foo/1', path: '/foo/3' }]), {
      foo: ['all', 'cows', 'eat', 'grass'],
    });
  });

  it('A.8 testing a value: success', () => {
    const target = frozen({ baz: 'qux', foo: ['a', 2, 'c'] });
    const ops = [
      { op: 'test', path: '/baz', value: 'qux' },
      { op: 'test', path: '/foo/1', value: 2 },
    ];
    assert.deepEqual(applyJsonPatch(target, ops), target);
  });

  it('A.9 testing a value: error', () => {
    rejects(() => applyJsonPatch({ baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }]), 'PATCH_TEST_FAILED', /operation 0: test.*\/baz/, 0);
  });

  it('A.10 adds a nested member object', () => {
    assert.deepEqual(applyJsonPatch(frozen({ foo: 'bar' }), [{ op: 'add', path: '/child', value: { grandchild: {} } }]), {
      foo: 'bar',
      child: { grandchild: {} },
    });
  });

  it('A.11 ignores unrecognized members of an operation', () => {
    assert.deepEqual(applyJsonPatch(frozen({ foo: 'bar' }), [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }]), { foo: 'bar', baz: 'qux' });
  });

  it('A.12 adding to a nonexistent target is an error', () => {
    rejects(() => applyJsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }]), 'PATCH_CONFLICT', /operation 0: add: the parent of "\/baz\/bat" does not exist/, 0);
  });

  it('A.13 an invalid operations document is rejected (here: an operation without "op")', () => {
    rejects(() => applyJsonPatch({}, [{ path: '/baz', value: 'qux' }]), 'PATCH_INVALID', /operation 0: missing "op"/, 0);
  });

  it('A.14 decodes ~01 as ~1 and not as /', () => {
    const target = frozen({ '/': 9, '~1': 10 });
    assert.deepEqual(applyJsonPatch(target, [{ op: 'test', path: '/~01', value: 10 }]), { '/': 9, '~1': 10 });
  });

  it('A.15 compares strings and numbers strictly', () => {
    rejects(() => applyJsonPatch({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }]), 'PATCH_TEST_FAILED', /~01/);
  });

  it('A.16 adds an array value as one element', () => {
    assert.deepEqual(applyJsonPatch(frozen({ foo: ['bar'] }), [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }]), {
      foo: ['bar', ['abc', 'def']],
    });
  });
});

describe('applyJsonPatch: pointers and operations', () => {
  const doc = frozen({ foo: ['bar', 'baz'], '': 0, 'a/b': 1, 'c%d': 2, 'e^f': 3, 'g|h': 4, 'i\\j': 5, 'k"l': 6, ' ': 7, 'm~n': 8 });

  it('resolves the RFC 6901 section 5 pointers', () => {
    const pointers: [string, unknown][] = [
      ['', doc],
      ['/foo', ['bar', 'baz']],
      ['/foo/0', 'bar'],
      ['/', 0],
      ['/a~1b', 1],
      ['/c%d', 2],
      ['/e^f', 3],
      ['/g|h', 4],
      ['/i\\j', 5],
      ['/k"l', 6],
      ['/ ', 7],
      ['/m~0n', 8],
    ];
    for (const [path, value] of pointers) {
      assert.deepEqual(applyJsonPatch(doc, [{ op: 'test', path, value }]), doc, path);
    }
  });

  it('replaces and adds the whole document with the empty pointer', () => {
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: [1] }]), [1]);
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'add', path: '', value: { b: 2 } }]), { b: 2 });
  });

  it('appends with "-" and inserts at the end index', () => {
    assert.deepEqual(applyJsonPatch({ l: [1] }, [{ op: 'add', path: '/l/-', value: 2 }, { op: 'add', path: '/l/2', value: 3 }]), { l: [1, 2, 3] });
  });

  it('rejects array indices out of bounds, with leading zeros, or "-" outside add', () => {
    rejects(() => applyJsonPatch({ l: [1] }, [{ op: 'add', path: '/l/2', value: 0 }]), 'PATCH_CONFLICT', /out of bounds.*length 1/);
    rejects(() => applyJsonPatch({ l: [1] }, [{ op: 'remove', path: '/l/1' }]), 'PATCH_CONFLICT', /out of bounds/);
    rejects(() => applyJsonPatch({ l: [1, 2] }, [{ op: 'replace', path: '/l/01', value: 0 }]), 'PATCH_CONFLICT', /out of bounds/);
    rejects(() => applyJsonPatch({ l: [1] }, [{ op: 'remove', path: '/l/-' }]), 'PATCH_CONFLICT', /out of bounds/);
    rejects(() => applyJsonPatch({ l: [1] }, [{ op: 'replace', path: '/l/-1', value: 0 }]), 'PATCH_CONFLICT', /out of bounds/);
  });

  it('rejects remove and replace of missing members', () => {
    rejects(() => applyJsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }]), 'PATCH_CONFLICT', /operation 0: remove: path "\/b" does not exist/);
    rejects(() => applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 1 }]), 'PATCH_CONFLICT', /replace: path "\/b" does not exist/);
    rejects(() => applyJsonPatch({ a: 1 }, [{ op: 'add', path: '/a/b', value: 1 }]), 'PATCH_CONFLICT', /parent of "\/a\/b" is a number/);
  });

  it('fails a test of a missing path', () => {
    rejects(() => applyJsonPatch({}, [{ op: 'test', path: '/a', value: null }]), 'PATCH_TEST_FAILED', /"\/a" does not exist/);
  });

  it('compares objects in test regardless of member order, arrays by order', () => {
    const target = frozen({ o: { a: 1, b: [1, { c: null }] } });
    assert.deepEqual(applyJsonPatch(target, [{ op: 'test', path: '/o', value: { b: [1, { c: null }], a: 1 } }]), target);
    rejects(() => applyJsonPatch(target, [{ op: 'test', path: '/o/b', value: [{ c: null }, 1] }]), 'PATCH_TEST_FAILED', /\/o\/b/);
    rejects(() => applyJsonPatch(target, [{ op: 'test', path: '/o', value: { a: 1 } }]), 'PATCH_TEST_FAILED', /\/o/);
  });

  it('copies deeply, so later operations change only one copy', () => {
    const out = applyJsonPatch(frozen({ a: { x: [1] } }), [
      { op: 'copy', from: '/a', path: '/b' },
      { op: 'add', path: '/b/x/-', value: 2 },
    ]);
    assert.deepEqual(out, { a: { x: [1] }, b: { x: [1, 2] } });
  });

  it('moves to the same place as a no-op, and refuses a move into its own child', () => {
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'move', from: '/a', path: '/a' }]), { a: 1 });
    rejects(() => applyJsonPatch({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }]), 'PATCH_INVALID', /operation 0: move: "from" "\/a" is a proper prefix/);
    rejects(() => applyJsonPatch({ a: 1 }, [{ op: 'move', from: '/missing', path: '/b' }]), 'PATCH_CONFLICT', /"\/missing" does not exist/);
  });

  it('applies nothing when a later operation fails (the result is all or nothing)', () => {
    const target = { a: 1 };
    rejects(() => applyJsonPatch(target, [{ op: 'replace', path: '/a', value: 2 }, { op: 'test', path: '/a', value: 1 }]), 'PATCH_TEST_FAILED', /operation 1/, 1);
    assert.deepEqual(target, { a: 1 });
  });

  it('validates the operations document and names the op index and field', () => {
    rejects(() => applyJsonPatch({}, { op: 'add' }), 'PATCH_INVALID', /must be an array of operations, got an object/);
    rejects(() => applyJsonPatch({}, [1]), 'PATCH_INVALID', /operation 0: must be an object, got a number/, 0);
    rejects(() => applyJsonPatch({}, [{ op: 'test', path: '', value: {} }, { op: 'frobnicate', path: '/a' }]), 'PATCH_INVALID', /operation 1: unknown op "frobnicate"/, 1);
    rejects(() => applyJsonPatch({}, [{ op: 'add', value: 1 }]), 'PATCH_INVALID', /operation 0: add: missing "path"/);
    rejects(() => applyJsonPatch({}, [{ op: 'add', path: 5, value: 1 }]), 'PATCH_INVALID', /"path" must be a string/);
    rejects(() => applyJsonPatch({}, [{ op: 'add', path: '/a' }]), 'PATCH_INVALID', /operation 0: add: missing "value"/);
    rejects(() => applyJsonPatch({}, [{ op: 'replace', path: '/a' }]), 'PATCH_INVALID', /replace: missing "value"/);
    rejects(() => applyJsonPatch({}, [{ op: 'test', path: '/a' }]), 'PATCH_INVALID', /test: missing "value"/);
    rejects(() => applyJsonPatch({}, [{ op: 'move', path: '/a' }]), 'PATCH_INVALID', /operation 0: move: missing "from"/);
    rejects(() => applyJsonPatch({}, [{ op: 'copy', path: '/a', from: 3 }]), 'PATCH_INVALID', /copy: "from" must be a string/);
    rejects(() => applyJsonPatch({}, [{ op: 'add', path: 'a', value: 1 }]), 'PATCH_INVALID', /"path" "a" is not a JSON Pointer/);
    rejects(() => applyJsonPatch({}, [{ op: 'add', path: '/a~2', value: 1 }]), 'PATCH_INVALID', /"~" not followed by 0 or 1/);
    rejects(() => applyJsonPatch({}, [{ op: 'remove', path: '' }]), 'PATCH_INVALID', /cannot remove the whole document/);
  });

  it('reports a malformed later operation even when an earlier one would fail against the target', () => {
    rejects(() => applyJsonPatch({}, [{ op: 'remove', path: '/nope' }, { op: 'add', path: '/a' }]), 'PATCH_INVALID', /operation 1/, 1);
  });

  it('accepts null as a value', () => {
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/a', value: null }]), { a: null });
  });

  it('never mutates the target or the operations, and inserted values are copies', () => {
    const target = frozen({ metadata: { labels: { a: '1' } }, list: [1, 2] });
    const value = frozen({ nested: [1] });
    const ops = frozen([
      { op: 'add', path: '/metadata/labels/b', value: '2' },
      { op: 'remove', path: '/list/0' },
      { op: 'add', path: '/v', value },
      { op: 'add', path: '/v/nested/-', value: 2 },
    ]);
    const out = applyJsonPatch(target, ops) as { v: unknown };
    assert.deepEqual(out, { metadata: { labels: { a: '1', b: '2' } }, list: [2], v: { nested: [1, 2] } });
    assert.notEqual(out.v, value);
  });

  it('treats __proto__ as an ordinary member name', () => {
    const out = applyJsonPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as object;
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    rejects(() => applyJsonPatch({}, [{ op: 'add', path: '/constructor/prototype/x', value: 1 }]), 'PATCH_CONFLICT', /does not exist/);
  });
});
