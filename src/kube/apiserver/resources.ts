/**
 * get, list, create, update, delete and deletecollection of any served type, with the semantics
 * kube-apiserver gives them: optimistic concurrency, generateName, dry-run, status subresources,
 * finalizers and deletion timestamps, delete preconditions and propagation policies.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Resource } from '../../api/types.js';
import { apiVersionOf, type ResourceType } from '../registry/index.js';
import type { ObjectKey } from './backend.js';
import type { RequestContext } from './context.js';
import { parseBody, readBody, sendJson } from './http.js';
import type { Representation } from './negotiate.js';
import { atVersion, generateName, isObject, keyOf, kubeNow, toStorage } from './objects.js';
import type { ResourceRequest } from './request-info.js';
import { matches, parseFieldSelector, parseLabelSelector, type Selection } from './selectors.js';
import { alreadyExists, badRequest, conflict, invalid, notFound, qualifiedResource, StatusError, successStatus, toStatusError } from './status.js';
import { renderTable } from './table-view.js';
import { builtinAdmission, CRD_CLEANUP_FINALIZER, fieldValidationOf } from './builtin-admission.js';
import { mutateByWebhooks, validateByWebhooks } from './webhook-admission.js';
import type { ManagedFieldsEntry } from '../apply/index.js';
import { withUpdateFields } from './field-manager.js';

export interface Target {
  info: ResourceRequest;
  type: ResourceType;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  representation: Representation;
}

/**
 * What admission needs of a request: its type and version, namespace and subresource, the query
 * (fieldValidation) and where warnings go. An in-process create (createInProcess) supplies its own.
 */
export interface AdmissionTarget {
  info: Pick<ResourceRequest, 'version' | 'namespace' | 'subresource' | 'verb' | 'name'>;
  type: ResourceType;
  url: URL;
  res: { appendHeader(name: string, value: string): unknown };
}

export function hasStatusSubresource(type: ResourceType, version: string): boolean {
  if (type.builtIn) return type.subresources.includes('status');
  return type.versions.find((v) => v.name === version)?.subresources?.includes('status') ?? false;
}

export function selectionOf(url: URL, type: ResourceType): Selection {
  const sel: Selection = { fields: parseFieldSelector(url.searchParams.get('fieldSelector'), type.group, type.kind, { custom: !type.builtIn, namespaced: type.namespaced }) };
  const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
  if (labels) sel.labels = labels;
  return sel;
}

function isDryRun(url: URL): boolean {
  const values = url.searchParams.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

export function getStored(ctx: RequestContext, type: ResourceType, name: string, namespace: string | undefined): Resource {
  const obj = ctx.storage.get(keyOf(type, name, namespace));
  if (!obj) throw notFound(type.group, type.plural, name);
  return obj;
}

/** Answers with one object (or its Table row / metadata when the client asked for that). */
export function respondObject(ctx: RequestContext, t: Target, code: number, obj: Resource): void {
  const served = atVersion(obj, t.type, t.info.version);
  if (t.representation.as === 'Table') {
    sendJson(t.res, code, renderTable(ctx, t.type, t.info.version, [served], t.representation.includeObject, obj.metadata.resourceVersion));
  } else if (t.representation.as === 'PartialObjectMetadata' || t.representation.as === 'PartialObjectMetadataList') {
    sendJson(t.res, code, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: served.metadata });
  } else {
    sendJson(t.res, code, served);
  }
}

export function handleGet(ctx: RequestContext, t: Target): void {
  respondObject(ctx, t, 200, getStored(ctx, t.type, t.info.name!, t.info.namespace));
}

// ---------------------------------------------------------------------------------------------
// list, with limit/continue

interface ContinueToken {
  /** the revision of the first page */
  rv: number;
  /** the last key returned */
  start: string;
}

function sortKey(o: Resource): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    if (typeof t.rv === 'number' && typeof t.start === 'string') return t;
  } catch {
    // fall through to the error
  }
  throw badRequest('continue key is not valid: the token is malformed');
}

export function listObjects(ctx: RequestContext, type: ResourceType, namespace: string | undefined, sel: Selection): { items: Resource[]; revision: number } {
  const { items, revision } = ctx.storage.list(type.group, type.kind, type.namespaced ? namespace : undefined);
  return { items: items.filter((o) => matches(o, sel)).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0)), revision };
}

