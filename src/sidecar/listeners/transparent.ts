/**
 * Transparent mode (pods in namespace mode, and the Kubernetes injector's pods): iptables REDIRECTs
 * the pod's traffic to two listeners, and the original destination (SO_ORIGINAL_DST) says what the
 * connection was for.
 *
 * - inbound (:15003): other pods dialed `podIP:targetPort`; the connection is handed to that port's
 *   inbound engine (HTTP or TCP, as the snapshot's inbound traffic matches say), which sees the
 *   original port as the socket's local port (AccessControl and routing are keyed by it) and
 *   forwards to the app on the pod's loopback.
 * - outbound (:15001): the app dialed a service (a cluster IP from /etc/hosts) or a pod; HTTP ports
 *   go to the HTTP engine, which routes by Host as the explicit proxy does; everything else runs the
 *   outbound TCP chain with the original destination as its target. A connection that was not
 *   redirected (an app configured with http_proxy) is served as the explicit proxy.
 */
import { createServer, Socket, type Server } from 'node:net';
import { cidrContains, parseCidr } from '../../lib/cidr.js';
import { originalDestination, type OriginalDestination } from '../../local/sandbox/original-dst.js';
import type { OutboundTrafficMatch } from '../../snapshot/types.js';
import { startsWithH2Preface } from '../engine/h2-sniff.js';
import type { SidecarLog } from '../observability/log.js';

/** The environment variable that puts the sidecar in transparent mode (its value: the inbound port). */
export const SIDECAR_TRANSPARENT_ENV = 'TESSERA_SIDECAR_INBOUND_PORT';
export const TRANSPARENT_INBOUND_PORT = 15003;

type OriginalDst = (socket: Socket) => OriginalDestination | undefined;

/**
 * The socket now answers for the port the peer dialed (the engines key matches and policies by it).
 * Patched at the handle's getsockname, so a TLSSocket wrapping it (mTLS termination; its handle
 * proxies getsockname to this one) reports the same port.
 */
function presentAs(socket: Socket, port: number): void {
  const s = socket as unknown as { _handle?: { getsockname?: (out: Record<string, unknown>) => unknown }; _sockname?: unknown };
  const handle = s._handle;
  if (handle?.getsockname) {
    const real = handle.getsockname.bind(handle);
    handle.getsockname = (out) => {
      const r = real(out);
      out['port'] = port;
      return r;
    };
  }
  s._sockname = undefined;
}

export interface TransparentInboundOptions {
  /** the inbound engine serving a target port, if the snapshot has one */
  engineFor: (port: number) => Server | undefined;
  log: SidecarLog;
  originalDst?: OriginalDst;
}

export function createTransparentInbound(opts: TransparentInboundOptions): Server {
  const od = opts.originalDst ?? originalDestination;
  return createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => undefined);
    const dst = od(socket);
    const engine = dst && opts.engineFor(dst.port);
    if (!dst || !engine) {
      opts.log.warn('inbound connection to a port with no listener refused', { peer: socket.remoteAddress, port: dst?.port ?? null });
      socket.resetAndDestroy();
      return;
    }
    presentAs(socket, dst.port);
    engine.emit('connection', socket);
  });
}

export interface TransparentOutboundOptions {
  /** the explicit-proxy HTTP engine (Host-based routing) */
  http: Server;
  /** runs the outbound TCP chain for a redirected connection */
  tcp: (socket: Socket, target: { host: string; port: number }) => void;
  matches: () => Record<string, OutboundTrafficMatch[]> | undefined;
  /**
   * True for a Service's address the snapshot leaves out of this proxy's outbound scope: the sidecar
   * refuses it, and its first bytes decide how (an HTTP answer with the reason, or a closed connection)
   */
  outOfScope?: (dst: { address: string; port: number }) => boolean;
  log: SidecarLog;
  originalDst?: OriginalDst;
}

/** How long a connection to an out-of-scope address may stay silent before it is refused as TCP (a server-first protocol). */
const SNIFF_MS = 1000;
const HTTP1_REQUEST = /^[A-Z]{3,10} \S/;

/** Whether a connection's first bytes are an HTTP/1 request line or the HTTP/2 preface. */
export function looksLikeHttp(first: Buffer): boolean {
  return HTTP1_REQUEST.test(first.subarray(0, 16).toString('latin1')) || startsWithH2Preface(first);
}

/** The match whose ranges hold the destination address (a Service's cluster IP), if any. */
export function outboundMatch(matches: Record<string, OutboundTrafficMatch[]> | undefined, dst: { address: string; port: number }): OutboundTrafficMatch | undefined {
  return (matches?.[String(dst.port)] ?? []).find((m) => Object.keys(m.DestinationIPRanges ?? {}).some((r) => {
    const c = parseCidr(r);
    return c !== undefined && cidrContains(c, dst.address);
  }));
}

/** The protocol the snapshot gives a destination: the match whose ranges hold the address, else the port's first. */
export function outboundProtocol(matches: Record<string, OutboundTrafficMatch[]> | undefined, dst: { address: string; port: number }): OutboundTrafficMatch['Protocol'] | undefined {
  return (outboundMatch(matches, dst) ?? matches?.[String(dst.port)]?.[0])?.Protocol;
}

/**
 * Who a redirected TCP connection is for: the TCP service whose match holds the cluster IP goes by
 * its name (the outbound TCP chain selects services by name, as for CONNECT), anything else by the
 * original address.
 */
export function outboundTcpTarget(matches: Record<string, OutboundTrafficMatch[]> | undefined, dst: { address: string; port: number }): { host: string; port: number } {
  const names = Object.keys(outboundMatch(matches, dst)?.TcpServiceRouteRules ?? {});
  return { host: names.length === 1 ? names[0]! : dst.address, port: dst.port };
}

export function createTransparentOutbound(opts: TransparentOutboundOptions): Server {
  const od = opts.originalDst ?? originalDestination;
  return createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => undefined);
    const dst = od(socket);
    if (!dst) {
      opts.http.emit('connection', socket);
      return;
    }
    const matches = opts.matches();
    const protocol = outboundProtocol(matches, dst);
    if (protocol === 'http' || protocol === 'grpc') opts.http.emit('connection', socket);
    else if (protocol === undefined && opts.outOfScope?.(dst)) refuseOutOfScope(socket, dst, opts);
    else opts.tcp(socket, outboundTcpTarget(matches, dst));
  });
}

/**
 * An out-of-scope Service has no match to say its protocol, so the client's first bytes do: HTTP
 * goes to the HTTP engine, whose routing refuses it with 403 and the reason; anything else (or
 * silence) to the TCP chain, which closes it and logs the reason.
 */
function refuseOutOfScope(socket: Socket, dst: { address: string; port: number }, opts: TransparentOutboundOptions): void {
  const asTcp = (): void => opts.tcp(socket, { host: dst.address, port: dst.port });
  const timer = setTimeout(() => {
    socket.removeListener('data', onData);
    asTcp();
  }, SNIFF_MS);
  timer.unref();
  function onData(first: Buffer): void {
    clearTimeout(timer);
    socket.pause();
    socket.unshift(first);
    if (looksLikeHttp(first)) {
      opts.http.emit('connection', socket);
      socket.resume();
    } else asTcp();
  }
  socket.once('data', onData);
  socket.once('close', () => clearTimeout(timer));
}
