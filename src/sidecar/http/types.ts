/**
 * The sidecar's own HTTP message model. Chain modules see only these types, never Node's
 * IncomingMessage or ServerResponse, so the engine that parses and writes HTTP can be replaced.
 */

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
  /** the header names and values as received, original spelling, flat [name, value, …] */
  rawHeaders?: readonly string[];
  /** aborted when the client gave up on the exchange (an HTTP/2 stream reset, a gRPC deadline) */
  signal?: AbortSignal;
}

export interface ResponseHead {
  status: number;
  headers: HeaderMap;
}

/** Where a forwarded body goes: `write` returns false when the sink is full. */
export interface BodySink {
  write(chunk: Buffer): boolean;
  /** the trailer fields that closed the body (HTTP/2, gRPC's `grpc-status`), just before end() */
  trailers?(fields: HeaderMap): void;
  end(): void;
  error(err: Error): void;
}

/**
 * A message body: streamed by default, buffered when a module asks for the whole of it.
 * `pipeTo` hands the body to the forwarder (once); it returns the function the sink calls when it
 * can take more after a `write` returned false.
 */
export interface Body {
  /** content-length when known in advance */
  readonly length: number | undefined;
  /** true when the message has no body at all */
  readonly empty: boolean;
  bytes(): Promise<Buffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  pipeTo(sink: BodySink): () => void;
  /** the whole body when it is (being) buffered, so a forwarder can send it with a length */
  buffered(): Promise<Buffer> | undefined;
}