export function handleList(ctx: RequestContext, t: Target): void {
  const { type, info, url } = t;
  const sel = selectionOf(url, type);
  const { items: all, revision } = listObjects(ctx, type, info.namespace, sel);
  let items = all;
  let firstRevision = revision;
  const cont = url.searchParams.get('continue');
  if (cont) {
    const token = decodeContinue(cont);
    firstRevision = token.rv;
    items = items.filter((o) => sortKey(o) > token.start);
  }
  const limitParam = url.searchParams.get('limit');
  const limit = limitParam ? Number(limitParam) : 0;
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`limit: Invalid value: "${limitParam}": must be a non-negative integer`);
  const metadata: Record<string, unknown> = { resourceVersion: String(firstRevision) };
  if (limit > 0 && items.length > limit) {
    const page = items.slice(0, limit);
    metadata.continue = Buffer.from(JSON.stringify({ rv: firstRevision, start: sortKey(page[page.length - 1]!) })).toString('base64url');
    metadata.remainingItemCount = items.length - limit;
    items = page;
  }
  const served = items.map((o) => atVersion(o, type, info.version));
  if (t.representation.as === 'Table') {
    const table = renderTable(ctx, type, info.version, served, t.representation.includeObject, String(firstRevision)) as { metadata: Record<string, unknown> };
    table.metadata = metadata;
    sendJson(t.res, 200, table);
    return;
  }
  if (t.representation.as === 'PartialObjectMetadataList' || t.representation.as === 'PartialObjectMetadata') {
    sendJson(t.res, 200, {
      kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata,
      items: served.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata })),
    });
    return;
  }
  sendJson(t.res, 200, { kind: type.listKind, apiVersion: apiVersionOf(type.group, info.version), metadata, items: served });
}

// ---------------------------------------------------------------------------------------------
// create

