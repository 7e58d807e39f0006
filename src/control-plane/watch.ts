/**
 * Mirrors the mesh's resources into memory through the Kubernetes API: every kind Tessera reads is
 * listed, then watched from its list's resourceVersion; any broken watch re-lists everything.
 * `kinds` and `namespace` narrow it (the bootstrap watches only MeshConfigs in its own namespace, all
 * its Role lets it read).
 */
import { KINDS, type KindInfo } from '../api/kinds.js';
import type { Resource } from '../api/types.js';
import { startListWatch, type FetchLike } from '../kube/client/index.js';
import type { ApiTransport } from '../local/api-transport.js';

export interface WatchOptions {
  transport: ApiTransport;
  apiUrl: string;
  token: string;
  onSync: (objects: Resource[]) => void;
  onChange: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Resource) => void;
  onError: (err: Error) => void;
  /** the kinds to watch (names as in KINDS: `MeshConfig`); default every kind */
  kinds?: readonly string[];
  /** watch only this namespace (namespaced kinds only); default cluster-wide */
  namespace?: string;
}

/** What `startWatch` lists and watches: the collection paths below /api or /apis of each type. */
export function watchedTypes(opts: Pick<WatchOptions, 'kinds' | 'namespace'>): { apiVersion: string; plural: string }[] {
  const wanted = opts.kinds ? new Set(opts.kinds) : undefined;
  const kinds: readonly KindInfo[] = wanted ? KINDS.filter((k) => wanted.has(k.kind)) : KINDS;
  if (wanted && kinds.length !== wanted.size) {
    const known = new Set(KINDS.map((k) => k.kind));
    throw new Error(`startWatch: unknown kinds ${[...wanted].filter((k) => !known.has(k)).join(', ')}`);
  }
  return kinds.map((k) => {
    if (opts.namespace === undefined) return { apiVersion: k.apiVersion, plural: k.plural };
    if (!k.namespaced) throw new Error(`startWatch: ${k.kind} is cluster-scoped; it cannot be watched in namespace ${opts.namespace}`);
    // list-watch joins /apis/<apiVersion>/<plural>: the namespace segment rides in front of the plural.
    return { apiVersion: k.apiVersion, plural: `namespaces/${encodeURIComponent(opts.namespace)}/${k.plural}` };
  });
}

export function keyOf(r: Resource): string {
  return `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
}

export function startWatch(opts: WatchOptions): { stop(): void } {
  const fetchLike: FetchLike = async (url, init) => {
    const res = await opts.transport.fetch(url, init);
    return { ok: res.ok, status: res.status, text: () => res.text(), body: res.body as AsyncIterable<Uint8Array> | null };
  };
  return startListWatch({
    baseUrl: opts.apiUrl,
    fetch: fetchLike,
    headers: { authorization: `Bearer ${opts.token}` },
    types: watchedTypes(opts),
    onSync: opts.onSync,
    onChange: opts.onChange,
    onError: opts.onError,
  });
}
