/**
 * Mirrors the API server's resources into memory: a Server-Sent Events stream that starts with a
 * full `sync` and continues with changes. Reconnects with backoff and re-syncs from scratch.
 */
import type { Resource } from '../api/types.js';
import { readEventStream, type ServerSentEvent } from '../lib/sse.js';

export interface WatchOptions {
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
  let stopped = false;
  let abort: AbortController | undefined;
  let backoff = 250;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        abort = new AbortController();
        const res = await fetch(`${opts.apiUrl}/v1/watch`, {
          headers: { authorization: `Bearer ${opts.token}`, accept: 'text/event-stream' },
          signal: abort.signal,
        });
        if (!res.ok || !res.body) throw new Error(`watch refused: HTTP ${res.status}`);
        backoff = 250;
        await readEventStream(res.body as unknown as AsyncIterable<Uint8Array>, (e) => dispatch(e, opts));
        throw new Error('watch stream ended');
      } catch (err) {
        if (stopped) return;
        opts.onError(err as Error);
      }
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 5000);
    }
  };
  void loop();
  return {
    stop() {
      stopped = true;
      abort?.abort();
    },
  };
}

function dispatch(e: ServerSentEvent, opts: WatchOptions): void {
  const msg = JSON.parse(e.data) as { objects?: Resource[]; type?: 'ADDED' | 'MODIFIED' | 'DELETED'; object?: Resource };
  if (e.event === 'sync' && Array.isArray(msg.objects)) opts.onSync(msg.objects);
  else if (msg.type && msg.object) opts.onChange(msg.type, msg.object);
}
