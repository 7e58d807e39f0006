/** Reads what a Kubernetes API path asks for: which group/version/resource, namespace, name, subresource, verb. */
import { badRequest } from './status.js';

export type ResourceVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'connect';

export interface ResourceRequest {
  type: 'resource';
  group: string;
  version: string;
  /** the plural resource name */
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** what follows the subresource (`pods/x/proxy/<rest>`), undecoded */
  subpath?: string;
  verb: ResourceVerb;
}

export interface NonResourceRequest {
  type: 'nonresource';
  path: string;
}

export type RequestInfo = ResourceRequest | NonResourceRequest;

function truthy(v: string | null): boolean {
  return v === 'true' || v === '1';
}

/**
 * Parses `/api/v1/namespaces/ns/pods/x/status`, `/apis/apps/v1/deployments`, … Anything that is
 * not under `/api/<v>` or `/apis/<g>/<v>/<resource>` is a non-resource path (discovery, health).
 */
export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const raw = url.pathname.split('/').filter((s, i) => i > 0 || s !== '');
  const parts = raw.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw badRequest(`malformed path segment "${s}"`);
    }
  });
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return { type: 'nonresource', path: url.pathname };
  }
  if (rest[rest.length - 1] === '') rest = rest.slice(0, -1);
  let namespace: string | undefined;
  // `namespaces/<ns>/<resource>...` addresses namespaced objects; `namespaces/<name>` alone is the
  // Namespace object itself (and `namespaces/<name>/status|finalize` its subresources).
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    namespace = rest[1]!;
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...subpath] = rest;
  if (!resource) return { type: 'nonresource', path: url.pathname };
  const info: ResourceRequest = { type: 'resource', group, version, resource, verb: 'get' };
  if (namespace !== undefined) info.namespace = namespace;
  if (name !== undefined) info.name = name;
  if (subresource !== undefined) info.subresource = subresource;
  if (subpath.length > 0 || (subresource === 'proxy' && url.pathname.endsWith('/'))) {
    // Keep the raw remainder: a proxied path is forwarded as the client wrote it.
    const idx = nthSlash(url.pathname, url.pathname.split('/').length - subpath.length);
    info.subpath = url.pathname.slice(idx + 1);
  }
  info.verb = verbOf(method, info, url.searchParams);
  return info;
}

function nthSlash(path: string, n: number): number {
  let idx = -1;
  for (let i = 0; i < n; i++) idx = path.indexOf('/', idx + 1);
  return idx;
}

function verbOf(method: string, info: ResourceRequest, q: URLSearchParams): ResourceVerb {
  const connectSub = info.subresource === 'exec' || info.subresource === 'attach' || info.subresource === 'portforward' || info.subresource === 'proxy';
  if (connectSub) return 'connect';
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (truthy(q.get('watch'))) return 'watch';
      return info.name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return info.name === undefined ? 'deletecollection' : 'delete';
    default:
      throw badRequest(`unsupported method ${method}`);
  }
}
