/**
 * The Kubernetes API as a request handler: authentication, discovery, and every verb of every served
 * type, with failures as `metav1.Status`. The caller owns the listening socket (HTTPS in local mode)
 * and passes requests and upgrades in; `close()` ends open watches.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Resource } from '../../api/types.js';
import type { CrdObject } from '../registry/index.js';
import type { UserInfo } from './backend.js';
import type { RequestContext, ServerContext } from './context.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import { sendJson, sendStatus } from './http.js';
import { negotiate } from './negotiate.js';
import { handlePatch } from './patch.js';
import { parseRequestInfo, type ResourceRequest } from './request-info.js';
import { createInProcess, handleCreate, handleDelete, handleDeleteCollection, handleGet, handleList, handleUpdate, type Target } from './resources.js';
import { badRequest, MESH_ERROR_CODE_HEADER, methodNotAllowed, StatusError, toStatus, toStatusError } from './status.js';
import { handleLog, handleProxy, handleScale, handleStreamUpgrade } from './subresources.js';
import { handleWatch } from './watch.js';
import { openApiHandler } from './openapi.js';
import { AdmissionWebhooks } from '../admission-webhooks/index.js';
import { authorizeRequest, impersonate, serveAuthRequest, withTokenReview, type AuthorizeFn, type AuthServices } from '../auth/index.js';

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

export interface KubeApiOptions extends ServerContext {
  version: VersionInfo;
  /** who sent the request, or undefined for an anonymous one (401) */
  authenticate(req: IncomingMessage): UserInfo | undefined | Promise<UserInfo | undefined>;
  /** extra non-resource paths (health details, platform endpoints) answered before discovery */
  nonResource?: (path: string, req: IncomingMessage, res: ServerResponse, user: UserInfo) => Promise<boolean> | boolean;
  /** decides every request after authentication (src/kube/auth: RBAC); absent, everything is allowed */
  authorize?: AuthorizeFn;
  /** SelfSubjectRulesReview's rules and TokenRequest's issuer (src/kube/auth) */
  authServices?: AuthServices;
}

export interface KubeApi {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  /**
   * Creates `obj` as `user` through the full admission chain, in process: how the platform's own
   * controllers write (kube-controller-manager's requests, without the HTTP). Throws a StatusError.
   */
  create(user: UserInfo, obj: Resource): Promise<Resource>;
  /** ends open watches and stops following CRDs */
  close(): void;
}

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

