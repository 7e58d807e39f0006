/**
 * kube-apiserver's MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins over the stored
 * webhook configurations. The server calls `mutate` after its own mutating admission and before
 * validation (mutating webhooks one after another, configurations sorted by name, webhooks in their
 * order, each seeing the previous one's patch; `IfNeeded` webhooks called once more when a later one
 * changed the object), and `validate` once the object is final (all matching webhooks at once; any
 * refusal refuses the request). Webhook configurations themselves are never sent to webhooks, so a
 * broken webhook can always be removed.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '../../api/types.js';
import type { KubeStorage, UserInfo } from '../apiserver/backend.js';
import { StatusError, type StatusReason } from '../apiserver/status.js';
import { applyJsonPatch, PatchError } from '../patch/index.js';
import { apiVersionOf, storageApiVersion, type ResourceType } from '../registry/index.js';
import { callWebhook, reviewVersionFor, type ResolveService, type ReviewResponse } from './call.js';
import { WebhookCallError } from './errors.js';
import { webhookMatches, type MatchRequest } from './matching.js';
import { resolveServiceIn } from './service.js';
import { ADMISSIONREGISTRATION_GROUP, MUTATING_KIND, VALIDATING_KIND, WEBHOOK_CONFIG_KINDS, type Webhook, type WebhookConfiguration } from './types.js';

export interface AdmissionAttributes {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  type: ResourceType;
  /** the version the request named (objects are sent at it unless matchPolicy Equivalent chose another) */
  version: string;
  subresource?: string;
  name: string;
  namespace?: string;
  /** the object to store, in the server's form (storage version); absent for DELETE */
  object?: Resource;
  oldObject?: Resource;
  dryRun: boolean;
  user: UserInfo;
}

export interface MutationResult {
  /** the object after every patch, in the server's form */
  object: Resource | undefined;
  /** whether any webhook changed it (the server validates it again) */
  changed: boolean;
  warnings: string[];
}

interface Hook {
  config: string;
  webhook: Webhook;
}

export interface AdmissionWebhooksOptions {
  log?: (line: string) => void;
}

const OPTIONS_KIND = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions' } as const;

const isConfigKind = (t: ResourceType): boolean =>
  t.group === ADMISSIONREGISTRATION_GROUP && (WEBHOOK_CONFIG_KINDS as readonly string[]).includes(t.kind);

export class AdmissionWebhooks {
  private readonly configs = { [MUTATING_KIND]: new Map<string, WebhookConfiguration>(), [VALIDATING_KIND]: new Map<string, WebhookConfiguration>() };
  private readonly unwatch: () => void;
  private readonly resolve: ResolveService;
  private readonly log: (line: string) => void;

  constructor(private readonly storage: KubeStorage, opts: AdmissionWebhooksOptions = {}) {
    this.log = opts.log ?? (() => undefined);
    this.resolve = resolveServiceIn(storage);
    let revision = 0;
    for (const kind of WEBHOOK_CONFIG_KINDS) {
      const listed = storage.list(ADMISSIONREGISTRATION_GROUP, kind);
      for (const o of listed.items) this.configs[kind].set(o.metadata.name, o as WebhookConfiguration);
      revision = revision === 0 ? listed.revision : Math.min(revision, listed.revision);
    }
    // The configurations in memory, kept current by a watch (kube-apiserver reads them from an informer).
    this.unwatch = storage.watch((e) => {
      if (!e.object.apiVersion.startsWith(`${ADMISSIONREGISTRATION_GROUP}/`)) return;
      const map = this.configs[e.object.kind as keyof typeof this.configs];
      if (!map) return;
      if (e.type === 'DELETED') map.delete(e.object.metadata.name);
      else map.set(e.object.metadata.name, e.object as WebhookConfiguration);
    }, revision);
  }

  close(): void {
    this.unwatch();
  }

