/** Helpers over HeaderMap: hop-by-hop stripping, single-value reads, and a case-insensitive view. */
import type { HeaderMap } from './types.js';

/** RFC 9110 §7.6.1 connection-specific headers, never forwarded by a proxy. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}

/**
 * Copies `headers` without hop-by-hop headers and without those the Connection header names.
 * Returns a fresh object the forwarder may hand to its client.
 */
export function forwardableHeaders(headers: HeaderMap): HeaderMap {
  const out: HeaderMap = {};
  const connection = headers['connection'];
  let named: Set<string> | undefined;
  if (connection) {
    named = new Set(
      String(connection)
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    );
  }
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** One value of a header; repeated values are joined with ", " (RFC 9110 §5.3). */
export function headerValue(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Converts Node/undici raw header arrays or objects to a HeaderMap with lower-case names. */
export function headerMapFrom(input: Record<string, string | string[] | undefined>): HeaderMap {
  const out: HeaderMap = {};
  for (const k in input) {
    const v = input[k];
    if (v === undefined) continue;
    const name = k.toLowerCase();
    const prev = out[name];
    if (prev === undefined) out[name] = v;
    else out[name] = ([] as string[]).concat(prev, v);
  }
  return out;
}
