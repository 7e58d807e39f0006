/**
 * The sidecar's own HTTP message model. Chain modules see only these types, never Node's
 * IncomingMessage or ServerResponse, so the engine that parses and writes HTTP can be replaced.
 */
import type { Readable } from 'node:stream';

/** Header names are lower case. A header that appeared more than once may be an array. */
export type HeaderMap = Record<string, string | string[] | undefined>;

export interface RequestHead {
  method: string;
  /** request-target path and query (origin form), e.g. `/get?x=1` */
  path: string;
  /** host[:port] the client addressed (absolute-form authority, else the Host header) */
  authority: string;
  headers: HeaderMap;
  httpVersion: string;
}

export interface ResponseHead {
  status: number;
  headers: HeaderMap;
}

/**
 * A message body: streamed by default, buffered when a module asks for the whole of it.
 * `stream()` hands the body to whoever forwards it; it may be called once, and not after bytes().
 */
export interface Body {
  /** content-length when known in advance */
  readonly length: number | undefined;
  /** true when the message has no body at all */
  readonly empty: boolean;
  bytes(): Promise<Buffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  /** the body as a stream, or the buffered bytes if a module already read it */
  take(): Readable | Buffer | null;
}