  /** The webhooks of one kind, configurations by name, webhooks in their order. */
  private hooks(kind: typeof MUTATING_KIND | typeof VALIDATING_KIND): Hook[] {
    const configs = [...this.configs[kind].values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
    return configs.flatMap((c) => (c.webhooks ?? []).map((webhook) => ({ config: c.metadata.name, webhook })));
  }

  private matchRequest(a: AdmissionAttributes, object: Resource | undefined): MatchRequest {
    const req: MatchRequest = { operation: a.operation, type: a.type, version: a.version };
    if (a.subresource) req.subresource = a.subresource;
    if (object) req.object = object;
    if (a.oldObject) req.oldObject = a.oldObject;
    if (a.type.namespaced && a.namespace) {
      req.namespaceLabels = this.storage.get({ group: '', kind: 'Namespace', name: a.namespace })?.metadata.labels ?? {};
    }
    return req;
  }

  /** Runs the matching mutating webhooks in order; throws the StatusError a refusal or failure means. */
  async mutate(a: AdmissionAttributes): Promise<MutationResult> {
    const warnings: string[] = [];
    let object = a.object;
    let changed = false;
    if (isConfigKind(a.type)) return { object, changed, warnings };
    const hooks = this.hooks(MUTATING_KIND);
    if (hooks.length === 0) return { object, changed, warnings };
    // which IfNeeded webhooks saw the object before a later webhook changed it
    const reinvoke = new Set<Hook>();
    const calledIfNeeded: Hook[] = [];
    for (const hook of hooks) {
      const out = await this.callOne(hook, a, object, true);
      if (!out) continue;
      warnings.push(...out.warnings);
      if (out.object !== object && out.object !== undefined) {
        object = out.object;
        changed = true;
        for (const earlier of calledIfNeeded) if (earlier !== hook) reinvoke.add(earlier);
      }
      if (hook.webhook.reinvocationPolicy === 'IfNeeded') calledIfNeeded.push(hook);
    }
    for (const hook of hooks) {
      if (!reinvoke.has(hook)) continue;
      const out = await this.callOne(hook, a, object, true);
      if (!out) continue;
      warnings.push(...out.warnings);
      if (out.object !== undefined && out.object !== object) {
        object = out.object;
        changed = true;
      }
    }
    return { object, changed, warnings };
  }

  /** Runs every matching validating webhook at once; throws the first refusal (in webhook order). */
  async validate(a: AdmissionAttributes): Promise<{ warnings: string[] }> {
    if (isConfigKind(a.type)) return { warnings: [] };
    const hooks = this.hooks(VALIDATING_KIND);
    if (hooks.length === 0) return { warnings: [] };
    const results = await Promise.allSettled(hooks.map((h) => this.callOne(h, a, a.object, false)));
    const warnings: string[] = [];
    for (const r of results) {
      if (r.status === 'rejected') throw r.reason;
      if (r.value) warnings.push(...r.value.warnings);
    }
    return { warnings };
  }

  /**
   * Calls one webhook if it matches. Undefined when it was not called (or failed with failurePolicy
   * Ignore); else its warnings and, for a mutating webhook, the object after its patch.
   */
  private async callOne(hook: Hook, a: AdmissionAttributes, object: Resource | undefined, mutating: boolean): Promise<{ object: Resource | undefined; warnings: string[] } | undefined> {
    const w = hook.webhook;
    const version = webhookMatches(w, this.matchRequest(a, object));
    if (version === undefined) return undefined;
    if (a.dryRun && w.sideEffects !== 'None' && w.sideEffects !== 'NoneOnDryRun') {
      throw new StatusError('BadRequest', `admission webhook "${w.name}" does not support dry run`);
    }
    const uid = randomUUID();
    const at = (o: Resource | undefined): Resource | null => (o ? { ...o, apiVersion: apiVersionOf(a.type.group, version) } : null);
    const gv = (v: string) => ({ group: a.type.group, version: v });
    const request: Record<string, unknown> = {
      uid,
      kind: { ...gv(version), kind: a.type.kind },
      resource: { ...gv(version), resource: a.type.plural },
      ...(a.subresource ? { subResource: a.subresource } : {}),
      requestKind: { ...gv(a.version), kind: a.type.kind },
      requestResource: { ...gv(a.version), resource: a.type.plural },
      ...(a.subresource ? { requestSubResource: a.subresource } : {}),
      name: a.name,
      ...(a.type.namespaced && a.namespace ? { namespace: a.namespace } : {}),
      operation: a.operation,
      userInfo: { username: a.user.username, ...(a.user.uid ? { uid: a.user.uid } : {}), groups: a.user.groups, ...(a.user.extra ? { extra: a.user.extra } : {}) },
      object: at(object),
      oldObject: at(a.oldObject),
      dryRun: a.dryRun,
      options: { apiVersion: 'meta.k8s.io/v1', kind: OPTIONS_KIND[a.operation], ...(a.dryRun ? { dryRun: ['All'] } : {}) },
    };
    const reviewVersion = reviewVersionFor(w);
    let response: ReviewResponse;
    try {
      response = await callWebhook(w, { apiVersion: `admission.k8s.io/${reviewVersion}`, kind: 'AdmissionReview', request }, uid, this.resolve);
    } catch (e) {
      if (!(e instanceof WebhookCallError)) throw e;
      if (w.failurePolicy === 'Ignore') {
        this.log(`admission webhook "${w.name}" (${hook.config}) failed and was ignored (failurePolicy Ignore): ${e.message}`);
        return undefined;
      }
      throw new StatusError('InternalError', `Internal error occurred: failed calling webhook "${w.name}": ${e.message}`);
    }
    const warnings = (response.warnings ?? []).filter((x) => typeof x === 'string');
    if (!response.allowed) throw denied(w.name, response.status);
    if (!response.patch) return { object, warnings };
    if (!mutating) throw new StatusError('InternalError', `Internal error occurred: validating webhook "${w.name}" may not return a patch`);
    return { object: applyPatch(w.name, response, at(object), a.type), warnings };
  }
}

/** kube-apiserver's refusal: the webhook's Status, the message prefixed with who denied it, a code of at least 400. */
function denied(name: string, status: ReviewResponse['status']): StatusError {
  const prefix = `admission webhook "${name}" denied the request`;
  const message = status?.message ? `${prefix}: ${status.message}` : status?.reason ? `${prefix}: ${status.reason}` : `${prefix} without explanation`;
  const err = new StatusError('BadRequest', message);
  const code = typeof status?.code === 'number' && status.code >= 400 && status.code < 600 ? status.code : 400;
  const s = err.status as { code: number; reason?: StatusReason };
  s.code = code;
  if (status?.reason) s.reason = status.reason as StatusReason;
  else delete s.reason;
  if (status?.details && typeof status.details === 'object') err.status.details = status.details as NonNullable<typeof err.status.details>;
  return err;
}

/** The webhook's RFC 6902 patch applied to the object it was sent; the result in the server's form. */
function applyPatch(name: string, response: ReviewResponse, sent: Resource | null, type: ResourceType): Resource {
  const bad = (why: string): StatusError => new StatusError('InternalError', `Internal error occurred: admission webhook "${name}" returned an unusable patch: ${why}`);
  if (response.patchType !== 'JSONPatch') throw bad(`unsupported patchType ${JSON.stringify(response.patchType ?? '')} (only JSONPatch)`);
  if (!sent) throw bad('there is no object to patch');
  let ops: unknown;
  try {
    ops = JSON.parse(Buffer.from(response.patch!, 'base64').toString('utf8'));
  } catch {
    throw bad('the patch is not base64-encoded JSON');
  }
  let patched: unknown;
  try {
    patched = applyJsonPatch(sent, ops);
  } catch (e) {
    if (e instanceof PatchError) throw bad(e.message);
    throw e;
  }
  const out = patched as Resource;
  if (typeof out !== 'object' || out === null || typeof out.metadata !== 'object' || out.metadata === null) throw bad('the patched object has no metadata');
  // What the object is stays the request's: a webhook may change it, not move or retype it.
  if (out.apiVersion !== sent.apiVersion || out.kind !== sent.kind) throw bad('apiVersion and kind may not change');
  if (out.metadata.name !== sent.metadata.name || out.metadata.namespace !== sent.metadata.namespace) throw bad('metadata.name and metadata.namespace may not change');
  return { ...out, apiVersion: storageApiVersion(type) };
}
