/**
 * `KubeMeshApi`: the `MeshApi` the CLI and the mesh's own components use, spoken entirely as a
 * Kubernetes client (discovery, REST verbs, Status errors, subresources), so the same code drives the
 * embedded API server and a real cluster. An apply is all or none: every document is first sent as a
 * server-side dry run, and a failure part-way through the real pass undoes what that pass applied.
 */

import type { Pod, Resource } from '../../api/types.js';
import { formatProblem, MeshError, type FieldProblem, type MeshErrorCode } from '../../lib/errors.js';
import type { Transport } from '../https-transport.js';
import type { ApplyResult, ListQuery, ManifestDocument, LogsQuery, MeshApi, MeshStatus, PodProcessInfo, ProxyStatus } from '../api-contract.js';
// leaf modules, not the controllers' or the API server's index: every command loads this client
import { podIPOf } from '../controllers/address-allocation.js';
import { RESTARTED_AT_ANNOTATION, hasSidecar } from '../controllers/well-known.js';
import { CONTROLLER_PORT, SIDECAR_ADMIN_PORT } from '../layout.js';
import { MESH_ERROR_CODE_HEADER } from '../../kube/apiserver/status.js';
import { collectionPath, objectPath, RestMapper, type Mapping } from './rest-mapper.js';
import { meetsCondition, parseCondition, podStatusText } from './conditions.js';

const DEFAULT_TIMEOUT_MS = 60_000;
const WAIT_POLL_MS = 250;
const CONTROL_PLANE_TIMEOUT_MS = 1500;

interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

const CODES: Record<string, MeshErrorCode> = {
  NotFound: 'MESH_ERR_NOT_FOUND',
  AlreadyExists: 'MESH_ERR_ALREADY_EXISTS',
  Conflict: 'MESH_ERR_CONFLICT' as MeshErrorCode,
  Invalid: 'MESH_ERR_MANIFEST_INVALID',
  Forbidden: 'MESH_ERR_FORBIDDEN',
  Unauthorized: 'MESH_ERR_FORBIDDEN',
  BadRequest: 'MESH_ERR_USAGE',
  UnsupportedMediaType: 'MESH_ERR_USAGE',
  Gone: 'MESH_ERR_GONE' as MeshErrorCode,
  Expired: 'MESH_ERR_GONE' as MeshErrorCode,
  Timeout: 'MESH_ERR_TIMEOUT',
  ServiceUnavailable: 'MESH_ERR_UPSTREAM',
};

/** A Status as a MeshError; field causes become problems of `label` (`PluginChain curl/x`). */
/**
 * A Status as a MeshError. Tessera's server names its own error code in a response header (other
 * servers only give the reason). An Invalid Status's field causes become problems of `label`
 * (`PluginChain curl/x`), printed as the mesh's validator prints them.
 */
export function meshErrorOf(status: KubeStatus, label?: string, meshCode?: string): MeshError {
  const code = (meshCode as MeshErrorCode | undefined) ?? CODES[status.reason ?? ''] ?? 'MESH_ERR_INTERNAL';
  const problems: FieldProblem[] = (status.details?.causes ?? []).map((c) => ({ resource: label ?? '', field: c.field ?? '', message: c.message ?? '' }));
  if (status.reason === 'Invalid' && label && problems.length > 0) return new MeshError(code, problems.map(formatProblem).join('\n'), { problems });
  return new MeshError(code, status.message ?? `HTTP ${status.code ?? '?'}`, { problems: label ? problems : [] });
}

export interface KubeMeshApiOptions {
  baseUrl: string;
  transport: Transport;
  /** a bearer token, for components that hold one instead of a client certificate */
  token?: string;
  /** the local mesh this client reaches, for what only local mode has (pod processes, status) */
  local?: { meshName: string; stateDir: string; block: number; pid: number };
  timeoutMs?: number;
}

interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** what the object is called in error messages */
  label?: string;
  /** the raw response is wanted (logs, proxied admin pages): no Status handling for 2xx–5xx from the pod */
  raw?: boolean;
  /** collects the server's `Warning: 299 - "text"` headers (admission warnings) */
  warnings?: string[];
}

/** The texts of `299 - "text"` warning values (RFC 7234 §5.5 as kube-apiserver writes them). */
export function warningTexts(header: string | null): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const m of header.matchAll(/299 - ("(?:[^"\\]|\\.)*")/g)) {
    try {
      out.push(JSON.parse(m[1]!) as string);
    } catch {
      out.push(m[1]!);
    }
  }
  return out;
}

function labelOf(kind: string, name: string, namespace?: string): string {
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}

export class KubeMeshApi implements MeshApi {
  readonly mapper: RestMapper;

  constructor(private readonly opts: KubeMeshApiOptions) {
    this.mapper = new RestMapper((path) => this.request('GET', path));
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  private async send(method: string, path: string, o: RequestOptions = {}): Promise<{ status: number; text: string; contentType: string; meshCode?: string }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (o.body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) q.set(k, v);
    const url = `${this.opts.baseUrl}${path}${q.size > 0 ? `?${q}` : ''}`;
    const timeoutMs = o.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      const res = await this.opts.transport.fetch(url, {
        method, headers, body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const meshCode = res.headers.get(MESH_ERROR_CODE_HEADER) ?? undefined;
      if (o.warnings) o.warnings.push(...warningTexts(res.headers.get('warning')));
      return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') ?? '', ...(meshCode ? { meshCode } : {}) };
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') {
        throw new MeshError('MESH_ERR_TIMEOUT', `the API server at ${this.opts.baseUrl} did not answer ${method} ${path} within ${timeoutMs} ms`, { cause: e });
      }
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new MeshError('MESH_ERR_MESH_NOT_RUNNING', `the API server at ${this.opts.baseUrl} is not answering (${cause?.code ?? cause?.message ?? (e as Error).message}): run \`tessera up\` first`, { cause: e });
    }
  }

