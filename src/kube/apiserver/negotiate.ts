/** What representation a client asked for in `Accept`: a plain object, a Table, or metadata only. */
import type { IncomingMessage } from 'node:http';
import { StatusError } from './status.js';

export type Representation =
  | { as: 'object' }
  | { as: 'Table'; includeObject: 'None' | 'Metadata' | 'Object' }
  | { as: 'PartialObjectMetadata' | 'PartialObjectMetadataList' };

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(header: string): MediaRange[] {
  return header.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const eq = kv.indexOf('=');
      if (eq > 0) p[kv.slice(0, eq).trim()] = kv.slice(eq + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params: p };
  });
}

/**
 * Picks the first acceptable representation in the client's order. Protobuf is not served; a
 * client that also accepts JSON gets JSON, one that accepts only protobuf gets 406.
 */
export function negotiate(req: IncomingMessage, url: URL): Representation {
  const header = req.headers.accept;
  if (!header) return { as: 'object' };
  for (const r of parseAccept(header)) {
    if (r.type !== 'application/json' && r.type !== '*/*' && r.type !== 'application/*') continue;
    if (r.params.as === undefined) return { as: 'object' };
    if (r.params.g !== 'meta.k8s.io' || (r.params.v !== 'v1' && r.params.v !== 'v1beta1')) continue;
    if (r.params.as === 'Table') {
      const inc = url.searchParams.get('includeObject');
      const includeObject = inc === 'None' || inc === 'Object' ? inc : 'Metadata';
      return { as: 'Table', includeObject };
    }
    if (r.params.as === 'PartialObjectMetadata' || r.params.as === 'PartialObjectMetadataList') return { as: r.params.as };
  }
  throw new StatusError('NotAcceptable', `only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io`);
}
