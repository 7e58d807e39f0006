/**
 * Mirrors the API server's resources into memory: a Server-Sent Events stream that starts with a
 * full `sync` and continues with changes. Reconnects with backoff and re-syncs from scratch.
 */
import type { Resource } from '../api/types.js';

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
        const decoder = new TextDecoder();
        let buf = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let sep: number;
          while ((sep = buf.indexOf('\n\n')) >= 0) {
            dispatch(buf.slice(0, sep), opts);
            buf = buf.slice(sep + 2);
          }
        }
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

function dispatch(raw: string, opts: WatchOptions): void {
  let event = 'message';
  const data: string[] = [];
  for (const line of raw.split('\n')) {
    if (line.startsWith(':')) continue;
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0) return;
  const msg = JSON.parse(data.join('\n')) as { objects?: Resource[]; type?: 'ADDED' | 'MODIFIED' | 'DELETED'; object?: Resource };
  if (event === 'sync' && Array.isArray(msg.objects)) opts.onSync(msg.objects);
  else if (msg.type && msg.object) opts.onChange(msg.type, msg.object);
}
