/** Reading request bodies and writing JSON answers and Status errors. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { decodeKubeProtobuf, isKubeProtobuf, ProtobufUnsupportedError } from '../protobuf/index.js';
import { badRequest, StatusError, unsupportedMediaType, type Status } from './status.js';

/** kube-apiserver's limit for one request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new StatusError('RequestEntityTooLarge', `the request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Parses a JSON body, YAML (which server-side apply sends) or Kubernetes protobuf (what kubectl's
 * typed clients send for built-in kinds). Bad syntax is a 400 naming the problem.
 */
export function parseBody(body: Buffer, contentType: string | undefined): unknown {
  if (isKubeProtobuf(contentType ?? '')) {
    try {
      return decodeKubeProtobuf(body).object;
    } catch (e) {
      if (e instanceof ProtobufUnsupportedError) throw unsupportedMediaType(contentType ?? '', ['application/json', 'application/yaml']);
      throw badRequest(`the request body is not valid protobuf: ${(e as Error).message}`);
    }
  }
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  const type = mediaType(contentType);
  try {
    if (type.endsWith('yaml')) return parseYaml(text);
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`the request body is not valid ${type.endsWith('yaml') ? 'YAML' : 'JSON'}: ${(e as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private' });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: Status): void {
  sendJson(res, status.code, status);
}
