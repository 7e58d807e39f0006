/** An in-memory MeshApi for CLI tests: a tiny object store plus scripted answers, recording every call. */
import { kindInfo } from '../../api/kinds.js';
import { parseSelectorString, selectorMatches } from '../../api/labels.js';
import type { Resource } from '../../api/types.js';
import type {
  ApplyAction, ApplyResult, ListQuery, LogsQuery, ManifestDocument, MeshApi, MeshStatus, PodProcessInfo,
} from '../../local/api-contract.js';
import { MeshError } from '../../lib/errors.js';
import { mergePatch } from '../../local/apiserver/index.js';

export interface Call {
  method: string;
  args: unknown[];
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export class FakeMesh implements MeshApi {
  readonly calls: Call[] = [];
  readonly objects: Resource[] = [];
  podInfos = new Map<string, PodProcessInfo>();
  logTexts = new Map<string, string>();
  proxyAnswers = new Map<string, { status: number; contentType: string; body: string }>();
  /** replaces the default `wait` (which returns the matching objects at once) */
  waitImpl?: (query: ListQuery, condition: string, timeoutMs: number) => Promise<Resource[]>;
  meshStatus: MeshStatus = {
    meshName: 'fsm',
    stateDir: '/tmp/state',
    apiUrl: 'http://127.7.0.1:15080',
    pid: 4242,
    controlPlane: { ready: true, url: 'http://127.7.0.2:6060', pod: 'fsm-controller-6b9c7d5f8-abcde' },
    proxies: [],
    workloads: [],
  };

  constructor(objects: Resource[] = []) {
    for (const o of objects) this.objects.push(clone(o));
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args: clone(args) });
  }

  callsTo(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  private notFound(kind: string, name: string): MeshError {
    return new MeshError('MESH_ERR_NOT_FOUND', `${kindInfo(kind)?.plural ?? kind} "${name}" not found`);
  }

  private find(kind: string, name: string, namespace: string | undefined): Resource | undefined {
    const ns = kindInfo(kind)?.namespaced === false ? undefined : namespace;
    return this.objects.find((o) => o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? undefined) === ns);
  }

  private put(obj: Resource): ApplyAction {
    const existing = this.find(obj.kind, obj.metadata.name, obj.metadata.namespace);
    if (!existing) {
      this.objects.push(clone({ ...obj, metadata: { creationTimestamp: '2024-01-01T00:00:00Z', ...obj.metadata } }));
      return 'created';
    }
    const before = JSON.stringify(existing);
    Object.assign(existing, clone(obj), { metadata: { ...existing.metadata, ...obj.metadata } });
    return JSON.stringify(existing) === before ? 'unchanged' : 'configured';
  }

  private toResource(doc: ManifestDocument, namespace: string | undefined): Resource {
    const obj = clone(doc.object) as unknown as Resource;
    const info = kindInfo(obj.kind);
    if (info?.namespaced) obj.metadata.namespace = obj.metadata.namespace ?? namespace ?? 'default';
    return obj;
  }

  async apply(docs: ManifestDocument[], opts: { namespace?: string }): Promise<ApplyResult[]> {
    this.record('apply', docs, opts);
    return docs.map((d) => {
      const obj = this.toResource(d, opts.namespace);
      return { kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, action: this.put(obj) };
    });
  }

  async deleteDocuments(docs: ManifestDocument[], opts: { namespace?: string; ignoreNotFound?: boolean }): Promise<ApplyResult[]> {
    this.record('deleteDocuments', docs, opts);
    const out: ApplyResult[] = [];
    for (const d of docs) {
      const obj = this.toResource(d, opts.namespace);
      out.push(await this.delete(obj.kind, obj.metadata.name, obj.metadata.namespace, { ignoreNotFound: opts.ignoreNotFound }));
    }
    return out;
  }

  async delete(kind: string, name: string, namespace: string | undefined, opts?: { ignoreNotFound?: boolean }): Promise<ApplyResult> {
    this.record('delete', kind, name, namespace, opts);
    const obj = this.find(kind, name, namespace);
    if (!obj) {
      if (opts?.ignoreNotFound) return { kind, name, namespace, action: 'unchanged' };
      throw this.notFound(kind, name);
    }
    this.objects.splice(this.objects.indexOf(obj), 1);
    return { kind, name, namespace, action: 'deleted' };
  }

  async get(kind: string, name: string, namespace?: string): Promise<Resource> {
    this.record('get', kind, name, namespace);
    const obj = this.find(kind, name, namespace);
    if (!obj) throw this.notFound(kind, name);
    return clone(obj);
  }

  async list(query: ListQuery): Promise<Resource[]> {
    this.record('list', query);
    const selector = query.labelSelector ? parseSelectorString(query.labelSelector) : undefined;
    return clone(
      this.objects.filter(
        (o) =>
          o.kind === query.kind &&
          (query.allNamespaces || query.namespace === undefined || o.metadata.namespace === query.namespace) &&
          (query.name === undefined || o.metadata.name === query.name) &&
          selectorMatches(selector, o.metadata.labels),
      ),
    );
  }

  async patch(kind: string, name: string, namespace: string | undefined, patch: unknown): Promise<ApplyResult> {
    this.record('patch', kind, name, namespace, patch);
    const obj = this.find(kind, name, namespace);
    if (!obj) throw this.notFound(kind, name);
    const before = JSON.stringify(obj);
    const next = mergePatch(obj, patch) as Resource;
    for (const k of Object.keys(obj)) delete (obj as unknown as Record<string, unknown>)[k];
    Object.assign(obj, next);
    return { kind, name, namespace, action: JSON.stringify(obj) === before ? 'unchanged' : 'patched' };
  }

  async wait(query: ListQuery, condition: string, timeoutMs: number): Promise<Resource[]> {
    this.record('wait', query, condition, timeoutMs);
    if (this.waitImpl) return this.waitImpl(query, condition, timeoutMs);
    return this.list(query);
  }

  async podInfo(namespace: string, name: string): Promise<PodProcessInfo> {
    this.record('podInfo', namespace, name);
    const info = this.podInfos.get(`${namespace}/${name}`);
    if (!info) throw this.notFound('Pod', name);
    return clone(info);
  }

  async logs(namespace: string, pod: string, container?: string): Promise<string> {
    this.record('logs', namespace, pod, container);
    const text = this.logTexts.get(`${namespace}/${pod}/${container ?? ''}`);
    if (text === undefined) throw this.notFound('Pod', pod);
    return text;
  }

  /** what streamLogs yields for a follow, chunk by chunk, after the text (then the pod is gone) */
  followChunks: string[] = [];

  async streamLogs(namespace: string, pod: string, query: LogsQuery): Promise<AsyncIterable<Uint8Array>> {
    this.record('streamLogs', namespace, pod, query);
    const text = this.logTexts.get(`${namespace}/${pod}/${query.container ?? ''}`);
    if (text === undefined) throw this.notFound('Pod', pod);
    const chunks = [tailText(text, query.tailLines ?? -1), ...(query.follow ? this.followChunks : [])];
    return (async function* () {
      for (const c of chunks) yield new TextEncoder().encode(c);
    })();
  }

  async rolloutRestart(kind: string, name: string, namespace: string): Promise<ApplyResult> {
    this.record('rolloutRestart', kind, name, namespace);
    if (!this.find(kind, name, namespace)) throw this.notFound(kind, name);
    return { kind, name, namespace, action: 'configured' };
  }

  async proxyGet(namespace: string, pod: string, query: string): Promise<{ status: number; contentType: string; body: string }> {
    this.record('proxyGet', namespace, pod, query);
    const answer = this.proxyAnswers.get(`${namespace}/${pod}/${query}`);
    if (!answer) throw this.notFound('Pod', pod);
    return answer;
  }

  async status(): Promise<MeshStatus> {
    this.record('status');
    return clone(this.meshStatus);
  }

  async shutdown(): Promise<void> {
    this.record('shutdown');
  }
}

/** The last `n` lines of `text` (n < 0: all), as the server's tailLines. */
function tailText(text: string, n: number): string {
  if (n < 0) return text;
  if (n === 0) return '';
  const lines = text.split('\n');
  const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
  return lines.slice(-n).join('\n') + (trailing === '' ? '\n' : '');
}
