/**
 * Mirrors the mesh's resources into memory through the Kubernetes API: every kind Tessera reads is
 * listed, then watched from its list's resourceVersion; any broken watch re-lists everything.
 */
import { KINDS } from '../api/kinds.js';
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
    types: KINDS.map((k) => ({ apiVersion: k.apiVersion, plural: k.plural })),
    onSync: opts.onSync,
    onChange: opts.onChange,
    onError: opts.onError,
  });
}