/** Checks the body names this type and this namespace, and returns it as an object. */
export function bodyObject(t: Target, raw: unknown, name?: string): Resource {
  if (!isObject(raw)) throw badRequest('the request body must be a JSON object');
  const obj = raw as unknown as Resource;
  const expectedApiVersion = atVersion(obj, t.type, t.info.version).apiVersion;
  if (obj.kind !== undefined && obj.kind !== t.type.kind) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expectedApiVersion}) or the kind "${String(obj.kind)}" is not ${t.type.kind}`);
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== expectedApiVersion) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expectedApiVersion})`);
  }
  if (!isObject(obj.metadata)) obj.metadata = { name: '' };
  const ns = obj.metadata.namespace;
  if (t.type.namespaced) {
    if (ns !== undefined && ns !== '' && t.info.namespace !== undefined && ns !== t.info.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (t.info.namespace !== undefined) obj.metadata.namespace = t.info.namespace;
  } else {
    delete obj.metadata.namespace;
  }
  if (name !== undefined) {
    if (obj.metadata.name && obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
  }
  return { ...obj, kind: t.type.kind, apiVersion: expectedApiVersion };
}

function requireNamespace(ctx: RequestContext, t: AdmissionTarget, namespace: string | undefined): void {
  if (!t.type.namespaced) return;
  if (namespace === undefined) throw badRequest(`the server could not find the requested resource: ${t.type.plural} are namespaced`);
  const ns = ctx.storage.get({ group: '', kind: 'Namespace', name: namespace });
  if (!ns) throw notFound('', 'namespaces', namespace);
  if (ns.metadata.deletionTimestamp) {
    throw new StatusError('Forbidden', `${t.type.singular} "${t.info.name ?? ''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
  }
}

/** Server-owned metadata a client may not set on create. */
function stripServerMetadata(obj: Resource): void {
  const m = obj.metadata;
  delete m.uid;
  delete m.resourceVersion;
  delete m.creationTimestamp;
  delete m.deletionTimestamp;
  delete m.deletionGracePeriodSeconds;
  delete m.generation;
  delete (m as { managedFields?: unknown }).managedFields;
}

export async function handleCreate(ctx: RequestContext, t: Target): Promise<void> {
  const dryRun = isDryRun(t.url);
  const obj = bodyObject(t, parseBody(await readBody(t.req), t.req.headers['content-type']));
  stripServerMetadata(obj);
  await createObject(ctx, t, obj, dryRun);
}

/**
 * Creates `obj` (already checked against the request) and answers 201. `managedFields` are the
 * apply's when server-side apply creates the object; otherwise the create is an Update by the
 * request's manager.
 */
export async function createObject(ctx: RequestContext, t: Target, obj: Resource, dryRun: boolean, managedFields?: ManagedFieldsEntry[]): Promise<void> {
  if (!obj.metadata.name) {
    if (obj.metadata.generateName) obj.metadata.name = generateName(obj.metadata.generateName);
    else throw invalid(t.type.group, t.type.kind, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
  }
  requireNamespace(ctx, t, obj.metadata.namespace);
  if (t.type.group === '' && t.type.kind === 'Namespace') {
    // The namespace controller's finalizer: a deleted namespace goes away only once it is empty.
    obj.spec = { ...(obj.spec as object | undefined), finalizers: ['kubernetes'] };
    obj.status = { phase: 'Active' };
  }
  const admittedObj = await admitted(ctx, t, 'CREATE', toStorage(obj, t.type), undefined, dryRun);
  const stored = managedFields ? withManagedFields(admittedObj, managedFields) : withUpdateFields(ctx, t, undefined, admittedObj);
  if (ctx.storage.get(keyOf(t.type, stored.metadata.name, stored.metadata.namespace))) {
    throw alreadyExists(t.type.group, t.type.plural, stored.metadata.name);
  }
  if (dryRun) {
    // kube-apiserver fills in what a real create would (a fresh uid, the creation time), not a resourceVersion
    respondObject(ctx, t, 201, { ...stored, metadata: { ...stored.metadata, uid: stored.metadata.uid || randomUUID(), creationTimestamp: kubeNow(ctx.now()) } });
    return;
  }
  respondObject(ctx, t, 201, ctx.storage.create(stored));
}

/**
 * A create from inside the server (the local controllers, as kube-controller-manager's loopback
 * client would send it): the same admission chain as a request of `ctx.user`, without HTTP.
 * Authorization is the caller's: it is the server itself.
 */
export async function createInProcess(ctx: RequestContext, type: ResourceType, version: string, given: Resource): Promise<{ object: Resource; warnings: string[] }> {
  const obj = structuredClone(given);
  if (!isObject(obj.metadata)) obj.metadata = { name: '' };
  stripServerMetadata(obj);
  if (!type.namespaced) delete obj.metadata.namespace;
  if (!obj.metadata.name) {
    if (obj.metadata.generateName) obj.metadata.name = generateName(obj.metadata.generateName);
    else throw invalid(type.group, type.kind, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
  }
  const warnings: string[] = [];
  const info: AdmissionTarget['info'] = { verb: 'create', version, name: obj.metadata.name };
  if (type.namespaced && obj.metadata.namespace !== undefined) info.namespace = obj.metadata.namespace;
  const t: AdmissionTarget = {
    type, info, url: new URL('https://localhost/'),
    res: { appendHeader: (_name, value) => warnings.push(value) },
  };
  requireNamespace(ctx, t, obj.metadata.namespace);
  const stored = await admitted(ctx, t, 'CREATE', toStorage({ ...obj, kind: type.kind, apiVersion: apiVersionOf(type.group, version) }, type), undefined, false);
  if (ctx.storage.get(keyOf(type, stored.metadata.name, stored.metadata.namespace))) throw alreadyExists(type.group, type.plural, stored.metadata.name);
  return { object: ctx.storage.create(stored), warnings };
}

/** The managedFields a request's object carries (composeUpdate drops them from what is stored). */
export function managedFieldsOf(obj: Resource): unknown {
  return (obj.metadata as { managedFields?: unknown }).managedFields;
}

export function withManagedFields(obj: Resource, managedFields: ManagedFieldsEntry[]): Resource {
  const meta = { ...obj.metadata } as Resource['metadata'] & { managedFields?: ManagedFieldsEntry[] };
  if (managedFields.length > 0) meta.managedFields = managedFields;
  else delete meta.managedFields;
  return { ...obj, metadata: meta };
}

async function admitted(ctx: RequestContext, t: AdmissionTarget, operation: 'CREATE' | 'UPDATE', given: Resource, old: Resource | undefined, dryRun: boolean): Promise<Resource> {
  const own = decoded(t, () => builtinAdmission(t.type, t.info.version, given, operation, old, fieldValidationOf(t.url), t.info.subresource, ctx.now()));
  let obj = own.object;
  // Warnings reach kubectl as `Warning:` lines (the HTTP Warning header, code 299).
  for (const w of own.warnings) t.res.appendHeader('warning', `299 - ${JSON.stringify(w)}`);
  if (ctx.admission.mutate) {
    const req: Parameters<NonNullable<RequestContext['admission']['mutate']>>[0] = { operation, type: t.type, object: obj, dryRun, user: ctx.user };
    if (old) req.oldObject = old;
    if (t.info.subresource) req.subresource = t.info.subresource;
    try {
      obj = toStorage((await ctx.admission.mutate(req)) ?? obj, t.type);
    } catch (e) {
      throw asStatusError(e, t, obj.metadata.name);
    }
  }
  // Mutating admission webhooks, then the server's own checks again on what they changed.
  const mutated = await mutateByWebhooks(ctx, t, operation, obj, old, dryRun);
  if (mutated.changed && mutated.object) {
    const again = mutated.object;
    obj = decoded(t, () => builtinAdmission(t.type, t.info.version, toStorage(again, t.type), operation, old, fieldValidationOf(t.url), t.info.subresource, ctx.now())).object;
  }
  let final: Resource;
  try {
    const req: Parameters<RequestContext['admission']['admit']>[0] = { operation, type: t.type, object: obj, dryRun, user: ctx.user };
    if (old) req.oldObject = old;
    if (t.info.subresource) req.subresource = t.info.subresource;
    const out = await ctx.admission.admit(req);
    final = toStorage(out ?? obj, t.type);
    for (const w of ctx.admission.warnings?.({ ...req, object: final }) ?? []) t.res.appendHeader('warning', `299 - ${JSON.stringify(w)}`);
  } catch (e) {
    throw asStatusError(e, t, obj.metadata.name);
  }
  await validateByWebhooks(ctx, t, operation, final, old, dryRun);
  return final;
}

/**
 * A body refused by strict field validation on create or update is, in kube-apiserver's words, one
 * its decoder could not handle: `Widget in version "v1" cannot be handled as a Widget: strict
 * decoding error: unknown field "spec.shape"` (400).
 */
function decoded<T>(t: AdmissionTarget, admit: () => T): T {
  try {
    return admit();
  } catch (e) {
    if (t.info.verb !== 'patch' && e instanceof StatusError && e.status.reason === 'BadRequest' && e.message.startsWith('strict decoding error:')) {
      throw badRequest(`${t.type.kind} in version "${t.info.version}" cannot be handled as a ${t.type.kind}: ${e.message}`);
    }
    throw e;
  }
}

function asStatusError(e: unknown, t: AdmissionTarget, name: string): StatusError {
  return toStatusError(e, { group: t.type.group, kind: t.type.kind, name });
}

// ---------------------------------------------------------------------------------------------
// update (PUT) and the status subresource

/**
 * The object an update stores: server-owned metadata from the stored object, status from the stored
 * object when the type has a status subresource (and everything else from it for a status update).
 */
export function composeUpdate(t: Target, existing: Resource, incoming: Resource): Resource {
  const statusOnly = t.info.subresource === 'status';
  const keepStatus = hasStatusSubresource(t.type, t.info.version);
  const base: Resource = statusOnly ? { ...structuredClone(existing), status: structuredClone(incoming.status) } : { ...incoming };
  if (!statusOnly && keepStatus) {
    if (existing.status === undefined) delete base.status;
    else base.status = structuredClone(existing.status);
  }
  const meta = statusOnly ? { ...existing.metadata } : { ...incoming.metadata };
  meta.uid = existing.metadata.uid;
  meta.creationTimestamp = existing.metadata.creationTimestamp;
  if (existing.metadata.deletionTimestamp) meta.deletionTimestamp = existing.metadata.deletionTimestamp;
  else delete meta.deletionTimestamp;
  meta.generation = existing.metadata.generation;
  delete (meta as { managedFields?: unknown }).managedFields;
  meta.name = existing.metadata.name;
  if (existing.metadata.namespace !== undefined) meta.namespace = existing.metadata.namespace;
  base.metadata = meta;
  return base;
}

/** Writes an update (after admission); a finalizer-less object marked for deletion goes away here. */
export async function storeUpdate(
  ctx: RequestContext, t: Target, existing: Resource, next: Resource, dryRun: boolean, expectRv?: string,
  fields: { applied?: ManagedFieldsEntry[]; given?: unknown } = {},
): Promise<Resource> {
  if (expectRv && expectRv !== existing.metadata.resourceVersion) throw conflict(t.type.group, t.type.plural, existing.metadata.name);
  if (existing.metadata.deletionTimestamp) {
    // Finalizers may only be removed from an object being deleted, never added back.
    const before = new Set(existing.metadata.finalizers ?? []);
    const added = (next.metadata.finalizers ?? []).filter((f) => !before.has(f));
    if (added.length > 0) {
      throw invalid(t.type.group, t.type.kind, existing.metadata.name, [{ reason: 'FieldValueForbidden', field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` }]);
    }
  }
  const operation = 'UPDATE';
  const admittedObj = await admitted(ctx, t, operation, toStorage(next, t.type), existing, dryRun);
  const stored = fields.applied ? withManagedFields(admittedObj, fields.applied) : withUpdateFields(ctx, t, existing, admittedObj, fields.given);
  if (dryRun) return { ...stored, metadata: { ...stored.metadata, resourceVersion: existing.metadata.resourceVersion } };
  const writeOpts = { expectResourceVersion: existing.metadata.resourceVersion! };
  const specFinalizers = t.type.group === '' && t.type.kind === 'Namespace' ? ((stored.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []) : [];
  if (stored.metadata.deletionTimestamp && (stored.metadata.finalizers ?? []).length === 0 && specFinalizers.length === 0) {
    return ctx.storage.delete(keyOf(t.type, existing.metadata.name, existing.metadata.namespace), writeOpts);
  }
  return ctx.storage.update(stored, writeOpts).object;
}

