/**
 * A request the outbound proxy would send back into itself: its Host or absolute URI names the
 * proxy's own listener (`curl -x P P/get`, or a Host of `127.0.0.1:15001` on a redirected
 * connection). Forwarded, it re-enters the proxy, is forwarded again, and so on until sockets or
 * timeouts run out (~40 s, then a 502). Two guards answer it with 508 Loop Detected instead:
 *
 * - the destination: an egress cluster whose endpoint is one of the sidecar's own outbound
 *   listeners is refused before any connection is made. Only the outbound listeners count: a pod
 *   calling its own pod IP (transparent interception delivers such a connection with the pod's
 *   address as original destination) reaches the inbound listener, which forwards to the app, and
 *   is no loop.
 * - a hop marker, for every spelling the address comparison cannot know (a DNS name or another
 *   literal that reaches the listener): each request the outbound proxy forwards carries
 *   `x-tessera-hop` with a random marker this sidecar process drew at start. A request arriving at
 *   the outbound proxy with its own marker has been round once. Other sidecars' markers are kept
 *   and this one appended, so a loop through two sidecars' proxies is seen too; inbound listeners
 *   strip the header, so no app ever sees (or can replay) a marker.
 *
 * Not spoofable into a denial: a client can only make its own request fail, and only by sending
 * this process's 128-bit random marker, which reaches nothing but the destinations of the
 * requests this sidecar forwards; or by sending more than MAX_HOPS markers itself.
 */
import { randomBytes } from 'node:crypto';
import type { HttpContext, RoutedCluster } from '../chain/types.js';
import type { HeaderMap } from '../http/types.js';
import { denialResponse } from './denial-response.js';

export const HOP_HEADER = 'x-tessera-hop';
/** More markers than any real chain of explicit proxies has: refused as a loop too. */
export const MAX_HOPS = 8;

/** What the sidecar knows about itself to tell a loop. */
export interface SidecarSelf {
  /** random, drawn once per process (newHopMarker) */
  readonly hopMarker: string;
  /** `host:port` of each outbound listener (the explicit proxy's address; 127.0.0.1:15001 in transparent mode) */
  readonly outboundListeners: ReadonlySet<string>;
}

export function newHopMarker(): string {
  return randomBytes(16).toString('hex');
}

function markers(headers: HeaderMap): string[] {
  const v = headers[HOP_HEADER];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/** Refuses the request as a loop (508): routing is cleared, so nothing is forwarded. */
function refuseLoop(ctx: HttpContext, reason: string): void {
  ctx.cluster = undefined;
  ctx.route = undefined;
  ctx.denial = { response: denialResponse(508, 'Loop Detected', { reason }, ctx.request.headers), reason };
}

/** At the outbound edge, before routing: true (and the denial set) when the request came round. */
export function refuseReturningRequest(ctx: HttpContext, self: SidecarSelf): boolean {
  const seen = markers(ctx.request.headers);
  if (seen.includes(self.hopMarker)) {
    refuseLoop(ctx, `loop detected: the request to ${ctx.request.authority} came back to the sidecar that forwarded it`);
    return true;
  }
  if (seen.length >= MAX_HOPS) {
    refuseLoop(ctx, `loop detected: the request to ${ctx.request.authority} passed ${seen.length} sidecar proxies`);
    return true;
  }
  return false;
}

/** After routing: true (and the denial set) when the request would be sent to this proxy itself. */
export function refuseSelfDestination(ctx: HttpContext, cluster: RoutedCluster, self: SidecarSelf): boolean {
  if (!cluster.egress) return false;
  const own = cluster.endpoints.find((e) => self.outboundListeners.has(e));
  if (own === undefined) return false;
  refuseLoop(ctx, `loop detected: ${ctx.request.authority} is this sidecar's own outbound listener (${own})`);
  return true;
}

/** The request as the outbound proxy forwards it: this sidecar's marker after any others. */
export function markHop(headers: HeaderMap, self: SidecarSelf): void {
  headers[HOP_HEADER] = [...markers(headers), self.hopMarker].join(', ');
}

/** Inbound: markers are for proxies only; the app never sees one. */
export function stripHops(headers: HeaderMap): void {
  delete headers[HOP_HEADER];
}
