/**
 * `ctx.fetch` for plugins: an HTTP call resolved the way cluster DNS would (mesh and non-mesh
 * Services), or to a loopback address. Anything else is refused: plugins do not reach the internet.
 */
import { MeshError } from '../../lib/errors.js';
import type { PluginFetchInit, PluginFetchResponse } from '../../plugins/api.js';
import type { RequestHead } from '../http/types.js';
import type { ModuleEnv } from '../modules/env.js';
import { parseAuthority, resolveService } from '../routing/index.js';
import { headersView } from './headers-view.js';

export async function pluginFetch(env: ModuleEnv, url: string, init: PluginFetchInit = {}): Promise<PluginFetchResponse> {
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new MeshError('MESH_ERR_USAGE', `plugin fetch supports http:// only, got ${u.protocol}`);
  const port = u.port ? Number(u.port) : 80;
  const a = parseAuthority(u.host);
  let endpoint: string;
  const resolved = resolveService(env.tables, a.host, port);
  if (resolved && resolved.endpoints.length > 0) {
    endpoint = resolved.endpoints[Math.floor(Math.random() * resolved.endpoints.length)]!;
  } else if (a.host.startsWith('127.') || a.host === 'localhost') {
    endpoint = `${a.host === 'localhost' ? '127.0.0.1' : a.host}:${port}`;
  } else {
    throw new MeshError('MESH_ERR_NO_ROUTE', `plugin fetch: no service answers to ${u.host}`);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
  const head: RequestHead = {
    method: (init.method ?? 'GET').toUpperCase(),
    path: `${u.pathname}${u.search}`,
    authority: u.host,
    headers,
    httpVersion: '1.1',
  };
  const body = init.body === undefined ? null : Buffer.from(init.body);
  if (body) headers['content-length'] = String(body.length);
  const timeout = init.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  const res = await Promise.race([
    env.upstream.request(endpoint, head, body),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MeshError('MESH_ERR_TIMEOUT', `plugin fetch to ${u.host} timed out after ${timeout} ms`)), timeout);
    }),
  ]).finally(() => clearTimeout(timer));
  return {
    status: res.status,
    headers: headersView(res.headers),
    text: () => res.body.text(),
    json: () => res.body.json(),
  };
}
