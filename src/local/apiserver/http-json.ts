/** JSON request/response helpers and the mapping from MeshError codes to HTTP statuses. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isMeshError, MeshError, type MeshErrorCode } from '../../lib/errors.js';

/** Marks a response as an API error, so relayed sidecar responses (any status) are never mistaken for one. */
export const ERROR_HEADER = 'x-tessera-error';
const MAX_BODY_BYTES = 32 * 1024 * 1024;

const STATUS_BY_CODE: Partial<Record<MeshErrorCode, number>> = {
  MESH_ERR_MANIFEST_PARSE: 400,
  MESH_ERR_MANIFEST_INVALID: 400,
  MESH_ERR_KIND_UNKNOWN: 400,
  MESH_ERR_NAMESPACE_MISMATCH: 400,
  MESH_ERR_PLUGIN_COMPILE: 400,
  MESH_ERR_IMAGE_UNSUPPORTED: 400,
  MESH_ERR_USAGE: 400,
  MESH_ERR_NOT_FOUND: 404,
  MESH_ERR_ALREADY_EXISTS: 409,
  MESH_ERR_FORBIDDEN: 403,
  MESH_ERR_PLUGIN_POLICY_DISABLED: 403,
  MESH_ERR_POLICY_DISABLED: 403,
  MESH_ERR_UPSTREAM: 502,
  MESH_ERR_TIMEOUT: 504,
};

export function httpStatusFor(code: MeshErrorCode): number {
  return STATUS_BY_CODE[code] ?? 500;
}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new MeshError('MESH_ERR_USAGE', `request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new MeshError('MESH_ERR_USAGE', `request body is not valid JSON: ${(e as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': data.length });
  res.end(data);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  const data = Buffer.from(text);
  res.writeHead(status, { 'content-type': contentType, 'content-length': data.length });
  res.end(data);
}

/** Sends `{ error: MeshError.toJSON() }`; anything that is not a MeshError becomes MESH_ERR_INTERNAL. */
export function sendError(res: ServerResponse, err: unknown): void {
  const meshError = isMeshError(err)
    ? (err as MeshError)
    : new MeshError('MESH_ERR_INTERNAL', `internal error: ${(err as Error)?.message ?? String(err)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const data = Buffer.from(JSON.stringify({ error: meshError.toJSON() }));
  res.writeHead(httpStatusFor(meshError.code), {
    'content-type': 'application/json; charset=utf-8', 'content-length': data.length, [ERROR_HEADER]: '1',
  });
  res.end(data);
}