export function createKubeApi(opts: KubeApiOptions): KubeApi {
  const streams = new Set<() => void>();
  const track = (stop: () => void): void => {
    streams.add(stop);
  };
  const unfollow = followCrds(opts);
  // Every write honours the stored admission webhook configurations, as kube-apiserver's admission chain does.
  const webhooks = opts.webhooks ?? new AdmissionWebhooks(opts.storage, { log: (line) => console.error(line) });
  const base: ServerContext = { ...opts, webhooks };
  const openapi = openApiHandler(opts.registry, opts.version.gitVersion);
  // TokenReview asks the same authenticators a request meets.
  const authServices = withTokenReview(opts.authServices, opts.authenticate);

  async function userOf(req: IncomingMessage, path: string): Promise<UserInfo> {
    const user = await opts.authenticate(req);
    if (user) return user;
    if (PUBLIC_PATHS.has(path)) return { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    throw new StatusError('Unauthorized', 'Unauthorized');
  }

  async function nonResource(ctx: RequestContext, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (opts.nonResource && (await opts.nonResource(path, req, res, ctx.user))) return;
    const p = path.replace(/\/+$/, '') || '/';
    if (p === '/healthz' || p === '/livez' || p === '/readyz') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (p === '/version') return sendJson(res, 200, opts.version);
    if (p === '/api') return sendJson(res, 200, apiVersions(ctx.serverAddress));
    if (p === '/apis') return sendJson(res, 200, apiGroupList(ctx.registry));
    const parts = p.split('/').slice(1);
    if (parts[0] === 'api' && parts.length === 2) return sendDoc(res, apiResourceList(ctx.registry, '', parts[1]!));
    if (parts[0] === 'apis' && parts.length === 2) return sendDoc(res, apiGroup(ctx.registry, parts[1]!));
    if (parts[0] === 'apis' && parts.length === 3) return sendDoc(res, apiResourceList(ctx.registry, parts[1]!, parts[2]!));
    if (openapi(p, req, res)) return;
    throw new StatusError('NotFound', 'the server could not find the requested resource');
  }

  function targetOf(ctx: RequestContext, info: ResourceRequest, req: IncomingMessage, url: URL): Omit<Target, 'res'> {
    const type = ctx.registry.lookup({ group: info.group, version: info.version, resource: info.resource });
    if (!type) throw new StatusError('NotFound', 'the server could not find the requested resource');
    if (!type.namespaced && info.namespace !== undefined) throw new StatusError('NotFound', 'the server could not find the requested resource');
    if (info.subresource && !type.subresources.includes(info.subresource) && !(info.subresource === 'status' && type.versions.some((v) => v.subresources?.includes('status')))) {
      throw new StatusError('NotFound', 'the server could not find the requested resource');
    }
    const representation = info.subresource === undefined || info.subresource === 'status' ? negotiate(req, url) : { as: 'object' as const };
    return { info, type, req, url, representation };
  }

  async function resource(ctx: RequestContext, t: Target): Promise<void> {
    const { info, type } = t;
    if (info.subresource === 'scale') return handleScale(ctx, t);
    if (info.subresource === 'log') return handleLog(ctx, t);
    if (info.subresource === 'proxy') return handleProxy(ctx, t);
    if (info.subresource === 'exec' || info.subresource === 'attach' || info.subresource === 'portforward') {
      throw badRequest('Upgrade request required');
    }
    if (info.subresource === 'status' || info.subresource === 'finalize') {
      if (info.verb === 'get') return handleGet(ctx, t);
      if (info.verb === 'update') return handleUpdate(ctx, t);
      if (info.verb === 'patch') return handlePatch(ctx, t);
      throw methodNotAllowed(`${info.verb} is not supported on ${type.plural}/${info.subresource}`);
    }
    if (info.subresource !== undefined) throw new StatusError('NotFound', 'the server could not find the requested resource');
    if (!type.verbs.includes(info.verb)) throw methodNotAllowed(`${info.verb} is not supported on ${type.plural}`);
    switch (info.verb) {
      case 'get': return handleGet(ctx, t);
      case 'list': return handleList(ctx, t);
      case 'watch': return handleWatch(ctx, t, track);
      case 'create': return handleCreate(ctx, t);
      case 'update': return handleUpdate(ctx, t);
      case 'patch': return handlePatch(ctx, t);
      case 'delete': return handleDelete(ctx, t);
      case 'deletecollection': return handleDeleteCollection(ctx, t);
      default: throw methodNotAllowed(`${info.verb} is not supported`);
    }
  }

  /** Who is asking and for what, and whether they may: the same for plain requests and upgrades. */
  async function admitRequest(req: IncomingMessage): Promise<{ ctx: RequestContext; info: ReturnType<typeof parseRequestInfo>; url: URL }> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    // Impersonation headers (`kubectl --as`), each part allowed the `impersonate` verb (src/kube/auth).
    const user = await impersonate(await userOf(req, url.pathname), req.headers, opts.authorize, req.headersDistinct);
    const ctx: RequestContext = { ...base, user };
    if (opts.authorize) ctx.authorize = opts.authorize;
    const info = parseRequestInfo(req.method ?? 'GET', url);
    await authorizeRequest(opts.authorize, user, req.method ?? 'GET', url, info);
    return { ctx, info, url };
  }

  return {
    async handle(req, res) {
      try {
        const { ctx, info, url } = await admitRequest(req);
        if (await serveAuthRequest(ctx, opts.authorize, authServices, info, req, res)) return;
        if (info.type === 'nonresource') return await nonResource(ctx, info.path, req, res);
        await resource(ctx, { ...targetOf(ctx, info, req, url), res });
      } catch (e) {
        if (res.headersSent) {
          res.end();
          return;
        }
        const err = toStatusError(e);
        if (err.meshCode) res.setHeader(MESH_ERROR_CODE_HEADER, err.meshCode);
        sendStatus(res, err.status);
      }
    },
    async upgrade(req, socket, head) {
      try {
        const { ctx, info, url } = await admitRequest(req);
        if (info.type !== 'resource' || !['exec', 'attach', 'portforward'].includes(info.subresource ?? '')) {
          throw badRequest(`no upgrade is served at ${url.pathname}`);
        }
        await handleStreamUpgrade(ctx, targetOf(ctx, info, req, url), socket, head);
      } catch (e) {
        const status = toStatus(e);
        const body = JSON.stringify(status);
        if (socket.writable) {
          socket.end(`HTTP/1.1 ${status.code} ${status.reason ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
        }
      }
    },
    async create(user, obj) {
      const type = base.registry.forObject(obj.apiVersion, obj.kind);
      if (!type) throw new StatusError('NotFound', `no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`);
      const version = obj.apiVersion.includes('/') ? obj.apiVersion.slice(obj.apiVersion.indexOf('/') + 1) : obj.apiVersion;
      return (await createInProcess({ ...base, user }, type, version, obj)).object;
    },
    close() {
      unfollow();
      if (!opts.webhooks) webhooks.close();
      for (const stop of [...streams]) stop();
      streams.clear();
    },
  };
}

function sendDoc(res: ServerResponse, doc: object | undefined): void {
  if (!doc) throw new StatusError('NotFound', 'the server could not find the requested resource');
  sendJson(res, 200, doc);
}

/** Keeps the registry in step with stored CustomResourceDefinitions. */
function followCrds(opts: ServerContext): () => void {
  const isCrd = (o: Resource) => o.kind === 'CustomResourceDefinition' && o.apiVersion.startsWith('apiextensions.k8s.io/');
  const { items, revision } = opts.storage.list('apiextensions.k8s.io', 'CustomResourceDefinition');
  for (const crd of items) opts.registry.putCrd(crd as unknown as CrdObject);
  return opts.storage.watch((e) => {
    if (!isCrd(e.object)) return;
    if (e.type === 'DELETED') opts.registry.removeCrd(e.object.metadata.name);
    else opts.registry.putCrd(e.object as unknown as CrdObject);
  }, revision);
}
