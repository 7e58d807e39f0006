/** For the validators' tests: the message a manifest is refused with, one problem per line. */
import assert from 'node:assert/strict';
import { MeshError } from '../../lib/errors.js';
import { validateResource } from './index.js';

/** Validates `obj` and returns the refusal's lines; fails the test when `obj` is accepted or refused with another error. */
export function refusalLines(obj: unknown, ctx: Parameters<typeof validateResource>[1]): string[] {
  try {
    validateResource(obj, ctx);
  } catch (e) {
    assert.ok(e instanceof MeshError, String(e));
    assert.equal(e.code, 'MESH_ERR_MANIFEST_INVALID', e.message);
    return e.message.split('\n');
  }
  assert.fail('expected validation to fail');
}
