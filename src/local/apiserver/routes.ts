/**
 * The HTTP routes of the local API, one per MeshApi method. Paths use `-` as the namespace of
 * cluster-scoped objects. Bodies and results are JSON; errors are `{ error: MeshError.toJSON() }`.
 *
 *   GET    /healthz                                   (no auth) {status, meshName, stateDir}
 *   POST   /v1/apply              {documents, namespace?}                    → ApplyResult[]
 *   POST   /v1/delete             {documents, namespace?, ignoreNotFound?}   → ApplyResult[]
 *   GET    /v1/resources?kind=&namespace=&allNamespaces=&labelSelector=&name= → Resource[]
 *   GET    /v1/resources/:kind/:ns/:name                                     → Resource
 *   DELETE /v1/resources/:kind/:ns/:name?ignoreNotFound=true                 → ApplyResult
 *   PATCH  /v1/resources/:kind/:ns/:name  (JSON merge patch body)            → ApplyResult
 *   POST   /v1/wait               {query, condition, timeoutMs}              → Resource[]
 *   POST   /v1/rollout-restart    {kind, name, namespace}                    → ApplyResult
 *   GET    /v1/pods/:ns/:name/info                                           → PodProcessInfo
 *   GET    /v1/pods/:ns/:name/logs?container=                                → text/plain
 *   GET    /v1/pods/:ns/:name/proxy/<path and query>     relayed from the sidecar admin server
 *   GET    /v1/status                                                        → MeshStatus
 *   POST   /v1/shutdown                                                      → {ok: true}, then stops
 *   GET    /v1/watch?revision=N   Server-Sent Events: `sync`, then `event` per change
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MeshError } from '../../lib/errors.js';
import type { ListQuery, ManifestDocument } from '../api-contract.js';
import type { ApiContext } from './context.js';
import { readJsonBody, sendJson, sendText } from './http-json.js';
import { meshStatus } from './mesh-status.js';
import { podInfo, podLogs, proxyGet } from './pods.js';
import { getResource, listResources } from './queries.js';
import { waitFor } from './wait.js';
import { streamWatch } from './watch-stream.js';
import { applyDocuments, deleteDocuments, deleteOne, patchResource, rolloutRestart } from './writes.js';

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  url: URL;
  ctx: ApiContext;
  /** registers an SSE stream so server.close() can end it */
  trackStream: (close: () => void) => void;
}

interface Route {
  method: string;
  path: RegExp;
  auth: boolean;
  handle: (r: RouteRequest) => Promise<void> | void;
}

const SEGMENT = '([^/]+)';
const OBJECT_PATH = new RegExp(`^/v1/resources/${SEGMENT}/${SEGMENT}/${SEGMENT}$`);
const NO_NAMESPACE = '-';

function ns(segment: string): string | undefined {
  return segment === NO_NAMESPACE ? undefined : segment;
}

async function body<T>(req: IncomingMessage): Promise<T> {
  const b = await readJsonBody(req);
  if (b === null || typeof b !== 'object') throw new MeshError('MESH_ERR_USAGE', 'request body must be a JSON object');
  return b as T;
}

function documentsOf(b: { documents?: unknown }): ManifestDocument[] {
  if (!Array.isArray(b.documents)) throw new MeshError('MESH_ERR_USAGE', 'request body needs "documents": ManifestDocument[]');
  return b.documents as ManifestDocument[];
}

function listQueryFrom(url: URL): ListQuery {
  const p = url.searchParams;
  const kind = p.get('kind');
  if (!kind) throw new MeshError('MESH_ERR_USAGE', 'query parameter "kind" is required');
  const q: ListQuery = { kind };
  if (p.get('namespace')) q.namespace = p.get('namespace')!;
  if (p.get('allNamespaces') === 'true') q.allNamespaces = true;
  if (p.get('labelSelector')) q.labelSelector = p.get('labelSelector')!;
  if (p.get('name')) q.name = p.get('name')!;
  return q;
}

