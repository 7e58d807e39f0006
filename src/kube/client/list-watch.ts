/**
 * A list-then-watch mirror of several resource types, as an informer does it: list each type (its
 * list's resourceVersion is where its watch starts), hand the union over once, then stream changes.
 * A watch that ends, fails, answers 410 Gone or goes silent past the watchdog (bookmarks arrive
 * every few seconds, so silence means a dead connection) makes the whole mirror re-list, with backoff.
 */
import type { Resource } from '../../api/types.js';

export interface WatchedType {
  /** `v1`, `apps/v1`, `plugin.flomesh.io/v1alpha1` */
  apiVersion: string;
  plural: string;
}

/** The part of fetch the mirror needs, so any transport (undici with a CA, node's fetch) fits. */
export type FetchLike = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<{
  ok: boolean;
  status: number;
  text(): Promise<string>;
  body: AsyncIterable<Uint8Array> | null;
}>;

export interface ListWatchOptions {
  baseUrl: string;
  fetch: FetchLike;
  headers?: Record<string, string>;
  types: WatchedType[];
  onSync: (objects: Resource[]) => void;
  onChange: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Resource) => void;
  onError: (err: Error) => void;
  /** a watch with no event or bookmark for this long is considered dead (default 45 s) */
  watchdogMs?: number;
}

function collectionPath(t: WatchedType): string {
  return t.apiVersion.includes('/') ? `/apis/${t.apiVersion}/${t.plural}` : `/api/${t.apiVersion}/${t.plural}`;
}

class Restart extends Error {}

export function startListWatch(opts: ListWatchOptions): { stop(): void } {
  let stopped = false;
  let round: AbortController | undefined;
  let backoff = 250;
  const watchdogMs = opts.watchdogMs ?? 45_000;
  const headers = { accept: 'application/json', ...opts.headers };

  const list = async (t: WatchedType, signal: AbortSignal): Promise<{ items: Resource[]; rv: string }> => {
    const res = await opts.fetch(`${opts.baseUrl}${collectionPath(t)}`, { headers, signal });
    const text = await res.text();
    if (!res.ok) throw new Error(`list ${t.plural}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as { items?: Resource[]; metadata?: { resourceVersion?: string } };
    const kind = listKindToKind(body as { kind?: string });
    const items = (body.items ?? []).map((o) => ({ ...o, apiVersion: o.apiVersion ?? t.apiVersion, kind: o.kind ?? kind }));
    return { items, rv: body.metadata?.resourceVersion ?? '0' };
  };

  const watch = async (t: WatchedType, rv: string, signal: AbortSignal): Promise<never> => {
    const url = `${opts.baseUrl}${collectionPath(t)}?watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(rv)}`;
    const res = await opts.fetch(url, { headers, signal });
    if (!res.ok || !res.body) throw new Restart(`watch ${t.plural}: HTTP ${res.status}`);
    let buffered = '';
    let timer = setTimeout(() => round?.abort(new Restart(`watch ${t.plural}: silent for ${watchdogMs} ms`)), watchdogMs);
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        clearTimeout(timer);
        timer = setTimeout(() => round?.abort(new Restart(`watch ${t.plural}: silent for ${watchdogMs} ms`)), watchdogMs);
        buffered += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          const event = JSON.parse(line) as { type: string; object: Resource & { code?: number; message?: string } };
          if (event.type === 'BOOKMARK') continue;
          if (event.type === 'ERROR') throw new Restart(`watch ${t.plural}: ${event.object.message ?? 'error'} (${event.object.code ?? '?'})`);
          if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') opts.onChange(event.type, event.object);
        }
      }
    } finally {
      clearTimeout(timer);
    }
    throw new Restart(`watch ${t.plural} ended`);
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      round = new AbortController();
      const signal = round.signal;
      try {
        const lists = await Promise.all(opts.types.map((t) => list(t, signal)));
        backoff = 250;
        opts.onSync(lists.flatMap((l) => l.items));
        // The first watch to fail ends the round; the others are aborted with it.
        await Promise.race(opts.types.map((t, i) => watch(t, lists[i]!.rv, signal)));
      } catch (err) {
        if (stopped) return;
        opts.onError(err instanceof Error ? err : new Error(String(err)));
      } finally {
        round.abort();
      }
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 5000);
    }
  };
  void loop();
  return {
    stop() {
      stopped = true;
      round?.abort();
    },
  };
}

function listKindToKind(list: { kind?: string }): string {
  return (list.kind ?? '').replace(/List$/, '');
}
