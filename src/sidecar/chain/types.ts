/**
 * The chain API: every mount point (`inbound-http`, `outbound-http`, `inbound-tcp`, `outbound-tcp`)
 * runs an ordered list of modules shaped `(ctx, next)`. A module may act before `next()`, answer
 * without calling it (short-circuit), or inspect and change the response after it.
 */
import type { Body, HeaderMap, RequestHead } from '../http/types.js';
import type { RouteRule } from '../../snapshot/types.js';
import type { MountPoint } from '../../api/types.js';

export type Direction = 'inbound' | 'outbound';

export interface Peer {
  address: string;
  port: number;
  /** `sa.ns`, only ever from a verified certificate */
  identity: string | undefined;
  /** the server name (SNI) the peer asked for in a verified mTLS handshake; none for plaintext */
  sni?: string | undefined;
}

export interface HttpRequest extends RequestHead {
  body: Body;
}

export interface HttpResponse {
  status: number;
  headers: HeaderMap;
  body: Body;
}

/** The destination service as routing found it (FSM's `__service`). */
export interface RoutedService {
  /** rule name `svc.ns` */
  name: string;
  namespace: string;
  /** the service port the request addressed */
  port: number;
  RouteRules: RouteRule[];
  Plugins?: Record<string, unknown>;
}

/** A selected cluster (FSM's `__cluster`): name plus endpoints `ip:port` → weight. */
export interface RoutedCluster {
  name: string;
  endpoints: readonly string[];
  /** endpoints of a service outside the mesh, reached without a sidecar on the far side */
  egress: boolean;
  /** identities (`sa.ns`) the endpoints hold; a mesh upstream must prove one of them over mTLS */
  identities?: readonly string[];
}

/** Why routing found nothing; decides the default module's answer. */
export type RouteMiss = 'unknown-host' | 'no-route' | 'denied';

export interface HttpContext {
  readonly direction: Direction;
  readonly mountPoint: MountPoint;
  readonly request: HttpRequest;
  response: HttpResponse | undefined;
  readonly source: Peer;
  /** the local address and port the request arrived on */
  readonly local: { address: string; port: number };
  /** true for Upgrade requests (WebSocket): the forwarder tunnels instead of proxying one exchange */
  readonly upgrade: boolean;
  /** process.hrtime.bigint() when the request head arrived */
  readonly startedAt: bigint;
  service: RoutedService | undefined;
  route: RouteRule | undefined;
  cluster: RoutedCluster | undefined;
  routeMiss: RouteMiss | undefined;
  /** the endpoint the request was forwarded to */
  upstream: string | undefined;
  traceId: string | undefined;
  /**
   * A policy refused the request (authentication or authorization): the rest of the chain still
   * runs so metrics, tracing and the access log record it, but plugins and the load balancer skip
   * it and the default module answers with this response.
   */
  denial: Denial | undefined;
  /** what the `istio.io/dry-run` policies would have decided (logged and counted, never enforced) */
  shadow?: { allow: boolean; policy?: string; rule?: number } | undefined;
  /** Sets the response; modules that do not call next() after this short-circuit the chain. */
  respond(status: number, body?: string | Buffer | object, headers?: HeaderMap): void;
}

/** Why a request was refused: `reason` is fixed text and configuration (policy names, field names), never a token. */
export interface Denial {
  response: HttpResponse;
  reason: string;
  /** `ns/name` of the policy that decided (AuthorizationPolicy, RequestAuthentication) */
  policy?: string | undefined;
  /** the rule index within that policy */
  rule?: number | undefined;
}

export type Next = () => Promise<void>;
export type HttpModule = (ctx: HttpContext, next: Next) => void | Promise<void>;

/** What a relayed connection carried, in application bytes (after TLS). */
export interface TcpTransfer {
  fromClient: number;
  toClient: number;
}

/** A raw byte stream seen by the TCP chains. */
export interface TcpContext {
  readonly direction: Direction;
  readonly mountPoint: MountPoint;
  readonly source: Peer;
  readonly local: { address: string; port: number };
  /** the destination the client asked for (CONNECT authority or the listener's upstream) */
  readonly target: { host: string; port: number };
  cluster: RoutedCluster | undefined;
  service: { name: string; namespace: string; port: number } | undefined;
  routeMiss: RouteMiss | undefined;
  upstream: string | undefined;
  /** set by the module that took over the connection */
  handled: boolean;
  /**
   * Pipes the client connection to `endpoint` (`ip:port`), over mTLS when identities are given.
   * Resolves when both sides have closed, with the bytes relayed; undefined when the upstream could
   * not be reached (the client connection was refused).
   */
  pipeTo(endpoint: string, identities?: readonly string[], connectTimeoutMs?: number): Promise<TcpTransfer | undefined>;
  /** Closes the client connection (reset). */
  reject(reason: string): void;
}

export type TcpModule = (ctx: TcpContext, next: Next) => void | Promise<void>;