export const ROUTES: Route[] = [
  {
    method: 'GET', path: /^\/healthz$/, auth: false,
    handle: ({ res, ctx }) => sendJson(res, 200, { status: 'ok', meshName: ctx.meshName, stateDir: ctx.stateDir }),
  },
  {
    method: 'POST', path: /^\/v1\/apply$/, auth: true,
    handle: async ({ req, res, ctx }) => {
      const b = await body<{ documents?: unknown; namespace?: string }>(req);
      sendJson(res, 200, await applyDocuments(ctx, documentsOf(b), b.namespace));
    },
  },
  {
    method: 'POST', path: /^\/v1\/delete$/, auth: true,
    handle: async ({ req, res, ctx }) => {
      const b = await body<{ documents?: unknown; namespace?: string; ignoreNotFound?: boolean }>(req);
      sendJson(res, 200, deleteDocuments(ctx, documentsOf(b), b.namespace, b.ignoreNotFound === true));
    },
  },
  {
    method: 'GET', path: /^\/v1\/resources$/, auth: true,
    handle: ({ res, url, ctx }) => sendJson(res, 200, listResources(ctx, listQueryFrom(url))),
  },
  {
    method: 'GET', path: OBJECT_PATH, auth: true,
    handle: ({ res, params: [kind, namespace, name], ctx }) => sendJson(res, 200, getResource(ctx, kind!, name!, ns(namespace!))),
  },
  {
    method: 'DELETE', path: OBJECT_PATH, auth: true,
    handle: ({ res, url, params: [kind, namespace, name], ctx }) =>
      sendJson(res, 200, deleteOne(ctx, kind!, name!, ns(namespace!), url.searchParams.get('ignoreNotFound') === 'true')),
  },
  {
    method: 'PATCH', path: OBJECT_PATH, auth: true,
    handle: async ({ req, res, params: [kind, namespace, name], ctx }) =>
      sendJson(res, 200, await patchResource(ctx, kind!, name!, ns(namespace!), await readJsonBody(req))),
  },
  {
    method: 'POST', path: /^\/v1\/wait$/, auth: true,
    handle: async ({ req, res, ctx }) => {
      const b = await body<{ query?: ListQuery; condition?: string; timeoutMs?: number }>(req);
      if (!b.query?.kind || typeof b.condition !== 'string') {
        throw new MeshError('MESH_ERR_USAGE', 'request body needs "query" (with kind), "condition" and "timeoutMs"');
      }
      // Stop waiting when the client hangs up (res 'close' before we answered).
      const abort = new AbortController();
      res.on('close', () => { if (!res.writableFinished) abort.abort(); });
      sendJson(res, 200, await waitFor(ctx, b.query, b.condition, Number(b.timeoutMs ?? 30_000), abort.signal));
    },
  },
  {
    method: 'POST', path: /^\/v1\/rollout-restart$/, auth: true,
    handle: async ({ req, res, ctx }) => {
      const b = await body<{ kind?: string; name?: string; namespace?: string }>(req);
      if (!b.kind || !b.name) throw new MeshError('MESH_ERR_USAGE', 'request body needs "kind" and "name"');
      sendJson(res, 200, rolloutRestart(ctx, b.kind, b.name, b.namespace || 'default'));
    },
  },
  {
    method: 'GET', path: new RegExp(`^/v1/pods/${SEGMENT}/${SEGMENT}/info$`), auth: true,
    handle: ({ res, params: [namespace, name], ctx }) => sendJson(res, 200, podInfo(ctx, namespace!, name!)),
  },
  {
    method: 'GET', path: new RegExp(`^/v1/pods/${SEGMENT}/${SEGMENT}/logs$`), auth: true,
    handle: async ({ res, url, params: [namespace, name], ctx }) =>
      sendText(res, 200, await podLogs(ctx, namespace!, name!, url.searchParams.get('container') ?? undefined)),
  },
  {
    method: 'GET', path: new RegExp(`^/v1/pods/${SEGMENT}/${SEGMENT}/proxy/(.*)$`), auth: true,
    handle: async ({ req, res, params: [namespace, name], ctx }) => {
      // Relay the raw remainder (path and query string) exactly as the caller wrote it.
      const raw = req.url ?? '';
      const rest = raw.slice(raw.indexOf('/proxy/') + '/proxy/'.length);
      const relayed = await proxyGet(ctx, namespace!, name!, rest);
      sendText(res, relayed.status, relayed.body, relayed.contentType);
    },
  },
  {
    method: 'GET', path: /^\/v1\/status$/, auth: true,
    handle: async ({ res, ctx }) => sendJson(res, 200, await meshStatus(ctx)),
  },
  {
    method: 'POST', path: /^\/v1\/shutdown$/, auth: true,
    handle: ({ res, ctx }) => {
      // Answer first: the caller must learn that shutdown started before the server goes away.
      res.on('finish', () => setImmediate(ctx.onShutdown));
      sendJson(res, 200, { ok: true });
    },
  },
  {
    method: 'GET', path: /^\/v1\/watch$/, auth: true,
    handle: ({ res, ctx, trackStream }) => trackStream(streamWatch(ctx, res)),
  },
];

export function findRoute(method: string, pathname: string): { route: Route; params: string[] } | { allowed: string[] } {
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const m = pathname.match(route.path);
    if (!m) continue;
    if (route.method === method) return { route, params: m.slice(1).map((s) => decodeURIComponent(s)) };
    allowed.push(route.method);
  }
  return { allowed };
}
