/**
 * Who may talk to the dashboard: whoever holds this run's token. The token is printed once (the
 * login URL) and traded at /login for an HttpOnly, SameSite=Strict cookie, so it leaves the address
 * bar after one redirect and no other site's page can send it. Scripts may send it as a Bearer token
 * instead. Requests naming any other Host than the bound loopback address are refused, so a DNS
 * name rebound to 127.0.0.1 cannot make a browser read the dashboard for another site.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_COOKIE = 'tessera_dashboard';

/** 32 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Compares in constant time whatever the lengths (both sides are hashed first). */
export function tokenMatches(given: string | undefined, token: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The request carries the session cookie or `Authorization: Bearer <token>`. */
export function authenticated(headers: IncomingHttpHeaders, token: string): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
  return tokenMatches(bearer, token) || tokenMatches(cookieValue(headers.cookie, SESSION_COOKIE), token);
}

export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/** The Host values the server answers to: the bound address and port, as typed (`localhost` for 127.0.0.1 too). */
export function allowedHosts(address: string, port: number): Set<string> {
  const hosts = new Set<string>();
  const literal = address.includes(':') ? `[${address}]` : address;
  hosts.add(`${literal}:${port}`);
  if (address === '127.0.0.1' || address === '::1') hosts.add(`localhost:${port}`);
  return hosts;
}

export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  return host !== undefined && allowed.has(host.toLowerCase());
}

/** Loopback only: 127.0.0.0/8 and ::1. Anything else would put the mesh's view on the network. */
export function isLoopbackAddress(address: string): boolean {
  if (address === '::1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}
