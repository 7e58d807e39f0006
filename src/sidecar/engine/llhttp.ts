/**
 * Node's own HTTP/1.1 parser (llhttp), the one node:http uses, with the same strictness (no lenient
 * flags: Content-Length with Transfer-Encoding, bad chunk sizes, bare LF and obs-fold are errors).
 * Using it directly skips IncomingMessage/ServerResponse and their streams, which is most of the
 * per-request cost of node:http in a proxy.
 */
import { HTTPParser as NodeHTTPParser } from '_http_common';

export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenientFlags?: number): void;
  execute(data: Buffer): number | (Error & { code?: string; reason?: string; bytesParsed?: number });
  finish(): void | Error;
  close(): void;
  free(): void;
  remove(): void;
  [key: number]: unknown;
}

interface ParserClass {
  new (): LlhttpParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
}

export const HTTPParser = NodeHTTPParser as unknown as ParserClass;

export type OnHeadersComplete = (
  versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number | undefined,
  url: string | undefined,
  statusCode: number | undefined,
  statusMessage: string | undefined,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number | void;

export const MAX_HEADER_SIZE = 64 * 1024;
