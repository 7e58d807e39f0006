/**
 * Server-side apply: PATCH with `application/apply-patch+yaml`. The applied configuration is merged
 * into the live object (or creates it) by the engine in src/kube/apply, with conflicts answered 409
 * as kube-apiserver words them, and the result stored through the same paths as create and update.
 */
import type { Resource } from '../../api/types.js';
import { authorizeRequest } from '../auth/index.js';
import { apply, applyUpgradingClientSide, ApplyConfigError, conflictMessage, conflictWith, pathString, undeclaredField } from '../apply/index.js';
import type { RequestContext } from './context.js';
import { managerOf, operationOf } from './field-manager.js';
import { parseBody, readBody } from './http.js';
import { atVersion, isObject, keyOf } from './objects.js';
import { bodyObject, composeUpdate, createObject, respondObject, storeUpdate, type Target } from './resources.js';
import { badRequest, notFound, StatusError } from './status.js';

function forceOf(t: Target): boolean {
  const v = t.url.searchParams.get('force');
  if (v === null || v === '' || v === 'false') return false;
  if (v === 'true') return true;
  throw badRequest(`force: Invalid value: "${v}": must be true or false`);
}

export async function handleApply(ctx: RequestContext, t: Target): Promise<void> {
  const manager = managerOf(t, true);
  const force = forceOf(t);
  const dryRunValues = t.url.searchParams.getAll('dryRun');
  for (const v of dryRunValues) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  const dryRun = dryRunValues.length > 0;
  const raw = parseBody(await readBody(t.req), 'application/yaml');
  if (!isObject(raw)) throw badRequest('the applied configuration must be a YAML or JSON object');
  if (typeof raw.apiVersion !== 'string' || raw.apiVersion === '') throw badRequest('the applied configuration has no apiVersion: server-side apply needs apiVersion and kind');
  if (typeof raw.kind !== 'string' || raw.kind === '') throw badRequest('the applied configuration has no kind: server-side apply needs apiVersion and kind');
  if (isObject(raw.metadata) && raw.metadata.managedFields !== undefined && raw.metadata.managedFields !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }
  // Checks kind, apiVersion, name and namespace against the URL; the copy also carries them.
  const config = bodyObject(t, structuredClone(raw), t.info.name) as unknown as Record<string, unknown>;
  if (!t.type.builtIn) {
    // kube-apiserver's typed conversion of the configuration refuses an undeclared field (a 500,
    // with this message), whatever fieldValidation says
    const bad = undeclaredField(raw, t.type.versions.find((v) => v.name === t.info.version)?.schema);
    if (bad) {
      const ns = isObject(raw.metadata) && typeof raw.metadata.namespace === 'string' ? raw.metadata.namespace : '';
      const e = new StatusError('InternalError', `failed to create typed patch object (${ns}/${t.info.name!}; ${raw.apiVersion}, Kind=${raw.kind}): ${bad}: field not declared in schema`);
      delete e.status.reason;
      throw e;
    }
  }
  const op = operationOf(ctx, t, manager);
  const existing = ctx.storage.get(keyOf(t.type, t.info.name!, t.info.namespace));
  const configRv = isObject(config.metadata) && typeof config.metadata.resourceVersion === 'string' && config.metadata.resourceVersion !== '' ? config.metadata.resourceVersion : undefined;

  if (!existing) {
    if (t.info.subresource) throw notFound(t.type.group, t.type.plural, t.info.name!);
    // kube-apiserver authorizes an apply that creates as a create of this name, beside the patch.
    await authorizeRequest(ctx.authorize, ctx.user, 'POST', t.url, t.info);
    const result = merged(() => apply(undefined, config, op, force));
    const obj = result.object as unknown as Resource;
    for (const f of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) delete obj.metadata[f];
    await createObject(ctx, t, obj, dryRun, result.managedFields);
    return;
  }
  const live = atVersion(existing, t.type, t.info.version) as unknown as Record<string, unknown>;
  const result = merged(() => applyUpgradingClientSide(live, config, op, force));
  const obj = bodyObject(t, result.object, t.info.name);
  if (obj.metadata.uid && obj.metadata.uid !== existing.metadata.uid) {
    throw new StatusError('Conflict', `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${existing.metadata.uid}`);
  }
  const next = composeUpdate(t, existing, obj);
  const stored = await storeUpdate(ctx, t, existing, next, dryRun, configRv, { applied: result.managedFields });
  respondObject(ctx, t, 200, stored);
}

/** Runs the engine; conflicts become kube-apiserver's 409, an unmergeable configuration a 400. */
function merged(run: () => ReturnType<typeof apply>): Extract<ReturnType<typeof apply>, { ok: true }> {
  let result: ReturnType<typeof apply>;
  try {
    result = run();
  } catch (e) {
    if (e instanceof ApplyConfigError) throw badRequest(`the applied configuration cannot be merged: ${e.message}`);
    throw e;
  }
  if (result.ok) return result;
  throw new StatusError('Conflict', conflictMessage(result.conflicts), {
    causes: result.conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${conflictWith(c)}`,
      field: pathString(c.path),
    })),
  });
}
