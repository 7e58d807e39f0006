/**
 * The local mesh's Kubernetes API: the generic server (src/kube/apiserver) over the local store,
 * the mesh's admission and the pod runtime, with the mesh kinds present as CRD objects.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod, Resource } from '../../api/types.js';
import { createKubeApi, type KubeApi, type KubeStorage, type UserInfo } from '../../kube/apiserver/index.js';
import {
  authorize, defaultClusterRoleBindings, defaultClusterRoles, OidcAuthenticator, RbacIndex, RBAC_GROUP, RBAC_KINDS,
  oidcOptionsPath, readOidcOptions, rulesFor, ServiceAccountTokens, type AuthServices, type AuthorizeFn,
} from '../../kube/auth/index.js';
import { ensureServiceAccountKey } from '../pki/sa-key.js';
import { crdObjectFor, isMeshKind, OPEN_OBJECT_SCHEMA, ResourceRegistry } from '../../kube/registry/index.js';
import type { ApiContext } from '../apiserver/context.js';
import { kubeTimestamp } from '../store/index.js';
import { localAdmission } from './admission.js';
import { localPodConnector } from './pods.js';
import { isPod } from './pod-admission.js';
import { withPodAddress } from '../controllers/pod-factory.js';
import { storeBackedStorage } from './storage.js';
import { KUBE_VERSION } from './version.js';
import { startLifecycleControllers } from '../../kube/controllers/index.js';

export interface LocalKubeApiOptions {
  ctx: ApiContext;
  serverAddress: string;
  authenticate(req: IncomingMessage): UserInfo | undefined | Promise<UserInfo | undefined>;
  log?: (line: string) => void;
}

/**
 * Creates the default ClusterRoles and ClusterRoleBindings that are missing (kube-apiserver's RBAC
 * bootstrap). Objects a user changed stay as they are.
 */
export function ensureDefaultRbac(ctx: ApiContext): string[] {
  const created: string[] = [];
  const now = kubeTimestamp();
  for (const obj of [...defaultClusterRoles(), ...defaultClusterRoleBindings()]) {
    if (ctx.store.get({ group: RBAC_GROUP, kind: obj.kind, name: obj.metadata.name })) continue;
    const o = { ...obj, metadata: { ...obj.metadata, creationTimestamp: now } };
    ctx.store.transact([{ op: 'create', object: o as unknown as Resource }]);
    created.push(`${obj.kind.toLowerCase()}/${obj.metadata.name}`);
  }
  return created;
}

/** The RBAC objects of the store in an index kept current by a watch; `stop()` ends the watch. */
export function followRbac(storage: KubeStorage): { index: RbacIndex; stop: () => void } {
  const index = new RbacIndex();
  let revision = 0;
  for (const kind of RBAC_KINDS) {
    const listed = storage.list(RBAC_GROUP, kind);
    for (const o of listed.items) index.put(o);
    revision = revision === 0 ? listed.revision : Math.min(revision, listed.revision);
  }
  const stop = storage.watch((e) => {
    if (e.object.apiVersion.startsWith(`${RBAC_GROUP}/`)) index.apply(e);
  }, revision);
  return { index, stop };
}

function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

interface LocalAuth {
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined>;
  authorize: AuthorizeFn;
  services: AuthServices;
  nonResource(path: string, req: IncomingMessage, res: ServerResponse): boolean;
  stop(): void;
}

/**
 * Authentication as kube-apiserver chains it (client certificate or the mesh's token first, then
 * ServiceAccount tokens, then OIDC id tokens when `up` was given `--oidc-issuer-url`) and RBAC over
 * the store's roles and bindings.
 */
