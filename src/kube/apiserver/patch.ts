/**
 * PATCH of an object or its status: JSON patch, JSON merge patch, strategic merge patch (built-in
 * kinds only: custom resources answer 415, as kube-apiserver does), applied to the object as served
 * at the request's version, then stored through the same path as an update. Server-side apply
 * (`application/apply-patch+yaml`) is apply.ts.
 */
import type { Resource } from '../../api/types.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError, patchTypeOf, strategicSchemaFor } from '../patch/index.js';
import { handleApply } from './apply.js';
import type { RequestContext } from './context.js';
import { parseBody, readBody } from './http.js';
import { atVersion, isObject } from './objects.js';
import { bodyObject, composeUpdate, getStored, managedFieldsOf, respondObject, storeUpdate, type Target } from './resources.js';
import { badRequest, invalid, StatusError, unsupportedMediaType } from './status.js';

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

export async function handlePatch(ctx: RequestContext, t: Target): Promise<void> {
  const contentType = t.req.headers['content-type'] ?? '';
  const kind = patchTypeOf(contentType);
  if (kind === undefined) throw unsupportedMediaType(contentType, PATCH_TYPES);
  if (kind === 'apply') return handleApply(ctx, t);
  if (t.url.searchParams.has('force')) {
    const e = invalid('meta.k8s.io', 'PatchOptions', '', [{ reason: 'FieldValueForbidden', field: 'force', message: 'Forbidden: may not be specified for non-apply patch' }]);
    delete e.status.details?.name;
    throw e;
  }
  const strategicSchema = kind === 'strategic' ? strategicSchemaFor(t.type.group, t.type.kind) : undefined;
  if (kind === 'strategic' && (!t.type.builtIn || !strategicSchema)) throw unsupportedMediaType(contentType, PATCH_TYPES.filter((p) => !p.startsWith('application/strategic')));
  const patch = parseBody(await readBody(t.req), 'application/json');
  const dryRun = t.url.searchParams.getAll('dryRun').length > 0;
  const existing = getStored(ctx, t.type, t.info.name!, t.info.namespace);
  const current = atVersion(existing, t.type, t.info.version);
  let patched: unknown;
  try {
    if (kind === 'json') patched = applyJsonPatch(current, patch);
    else if (kind === 'merge') patched = applyMergePatch(current, patch);
    else patched = applyStrategicMergePatch(current, patch, strategicSchema!);
  } catch (e) {
    if (e instanceof PatchError) {
      // kube-apiserver answers a JSON patch that cannot be applied (a failed test, a missing path,
      // an unknown op) with 422 Invalid and empty details; the message here says which operation.
      if (kind === 'json' && (e.opIndex !== undefined || e.code === 'PATCH_TEST_FAILED' || e.code === 'PATCH_CONFLICT')) {
        throw new StatusError('Invalid', e.message, {});
      }
      if (e.code === 'PATCH_TEST_FAILED' || e.code === 'PATCH_CONFLICT') {
        throw invalid(t.type.group, t.type.kind, existing.metadata.name, [{ reason: 'FieldValueInvalid', message: e.message }]);
      }
      throw badRequest(e.message);
    }
    throw e;
  }
  if (!isObject(patched)) throw badRequest('the patched object is not a JSON object');
  const obj = bodyObject(t, patched, t.info.name) as Resource;
  if (obj.metadata.uid && obj.metadata.uid !== existing.metadata.uid) {
    throw new StatusError('Conflict', `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${existing.metadata.uid}`);
  }
  // A resourceVersion the patch itself set is a precondition; the one copied from `current` is not.
  const patchRv = isObject(patch) && isObject(patch.metadata) && typeof patch.metadata.resourceVersion === 'string' ? patch.metadata.resourceVersion : undefined;
  const next = composeUpdate(t, existing, obj);
  respondObject(ctx, t, 200, await storeUpdate(ctx, t, existing, next, dryRun, patchRv, { given: managedFieldsOf(obj) }));
}
