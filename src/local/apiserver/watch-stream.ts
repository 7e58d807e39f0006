/**
 * `GET /v1/watch`: the control plane's feed. Server-Sent Events: one `sync` event with every object,
 * then one `event` per store change, and a `: ping` comment every 15 s so idle proxies and the
 * client notice a dead connection.
 */
import type { ServerResponse } from 'node:http';
import { KINDS } from '../../api/kinds.js';
import type { Resource } from '../../api/types.js';
import type { ApiContext } from './context.js';

const PING_INTERVAL_MS = 15_000;

export function allObjects(ctx: ApiContext): Resource[] {
  return KINDS.flatMap((k) => ctx.store.list(k.kind));
}

function frame(event: string, id: number, data: unknown): string {
  return `event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Streams until the client goes away or `close` is called; returns that `close`. */
export function streamWatch(ctx: ApiContext, res: ServerResponse): () => void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  // Snapshot and subscribe in the same tick: the store emits synchronously, so nothing falls between.
  const revision = ctx.store.revision;
  res.write(frame('sync', revision, { revision, objects: allObjects(ctx) }));
  const unwatch = ctx.store.watch((e) => {
    res.write(frame('event', e.revision, { type: e.type, object: e.object, revision: e.revision }));
  });
  const ping = setInterval(() => res.write(': ping\n\n'), PING_INTERVAL_MS);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    unwatch();
    clearInterval(ping);
    res.end();
  };
  res.on('close', close);
  return close;
}
