import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { patchTypeOf } from './index.js';

describe('patchTypeOf', () => {
  it('maps the four Kubernetes patch media types', () => {
    assert.equal(patchTypeOf('application/json-patch+json'), 'json');
    assert.equal(patchTypeOf('application/merge-patch+json'), 'merge');
    assert.equal(patchTypeOf('application/strategic-merge-patch+json'), 'strategic');
    assert.equal(patchTypeOf('application/apply-patch+yaml'), 'apply');
  });

  it('ignores parameters, surrounding space and case', () => {
    assert.equal(patchTypeOf('application/merge-patch+json; charset=utf-8'), 'merge');
    assert.equal(patchTypeOf(' Application/Strategic-Merge-Patch+JSON ;charset=UTF-8'), 'strategic');
    assert.equal(patchTypeOf('application/apply-patch+yaml;charset=utf-8'), 'apply');
  });

  it('answers undefined for anything else', () => {
    assert.equal(patchTypeOf('application/json'), undefined);
    assert.equal(patchTypeOf('application/yaml'), undefined);
    assert.equal(patchTypeOf(''), undefined);
    assert.equal(patchTypeOf('application/json-patch+json-x'), undefined);
  });
});