export async function handleUpdate(ctx: RequestContext, t: Target): Promise<void> {
  const dryRun = isDryRun(t.url);
  const incoming = bodyObject(t, parseBody(await readBody(t.req), t.req.headers['content-type']), t.info.name);
  const existing = getStored(ctx, t.type, t.info.name!, t.info.namespace);
  const next = composeUpdate(t, existing, incoming);
  const stored = await storeUpdate(ctx, t, existing, next, dryRun, incoming.metadata.resourceVersion || undefined, { given: managedFieldsOf(incoming) });
  respondObject(ctx, t, 200, stored);
}

// ---------------------------------------------------------------------------------------------
// delete

interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

async function deleteOptions(t: Target): Promise<DeleteOptions> {
  const body = await readBody(t.req);
  const opts: DeleteOptions = body.length > 0 && body.toString().trim() !== '' ? (parseBody(body, t.req.headers['content-type'] ?? 'application/json') as DeleteOptions) : {};
  if (!isObject(opts)) throw badRequest('DeleteOptions must be a JSON object');
  const q = t.url.searchParams;
  const pp = q.get('propagationPolicy');
  if (pp) opts.propagationPolicy = pp as DeleteOptions['propagationPolicy'];
  if (q.get('gracePeriodSeconds')) opts.gracePeriodSeconds = Number(q.get('gracePeriodSeconds'));
  if (q.get('orphanDependents')) opts.orphanDependents = q.get('orphanDependents') === 'true';
  if (q.getAll('dryRun').length > 0) opts.dryRun = q.getAll('dryRun');
  if (opts.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(String(opts.propagationPolicy))) {
    throw invalid('meta.k8s.io', 'DeleteOptions', '', [{ reason: 'FieldValueNotSupported', field: 'propagationPolicy', message: `Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"` }]);
  }
  return opts;
}

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