  async request<T = unknown>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, o);
    if (res.status >= 200 && res.status < 300) return (res.text ? JSON.parse(res.text) : undefined) as T;
    let status: KubeStatus;
    try {
      status = JSON.parse(res.text) as KubeStatus;
    } catch {
      status = { reason: res.status === 404 ? 'NotFound' : 'InternalError', message: `${method} ${path}: HTTP ${res.status} ${res.text.slice(0, 200)}`, code: res.status };
    }
    throw meshErrorOf(status, o.label, res.meshCode);
  }

  // -------------------------------------------------------------------------------------------
  // reads

  async get(kind: string, name: string, namespace?: string): Promise<Resource> {
    const m = await this.mapper.forName(kind);
    return this.request<Resource>('GET', objectPath(m, namespace, name));
  }

  private async listRaw(m: Mapping, query: ListQuery): Promise<Resource[]> {
    const ns = !m.namespaced || query.allNamespaces ? undefined : query.namespace || 'default';
    const list = await this.request<{ items?: Resource[] }>('GET', collectionPath(m, ns), {
      query: { labelSelector: query.labelSelector || undefined, fieldSelector: query.name ? `metadata.name=${query.name}` : undefined },
    });
    const apiVersion = m.group === '' ? m.version : `${m.group}/${m.version}`;
    return (list.items ?? []).map((o) => ({ ...o, apiVersion: o.apiVersion ?? apiVersion, kind: o.kind ?? m.kind }));
  }

  async list(query: ListQuery): Promise<Resource[]> {
    return this.listRaw(await this.mapper.forName(query.kind), query);
  }

  // -------------------------------------------------------------------------------------------
  // apply and delete

  private async target(doc: ManifestDocument, namespace: string | undefined): Promise<{ m: Mapping; obj: Resource; ns: string | undefined; label: string }> {
    const where = `document ${doc.index} of ${doc.source}`;
    const o = doc.object as unknown as Resource;
    if (typeof o.kind !== 'string' || typeof o.apiVersion !== 'string') {
      throw new MeshError('MESH_ERR_MANIFEST_INVALID', `${where}: apiVersion and kind are required`, { problems: [{ resource: where, field: o.kind ? 'apiVersion' : 'kind', message: 'required field is missing' }] });
    }
    let m: Mapping;
    try {
      m = await this.mapper.forObject(o.apiVersion, o.kind);
    } catch (e) {
      const name = (o.metadata as { name?: string } | undefined)?.name;
      const label = name ? labelOf(o.kind, name, (o.metadata as { namespace?: string }).namespace ?? namespace) : where;
      throw new MeshError('MESH_ERR_KIND_UNKNOWN', `${label}: ${(e as Error).message}`, { problems: [{ resource: label, field: '', message: (e as Error).message }] });
    }
    const obj = structuredClone(o);
    obj.metadata = { ...(obj.metadata ?? { name: '' }) };
    const own = obj.metadata.namespace || undefined;
    if (m.namespaced && own && namespace && own !== namespace) {
      const label = labelOf(m.kind, obj.metadata.name, own);
      const message = `the namespace from the provided object "${own}" does not match the namespace "${namespace}". You must pass '--namespace=${own}' to perform this operation.`;
      throw new MeshError('MESH_ERR_NAMESPACE_MISMATCH', `${label}: metadata.namespace: ${message}`, { problems: [{ resource: label, field: 'metadata.namespace', message }] });
    }
    const ns = m.namespaced ? own ?? namespace ?? 'default' : undefined;
    if (m.namespaced) obj.metadata.namespace = ns;
    else delete obj.metadata.namespace;
    if (!obj.metadata.name) {
      throw new MeshError('MESH_ERR_MANIFEST_INVALID', `${where}: metadata.name: required field is missing`, { problems: [{ resource: where, field: 'metadata.name', message: 'required field is missing' }] });
    }
    return { m, obj, ns, label: labelOf(m.kind, obj.metadata.name, ns) };
  }

  /** Creates or replaces one object; `dryRun` asks the server to check without storing. */
  private async applyOne(t: { m: Mapping; obj: Resource; ns: string | undefined; label: string }, dryRun: boolean): Promise<{ result: ApplyResult; before?: Resource; after?: Resource }> {
    const path = objectPath(t.m, t.ns, t.obj.metadata.name);
    const query = dryRun ? { dryRun: 'All' } : undefined;
    let existing: Resource | undefined;
    try {
      existing = await this.request<Resource>('GET', path);
    } catch (e) {
      if ((e as MeshError).code !== 'MESH_ERR_NOT_FOUND') throw e;
    }
    // the real write's warnings only: the dry run of the whole batch would repeat them
    const warnings: string[] = [];
    const collect = dryRun ? {} : { warnings };
    const result = (action: ApplyResult['action']): ApplyResult => ({ kind: t.m.kind, name: t.obj.metadata.name, ...(t.ns ? { namespace: t.ns } : {}), action, ...(warnings.length > 0 ? { warnings } : {}) });
    if (!existing) {
      const created = await this.request<Resource>('POST', collectionPath(t.m, t.ns), { body: t.obj, query, label: t.label, ...collect });
      return { result: result('created'), after: created };
    }
    const body = { ...t.obj, metadata: { ...t.obj.metadata, resourceVersion: existing.metadata.resourceVersion } };
    // Server-owned metadata the manifest does not mention stays as stored (finalizers, owners).
    if (body.metadata.finalizers === undefined && existing.metadata.finalizers) body.metadata.finalizers = existing.metadata.finalizers;
    if (body.metadata.ownerReferences === undefined && existing.metadata.ownerReferences) body.metadata.ownerReferences = existing.metadata.ownerReferences;
    const updated = await this.request<Resource>('PUT', path, { body, query, label: t.label, ...collect });
    const unchanged = updated.metadata.resourceVersion === existing.metadata.resourceVersion;
    return { result: result(unchanged ? 'unchanged' : 'configured'), before: existing, after: updated };
  }

  async apply(docs: ManifestDocument[], opts: { namespace?: string }): Promise<ApplyResult[]> {
    const targets = [];
    for (const doc of docs) targets.push(await this.target(doc, opts.namespace));
    await this.dryRunAll(targets);
    const done: { t: (typeof targets)[number]; before?: Resource; after?: Resource }[] = [];
    const results: ApplyResult[] = [];
    try {
      for (const t of targets) {
        const r = await this.applyOne(t, false);
        results.push(r.result);
        done.push({ t, ...(r.before ? { before: r.before } : {}), ...(r.after ? { after: r.after } : {}) });
      }
    } catch (e) {
      await this.undo(done);
      throw e;
    }
    return results;
  }

  /**
   * Checks every document before anything is stored. A document may depend on an earlier one of the
   * same batch (its namespace, the MeshConfig that enables plugins): such refusals wait for the real pass.
   */
  private async dryRunAll(targets: { m: Mapping; obj: Resource; ns: string | undefined; label: string }[]): Promise<void> {
    const problems: FieldProblem[] = [];
    const errors: MeshError[] = [];
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      try {
        await this.applyOne(t, true);
      } catch (e) {
        if (!(e instanceof MeshError)) throw e;
        const earlier = targets.slice(0, i);
        const dependsOnBatch = (e.code === 'MESH_ERR_NOT_FOUND' && earlier.some((x) => x.m.kind === 'Namespace' && x.obj.metadata.name === t.ns))
          || (['MESH_ERR_FORBIDDEN', 'MESH_ERR_PLUGIN_POLICY_DISABLED', 'MESH_ERR_POLICY_DISABLED'].includes(e.code) && earlier.some((x) => x.m.kind === 'MeshConfig'));
        if (dependsOnBatch) continue;
        errors.push(e);
        problems.push(...(e.problems.length > 0 ? e.problems : [{ resource: t.label, field: '', message: e.message }]));
      }
    }
    if (errors.length === 0) return;
    if (errors.length === 1) throw errors[0]!;
    const codes = new Set(errors.map((e) => e.code));
    throw new MeshError(codes.size === 1 ? errors[0]!.code : 'MESH_ERR_MANIFEST_INVALID', problems.map(formatProblem).join('\n'), { problems });
  }

  /** Best effort, newest first: delete what was created, put back what was replaced. */
  private async undo(done: { t: { m: Mapping; ns: string | undefined; obj: Resource }; before?: Resource; after?: Resource }[]): Promise<void> {
    for (const d of [...done].reverse()) {
      const path = objectPath(d.t.m, d.t.ns, d.t.obj.metadata.name);
      try {
        if (!d.before) await this.request('DELETE', path);
        else if (d.after && d.after.metadata.resourceVersion !== d.before.metadata.resourceVersion) {
          const current = await this.request<Resource>('GET', path);
          await this.request('PUT', path, { body: { ...d.before, metadata: { ...d.before.metadata, resourceVersion: current.metadata.resourceVersion } } });
        }
      } catch {
        // The undo is best effort: the original error is what the user needs to see.
      }
    }
  }

  async deleteDocuments(docs: ManifestDocument[], opts: { namespace?: string; ignoreNotFound?: boolean }): Promise<ApplyResult[]> {
    const targets = [];
    const seen = new Set<string>();
    for (const doc of docs) {
      const t = await this.target(doc, opts.namespace);
      if (seen.has(t.label)) continue;
      seen.add(t.label);
      targets.push(t);
    }
    const missing: FieldProblem[] = [];
    const present = [];
    for (const t of targets) {
      try {
        await this.request('GET', objectPath(t.m, t.ns, t.obj.metadata.name));
        present.push(t);
      } catch (e) {
        if ((e as MeshError).code !== 'MESH_ERR_NOT_FOUND') throw e;
        missing.push({ resource: t.label, field: '', message: `${t.m.plural}${t.m.group ? `.${t.m.group}` : ''} "${t.obj.metadata.name}" not found` });
      }
    }
    if (missing.length > 0 && !opts.ignoreNotFound) throw new MeshError('MESH_ERR_NOT_FOUND', missing.map((p) => p.message).join('; '), { problems: missing });
    const results: ApplyResult[] = [];
    for (const t of present) {
      await this.request('DELETE', objectPath(t.m, t.ns, t.obj.metadata.name), { label: t.label });
      results.push({ kind: t.m.kind, name: t.obj.metadata.name, ...(t.ns ? { namespace: t.ns } : {}), action: 'deleted' });
    }
    return results;
  }

  async delete(kind: string, name: string, namespace: string | undefined, opts: { ignoreNotFound?: boolean } = {}): Promise<ApplyResult> {
    const m = await this.mapper.forName(kind);
    const ns = m.namespaced ? namespace || 'default' : undefined;
    const result: ApplyResult = { kind: m.kind, name, ...(ns ? { namespace: ns } : {}), action: 'deleted' };
    try {
      await this.request('DELETE', objectPath(m, ns, name), { label: labelOf(m.kind, name, ns) });
    } catch (e) {
      if ((e as MeshError).code === 'MESH_ERR_NOT_FOUND' && opts.ignoreNotFound) return { ...result, action: 'unchanged' };
      throw e;
    }
    return result;
  }

  async patch(kind: string, name: string, namespace: string | undefined, patch: unknown): Promise<ApplyResult> {
    const m = await this.mapper.forName(kind);
    const ns = m.namespaced ? namespace || 'default' : undefined;
    const path = objectPath(m, ns, name);
    const before = await this.request<Resource>('GET', path);
    const after = await this.request<Resource>('PATCH', path, { body: patch, contentType: 'application/merge-patch+json', label: labelOf(m.kind, name, ns) });
    return { kind: m.kind, name, ...(ns ? { namespace: ns } : {}), action: before.metadata.resourceVersion === after.metadata.resourceVersion ? 'unchanged' : 'patched' };
  }

  /**
   * Writes an object's status through its `status` subresource, as controllers do: a PUT of
   * `<object>/status` carrying the resourceVersion it was read at (so a stale view never overwrites a
   * newer status), re-read and retried on 409 Conflict. On a type with a status subresource a PUT or
   * PATCH of the object itself drops `.status`, so this is the only way status is stored.
   * `current` is the object as the caller last saw it (an informer's copy saves the first GET); no
   * write happens when its status already equals `status`. Returns `unchanged` or `configured`.
   */
  async replaceStatus(
    kind: string, name: string, namespace: string | undefined, status: unknown, opts: { current?: Resource; attempts?: number } = {},
  ): Promise<ApplyResult> {
    const m = await this.mapper.forName(kind);
    const ns = m.namespaced ? namespace || 'default' : undefined;
    const object = objectPath(m, ns, name);
    const path = `${object}/status`;
    const label = labelOf(m.kind, name, ns);
    const result = (action: ApplyResult['action']): ApplyResult => ({ kind: m.kind, name, ...(ns ? { namespace: ns } : {}), action });
    // reads go to the object itself: a writer granted only `update` on <kind>/status (the controller's
    // least-privilege role) may read the object but not GET its status subresource
    let current = opts.current ?? (await this.request<Resource>('GET', object, { label }));
    for (let attempt = 1; ; attempt++) {
      if (JSON.stringify(canonical(current.status)) === JSON.stringify(canonical(status))) return result('unchanged');
      try {
        await this.request<Resource>('PUT', path, { body: { ...current, status }, label });
        return result('configured');
      } catch (e) {
        if ((e as MeshError).code !== 'MESH_ERR_CONFLICT' || attempt >= (opts.attempts ?? 5)) throw e;
        current = await this.request<Resource>('GET', object, { label });
      }
    }
  }

  async rolloutRestart(kind: string, name: string, namespace: string): Promise<ApplyResult> {
    const m = await this.mapper.forName(kind);
    if (m.kind !== 'Deployment') throw new MeshError('MESH_ERR_USAGE', `rollout restart is supported for deployments only, not ${m.plural}`);
    const patch = { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: new Date().toISOString() } } } } };
    await this.request('PATCH', objectPath(m, namespace, name), { body: patch, contentType: 'application/strategic-merge-patch+json', label: labelOf(m.kind, name, namespace) });
    return { kind: m.kind, name, namespace, action: 'patched' };
  }

  // -------------------------------------------------------------------------------------------
  // wait, pods

  async wait(query: ListQuery, conditionText: string, timeoutMs: number): Promise<Resource[]> {
    const cond = parseCondition(conditionText);
    const m = await this.mapper.forName(query.kind);
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      const matches = await this.listRaw(m, query);
      if (cond.kind === 'delete' ? matches.length === 0 : matches.length > 0 && matches.every((o) => meetsCondition(o, cond))) return matches;
      if (Date.now() >= deadline) {
        const label = (o: Resource) => `${m.plural}/${o.metadata.name}`;
        if (cond.kind === 'delete') throw new MeshError('MESH_ERR_TIMEOUT', `timed out waiting for the deletion of ${matches.map(label).join(', ')}`);
        if (matches.length === 0) {
          const sel = query.labelSelector ? ` matching "${query.labelSelector}"` : query.name ? ` named "${query.name}"` : '';
          throw new MeshError('MESH_ERR_TIMEOUT', `timed out waiting for condition "${conditionText}": no ${m.plural}${sel} found`);
        }
        throw new MeshError('MESH_ERR_TIMEOUT', `timed out waiting for the condition on ${matches.filter((o) => !meetsCondition(o, cond)).map(label).join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, Math.min(WAIT_POLL_MS, Math.max(0, deadline - Date.now()))));
    }
  }

  private local(): NonNullable<KubeMeshApiOptions['local']> {
    if (!this.opts.local) throw new MeshError('MESH_ERR_USAGE', 'this needs a local mesh (tessera up)');
    return this.opts.local;
  }

  async podInfo(namespace: string, name: string): Promise<PodProcessInfo> {
    const pod = (await this.request<Resource>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, { label: labelOf('Pod', name, namespace) })) as Pod;
    const { block, stateDir } = this.local();
    // loaded here: it brings the image runtime's modules, which no other call needs
    const { podProcessInfo } = await import('./pod-info.js');
    return podProcessInfo(pod, block, stateDir);
  }

  async logs(namespace: string, pod: string, container?: string): Promise<string> {
    const res = await this.send('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`, { query: { container } });
    if (res.status >= 200 && res.status < 300) return res.text;
    throw meshErrorOf(JSON.parse(res.text || '{}') as KubeStatus, undefined, res.meshCode);
  }

  async streamLogs(namespace: string, pod: string, query: LogsQuery): Promise<AsyncIterable<Uint8Array>> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== false) q.set(k, String(v));
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`;
    const url = `${this.opts.baseUrl}${path}${q.size > 0 ? `?${q}` : ''}`;
    const headers: Record<string, string> = { accept: '*/*' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    // a follow has no end; the answer's headers still come at once
    const abort = new AbortController();
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let res;
    try {
      res = await this.opts.transport.fetch(url, { method: 'GET', headers, signal: abort.signal });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      if (abort.signal.aborted) throw new MeshError('MESH_ERR_TIMEOUT', `the API server at ${this.opts.baseUrl} did not answer GET ${path} within ${timeoutMs} ms`, { cause: e });
      throw new MeshError('MESH_ERR_MESH_NOT_RUNNING', `the API server at ${this.opts.baseUrl} is not answering (${cause?.code ?? cause?.message ?? (e as Error).message}): run \`tessera up\` first`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
    if (res.status < 200 || res.status >= 300) {
      const text = await res.text();
      let status: KubeStatus;
      try {
        status = JSON.parse(text || '{}') as KubeStatus;
      } catch {
        status = { reason: 'InternalError', message: `GET ${path}: HTTP ${res.status} ${text.slice(0, 200)}`, code: res.status };
      }
      throw meshErrorOf(status, undefined, res.headers.get(MESH_ERROR_CODE_HEADER) ?? undefined);
    }
    const body = res.body;
    return (async function* () {
      if (body) for await (const chunk of body) yield chunk as Uint8Array;
    })();
  }

  async proxyGet(namespace: string, pod: string, query: string): Promise<{ status: number; contentType: string; body: string }> {
    const p = (await this.request<Resource>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}`, { label: labelOf('Pod', pod, namespace) })) as Pod;
    if (!hasSidecar(p)) {
      const mesh = this.opts.local?.meshName ?? 'the mesh';
      throw new MeshError('MESH_ERR_USAGE', `pod ${namespace}/${pod} has no sidecar: its namespace is not part of mesh "${mesh}" with sidecar injection enabled (tessera namespace add ${namespace})`);
    }
    const rest = query.replace(/^\/+/, '');
    const qIdx = rest.indexOf('?');
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}:${SIDECAR_ADMIN_PORT}/proxy/${qIdx < 0 ? rest : rest.slice(0, qIdx)}${qIdx < 0 ? '' : rest.slice(qIdx)}`;
    const res = await this.send('GET', path);
    // A Status from the API server itself (pod gone, no IP) is an error; anything else is the sidecar's answer.
    if (res.contentType.startsWith('application/json') && res.status >= 400 && res.text.includes('"kind":"Status"')) {
      throw meshErrorOf(JSON.parse(res.text) as KubeStatus, undefined, res.meshCode);
    }
    return { status: res.status, contentType: res.contentType, body: res.text };
  }

  about(): { meshName: string; apiUrl: string } | undefined {
    return this.opts.local ? { meshName: this.opts.local.meshName, apiUrl: this.opts.baseUrl } : undefined;
  }

  async status(): Promise<MeshStatus> {
    const local = this.local();
    const pods = (await this.listRaw(await this.mapper.forName('pods'), { kind: 'pods', allNamespaces: true })) as Pod[];
    const system = `${local.meshName}-system`;
    const controller = pods.find((p) => p.metadata.namespace === system && p.metadata.name.startsWith(`${local.meshName}-controller`));
    let proxies: ProxyStatus[] | undefined;
    if (controller) {
      try {
        const res = await this.send('GET', `/api/v1/namespaces/${system}/pods/${encodeURIComponent(controller.metadata.name)}:${CONTROLLER_PORT}/proxy/v1/proxies`, { timeoutMs: CONTROL_PLANE_TIMEOUT_MS });
        const body = res.status === 200 ? (JSON.parse(res.text) as unknown) : undefined;
        proxies = Array.isArray(body) ? (body as ProxyStatus[]) : undefined;
      } catch {
        proxies = undefined; // down or starting: reported as not ready, never as an error
      }
    }
    const controlPlane: MeshStatus['controlPlane'] = { ready: proxies !== undefined };
    if (controller) controlPlane.pod = `${system}/${controller.metadata.name}`;
    return {
      meshName: local.meshName, stateDir: local.stateDir, apiUrl: this.opts.baseUrl, pid: local.pid, controlPlane, proxies: proxies ?? [],
      workloads: pods.map((p) => {
        const statuses = p.status?.containerStatuses ?? [];
        const w: MeshStatus['workloads'][number] = {
          namespace: p.metadata.namespace!, name: p.metadata.name,
          ready: `${statuses.filter((s) => s.ready).length}/${p.spec?.containers.length ?? statuses.length}`,
          status: podStatusText(p), restarts: statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0),
        };
        const ip = podIPOf(p, local.block);
        if (ip) w.podIP = ip;
        return w;
      }),
    };
  }

  /** A local daemon stops on SIGTERM; `tessera down` sends it (see daemon/down.ts). */
  async shutdown(): Promise<void> {
    const { pid } = this.local();
    process.kill(pid, 'SIGTERM');
  }
}



/** A JSON value with object keys sorted (a status compared by content, whatever order the server keeps). */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
}
