/**
 * `/openapi/v2` (JSON, or protobuf for the kubectl versions that only read that) and `/openapi/v3`,
 * built from the registry and rebuilt only when the set of types changed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeOpenApiV2Protobuf, OPENAPI_V2_PROTOBUF_ACCEPT, OPENAPI_V2_PROTOBUF_TYPE, openApiV2, openApiV3GroupVersion, openApiV3Root } from '../openapi/index.js';
import type { ResourceRegistry } from '../registry/index.js';
import { sendJson } from './http.js';
import { StatusError } from './status.js';

export function openApiHandler(registry: ResourceRegistry, gitVersion: string): (path: string, req: IncomingMessage, res: ServerResponse) => boolean {
  let cachedAt = -1;
  let v2: Record<string, unknown> | undefined;
  let v2proto: Uint8Array | undefined;
  const v3 = new Map<string, object | undefined>();
  const fresh = (): void => {
    if (cachedAt === registry.generation) return;
    cachedAt = registry.generation;
    v2 = undefined;
    v2proto = undefined;
    v3.clear();
  };
  return (path, req, res) => {
    if (!path.startsWith('/openapi/')) return false;
    fresh();
    const types = registry.all();
    if (path === '/openapi/v2') {
      const accept = req.headers.accept ?? '';
      v2 ??= openApiV2(types, { gitVersion });
      if (OPENAPI_V2_PROTOBUF_ACCEPT.some((t) => accept.includes(t))) {
        v2proto ??= encodeOpenApiV2Protobuf(v2);
        res.writeHead(200, { 'content-type': OPENAPI_V2_PROTOBUF_TYPE, 'content-length': v2proto.byteLength });
        res.end(Buffer.from(v2proto.buffer, v2proto.byteOffset, v2proto.byteLength));
        return true;
      }
      sendJson(res, 200, v2);
      return true;
    }
    if (path === '/openapi/v3') {
      sendJson(res, 200, openApiV3Root(types, { gitVersion }));
      return true;
    }
    const m = path.match(/^\/openapi\/v3\/(?:api\/(v[^/]+)|apis\/([^/]+)\/([^/]+))$/);
    if (!m) throw new StatusError('NotFound', 'the server could not find the requested resource');
    const [group, version] = m[1] ? ['', m[1]] : [m[2]!, m[3]!];
    const key = `${group}/${version}`;
    if (!v3.has(key)) v3.set(key, openApiV3GroupVersion(types, group, version, { gitVersion }));
    const doc = v3.get(key);
    if (!doc) throw new StatusError('NotFound', 'the server could not find the requested resource');
    sendJson(res, 200, doc);
    return true;
  };
}