/**
 * Deletes one object: at once when nothing holds it, or by marking it (deletionTimestamp) when
 * finalizers remain; `Foreground` and `Orphan` add the garbage collector's finalizers first.
 * Returns the object as it was deleted or marked, and whether it is gone.
 */
export async function deleteObject(ctx: RequestContext, t: Target, existing: Resource, opts: DeleteOptions, dryRun: boolean): Promise<{ object: Resource; gone: boolean }> {
  const pre = opts.preconditions ?? {};
  if (pre.uid && pre.uid !== existing.metadata.uid) {
    throw conflict(t.type.group, t.type.plural, existing.metadata.name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) {
    throw conflict(t.type.group, t.type.plural, existing.metadata.name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`);
  }
  if (t.type.group === '' && t.type.kind === 'Namespace' && ['default', 'kube-system', 'kube-public'].includes(existing.metadata.name)) {
    throw new StatusError('Forbidden', `namespaces "${existing.metadata.name}" is forbidden: this namespace may not be deleted`);
  }
  await mutateByWebhooks(ctx, t, 'DELETE', undefined, existing, dryRun);
  try {
    await ctx.admission.admit({ operation: 'DELETE', type: t.type, oldObject: existing, dryRun, user: ctx.user });
  } catch (e) {
    throw asStatusError(e, t, existing.metadata.name);
  }
  await validateByWebhooks(ctx, t, 'DELETE', undefined, existing, dryRun);
  const finalizers = [...(existing.metadata.finalizers ?? [])];
  const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : undefined);
  if (policy === 'Foreground' && !finalizers.includes(FOREGROUND_FINALIZER)) finalizers.push(FOREGROUND_FINALIZER);
  if (policy === 'Orphan' && !finalizers.includes(ORPHAN_FINALIZER)) finalizers.push(ORPHAN_FINALIZER);
  // A CRD's resources are deleted with it, by the CRD lifecycle controller, before it goes away.
  const isCrd = t.type.group === 'apiextensions.k8s.io' && t.type.kind === 'CustomResourceDefinition';
  if (isCrd && !finalizers.includes(CRD_CLEANUP_FINALIZER)) finalizers.push(CRD_CLEANUP_FINALIZER);
  // A Namespace is emptied by the namespace controller before it goes away, as in Kubernetes.
  const isNamespace = t.type.group === '' && t.type.kind === 'Namespace';
  if (finalizers.length === 0 && !isNamespace) {
    if (dryRun) return { object: existing, gone: true };
    const gone = ctx.storage.delete(keyOf(t.type, existing.metadata.name, existing.metadata.namespace), { expectUid: existing.metadata.uid! });
    return { object: gone, gone: true };
  }
  if (existing.metadata.deletionTimestamp && finalizers.length === (existing.metadata.finalizers ?? []).length) {
    return { object: existing, gone: false };
  }
  const marked = structuredClone(existing);
  marked.metadata.deletionTimestamp = existing.metadata.deletionTimestamp ?? kubeNow(ctx.now());
  marked.metadata.deletionGracePeriodSeconds = 0;
  if (finalizers.length > 0) marked.metadata.finalizers = finalizers;
  if (isNamespace) marked.status = { ...(marked.status as object), phase: 'Terminating' };
  if (dryRun) return { object: marked, gone: false };
  return { object: ctx.storage.update(marked, { expectResourceVersion: existing.metadata.resourceVersion! }).object, gone: false };
}

export async function handleDelete(ctx: RequestContext, t: Target): Promise<void> {
  const opts = await deleteOptions(t);
  const dryRun = (opts.dryRun ?? []).length > 0;
  const existing = getStored(ctx, t.type, t.info.name!, t.info.namespace);
  const { object, gone } = await deleteObject(ctx, t, existing, opts, dryRun);
  if (gone && t.type.builtIn && t.type.group === '' && !['Pod', 'Namespace'].includes(t.type.kind)) {
    // kube-apiserver answers most core deletions with a Status; pods and namespaces return the object.
    sendJson(t.res, 200, successStatus({ name: object.metadata.name, kind: t.type.plural, uid: object.metadata.uid! }));
    return;
  }
  respondObject(ctx, t, gone ? 200 : 202, object);
}

export async function handleDeleteCollection(ctx: RequestContext, t: Target): Promise<void> {
  const opts = await deleteOptions(t);
  const dryRun = (opts.dryRun ?? []).length > 0;
  const { items } = listObjects(ctx, t.type, t.info.namespace, selectionOf(t.url, t.type));
  const deleted: Resource[] = [];
  for (const obj of items) {
    try {
      deleted.push((await deleteObject(ctx, t, obj, opts, dryRun)).object);
    } catch (e) {
      // An object deleted meanwhile is simply gone; anything else stops the collection delete.
      if (!(e instanceof StatusError && e.status.reason === 'NotFound')) throw e;
    }
  }
  sendJson(t.res, 200, { kind: t.type.listKind, apiVersion: apiVersionOf(t.type.group, t.info.version), metadata: {}, items: deleted.map((o) => atVersion(o, t.type, t.info.version)) });
}

export function describeTarget(t: { type: ResourceType; info: ResourceRequest }): string {
  return `${qualifiedResource(t.type.group, t.type.plural)}${t.info.name ? ` "${t.info.name}"` : ''}`;
}

export type { ObjectKey };
