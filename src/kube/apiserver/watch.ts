/**
 * Watches: newline-delimited JSON events over a chunked response. Without a resourceVersion the
 * watch starts with ADDED events for what exists now; with one it resumes after that revision, and
 * a revision compacted away ends the stream with an ERROR event carrying 410 Expired, as
 * kube-apiserver does. Bookmarks are sent when asked for; `timeoutSeconds` ends the stream.
 */
import { apiVersionOf } from '../registry/index.js';
import type { Resource } from '../../api/types.js';
import type { StoredEvent } from './backend.js';
import type { RequestContext } from './context.js';
import { atVersion } from './objects.js';
import { listObjects, selectionOf, type Target } from './resources.js';
import { matches } from './selectors.js';
import { badRequest, StatusError, toStatus } from './status.js';
import { renderTable } from './table-view.js';

/** kube-apiserver picks a random timeout between 30 and 60 minutes when the client gives none. */
const DEFAULT_TIMEOUT_S = 1800;
const BOOKMARK_EVERY_MS = 10_000;

export function handleWatch(ctx: RequestContext, t: Target, track: (stop: () => void) => void): void {
  const { type, info, url, res } = t;
  const sel = selectionOf(url, type);
  const timeoutParam = url.searchParams.get('timeoutSeconds');
  const timeoutS = timeoutParam === null ? DEFAULT_TIMEOUT_S : Number(timeoutParam);
  if (!Number.isFinite(timeoutS) || timeoutS < 0) throw badRequest(`timeoutSeconds: Invalid value: "${timeoutParam}"`);
  const rvParam = url.searchParams.get('resourceVersion');
  let fromRevision: number | undefined;
  if (rvParam !== null && rvParam !== '' && rvParam !== '0') {
    fromRevision = Number(rvParam);
    if (!Number.isInteger(fromRevision) || fromRevision < 0) throw badRequest(`resourceVersion: Invalid value: "${rvParam}": must be a non-negative integer`);
  }
  const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';

  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
  res.flushHeaders();
  let lastRevision = fromRevision ?? 0;
  let stopped = false;
  const render = (obj: Resource): unknown => {
    const served = atVersion(obj, type, info.version);
    if (t.representation.as === 'Table') return renderTable(ctx, type, info.version, [served], t.representation.includeObject, obj.metadata.resourceVersion);
    if (t.representation.as !== 'object') return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: served.metadata };
    return served;
  };
  const send = (eventType: string, object: unknown): void => {
    if (!stopped) res.write(`${JSON.stringify({ type: eventType, object })}\n`);
  };
  // With a selector, an object that starts matching is ADDED and one that stops matching is DELETED,
  // as the watch cache reports them. Objects seen matching by this stream are remembered by key; on a
  // watch resumed from a revision, an object first seen through MODIFIED is reported as it comes.
  const selective = sel.labels !== undefined || sel.fields.length > 0;
  const matching = new Set<string>();
  const keyOfObject = (o: Resource): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const onEvent = (e: StoredEvent): void => {
    lastRevision = e.revision;
    const o = e.object;
    if (o.kind !== type.kind || groupOf(o.apiVersion) !== type.group) return;
    if (type.namespaced && info.namespace !== undefined && o.metadata.namespace !== info.namespace) return;
    const nowMatches = matches(o, sel);
    if (!selective) {
      if (nowMatches) send(e.type, render(o));
      return;
    }
    const key = keyOfObject(o);
    const before = matching.has(key);
    if (e.type === 'DELETED') {
      matching.delete(key);
      if (before || nowMatches) send('DELETED', render(o));
    } else if (nowMatches) {
      matching.add(key);
      send(e.type === 'MODIFIED' && !before && fromRevision === undefined ? 'ADDED' : e.type, render(o));
    } else if (before) {
      matching.delete(key);
      send('DELETED', render(o));
    }
  };

  let unsubscribe: () => void = () => undefined;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    clearTimeout(timer);
    clearInterval(bookmarkTimer);
    res.end();
  };
  const timer = setTimeout(stop, timeoutS * 1000);
  const bookmarkTimer = setInterval(() => {
    if (bookmarks) send('BOOKMARK', { kind: type.kind, apiVersion: apiVersionOf(type.group, info.version), metadata: { resourceVersion: String(lastRevision || ctx.storage.revision) } });
  }, BOOKMARK_EVERY_MS);
  bookmarkTimer.unref();
  res.on('close', stop);
  track(stop);

  try {
    if (fromRevision === undefined) {
      const { items, revision } = listObjects(ctx, type, info.namespace, sel);
      lastRevision = revision;
      for (const o of items) {
        matching.add(keyOfObject(o));
        send('ADDED', render(o));
      }
      unsubscribe = ctx.storage.watch(onEvent, revision);
    } else {
      unsubscribe = ctx.storage.watch(onEvent, fromRevision);
    }
  } catch (e) {
    const status = e instanceof StatusError ? e.status : toStatus(e);
    send('ERROR', status);
    stop();
  }
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