function localAuth(opts: LocalKubeApiOptions, storage: KubeStorage): LocalAuth {
  const rbac = followRbac(storage);
  const tokens = new ServiceAccountTokens(ensureServiceAccountKey(opts.ctx.stateDir), storage);
  const log = opts.log ?? ((line: string) => console.error(line));
  const oidcOptions = readOidcOptions(oidcOptionsPath(opts.ctx.stateDir));
  const oidc = oidcOptions ? new OidcAuthenticator(oidcOptions) : undefined;
  if (oidc) {
    log(`OIDC: accepting id tokens of ${oidc.issuer}`);
    oidc.warmUp().catch((e: unknown) => log(`OIDC: ${oidc.issuer}: ${(e as Error).message} (retried when a token arrives)`));
  }
  const jwksUri = `https://${opts.serverAddress}/openid/v1/jwks`;
  return {
    async authenticate(req) {
      const user = await opts.authenticate(req);
      if (user) return user;
      const token = bearerToken(req);
      if (!token) return undefined;
      if (oidc?.handles(token)) {
        const r = await oidc.authenticate(token);
        if ('user' in r) return r.user;
        log(`OIDC: refused a token: ${r.error}`);
        return undefined;
      }
      return tokens.authenticate(token);
    },
    authorize: (user, attrs) => authorize(attrs, user, rbac.index),
    services: {
      tokens,
      rules(user, namespace) {
        const { rules, errors } = rulesFor(user, namespace, rbac.index);
        const out = {
          resourceRules: rules.filter((r) => (r.resources ?? []).length > 0).map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) })),
          nonResourceRules: rules.filter((r) => (r.nonResourceURLs ?? []).length > 0).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs! })),
          incomplete: errors.length > 0,
        };
        return errors.length > 0 ? { ...out, evaluationError: errors.join(', ') } : out;
      },
    },
    nonResource(path, _req, res) {
      let body: object | undefined;
      let type = 'application/json';
      if (path === '/.well-known/openid-configuration') body = tokens.discovery(jwksUri);
      else if (path === '/openid/v1/jwks') {
        body = tokens.jwks();
        type = 'application/jwk-set+json';
      }
      if (!body) return false;
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'public, max-age=3600' });
      res.end(text);
      return true;
    },
    stop: () => rbac.stop(),
  };
}

/** Creates (once) a CRD object for each mesh kind, as installing the mesh on a cluster would. */
export function ensureMeshCrds(ctx: ApiContext, registry: ResourceRegistry): string[] {
  const created: string[] = [];
  const now = kubeTimestamp();
  for (const t of registry.all().filter(isMeshKind)) {
    const crd = crdObjectFor(t, () => OPEN_OBJECT_SCHEMA, now);
    const key = { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', name: crd.metadata.name };
    if (ctx.store.get(key)) continue;
    ctx.store.transact([{ op: 'create', object: crd }]);
    created.push(crd.metadata.name);
  }
  return created;
}

/**
 * The API plus what kube-controller-manager would run beside it for the API's own objects: the
 * garbage collector and the namespace and CRD lifecycles.
 */
export function createLocalKubeApi(opts: LocalKubeApiOptions): KubeApi {
  const registry = new ResourceRegistry();
  ensureMeshCrds(opts.ctx, registry);
  ensureDefaultRbac(opts.ctx);
  // A pod gets its address as it is stored, after admission (a CNI's part): the same lowest-free
  // allocation for the deployment controller's pods and a user's, in one synchronous step.
  const storage = storeBackedStorage(opts.ctx.store, {
    prepareCreate: (obj) => (isPod(obj) ? withPodAddress(obj, opts.ctx.store.list('Pod') as Pod[], opts.ctx.block) : obj),
  });
  const auth = localAuth(opts, storage);
  const api = createKubeApi({
    registry,
    storage,
    admission: localAdmission(opts.ctx),
    pods: localPodConnector(opts.ctx),
    now: () => new Date(),
    serverAddress: opts.serverAddress,
    version: KUBE_VERSION,
    authenticate: (req) => auth.authenticate(req),
    authorize: auth.authorize,
    authServices: auth.services,
    nonResource: (path, req, res) => auth.nonResource(path, req, res),
  });
  const controllers = startLifecycleControllers({ storage, registry, log: opts.log ?? ((line) => console.error(line)) });
  return {
    handle: (req, res) => api.handle(req, res),
    upgrade: (req, socket, head) => api.upgrade(req, socket, head),
    create: (user, obj) => api.create(user, obj),
    close() {
      controllers.stop();
      auth.stop();
      api.close();
    },
  };
}
