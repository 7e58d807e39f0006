/**
 * The HTTP message head model scripts read and write: lower-case `headers` (no `connection`;
 * repeated headers keep the last value except cookie/set-cookie), `headerNames` mapping a
 * lower-case name to the peer's spelling when it differs. Encoding writes names in that spelling,
 * recomputes content-length and fills statusText.
 */
import { STATUS_CODES } from 'node:http';

export interface RequestHead {
  protocol: string;
  headers: Record<string, unknown>;
  headerNames: Record<string, string>;
  method: string;
  scheme: string | undefined;
  authority: string | undefined;
  path: string;
}

export interface ResponseHead {
  status: number;
  statusText: string;
  protocol: string;
  headers: Record<string, unknown>;
  headerNames: Record<string, string>;
}

const MULTI = new Set(['cookie', 'set-cookie']);
/** never written from a head: recomputed or connection-specific */
const SKIP_ON_ENCODE = new Set(['content-length', 'transfer-encoding', 'keep-alive', 'connection']);

/** Decodes Node's raw header list ([name, value, name, value, …]). */
export function decodeHeaders(raw: readonly string[]): { headers: Record<string, unknown>; headerNames: Record<string, string> } {
  const headers: Record<string, unknown> = {};
  const headerNames: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'connection') continue;
    const value = raw[i + 1]!;
    if (MULTI.has(lower)) {
      const prev = headers[lower];
      headers[lower] = Array.isArray(prev) ? [...prev, value] : prev === undefined ? [value] : [prev, value];
    } else headers[lower] = value;
    if (name !== lower) headerNames[lower] = name;
  }
  return { headers, headerNames };
}

export function requestHead(method: string, path: string, httpVersion: string, raw: readonly string[]): RequestHead {
  const { headers, headerNames } = decodeHeaders(raw);
  return {
    protocol: `HTTP/${httpVersion}`,
    headers,
    headerNames,
    method,
    scheme: undefined,
    authority: undefined,
    path,
  };
}

export function responseHead(status: number, statusText: string | undefined, httpVersion: string, raw: readonly string[]): ResponseHead {
  const { headers, headerNames } = decodeHeaders(raw);
  return { status, statusText: statusText || STATUS_CODES[status] || '', protocol: `HTTP/${httpVersion}`, headers, headerNames };
}

/** A head as written: status and text, and header [name, value] pairs in the peer's spelling. */
export interface EncodedHead {
  status: number;
  statusText: string;
  headers: [string, string][];
}

/** Encodes a response head (a plain `{status}` object or null means 200). */
export function encodeResponseHead(head: unknown, bodySize: number): EncodedHead {
  const h = (head ?? {}) as { status?: unknown; statusText?: unknown; headers?: unknown; headerNames?: unknown };
  const status = Number(h.status ?? 200) || 200;
  const statusText = typeof h.statusText === 'string' && h.statusText !== '' ? h.statusText : STATUS_CODES[status] ?? '';
  const headers = encodeHeaders(h.headers, h.headerNames);
  if (status >= 200 && status !== 204 && status !== 304) headers.push(['content-length', String(bodySize)]);
  return { status, statusText, headers };
}

/** Header pairs for writing; names in their original spelling when `headerNames` has one. */
export function encodeHeaders(headers: unknown, headerNames?: unknown): [string, string][] {
  const out: [string, string][] = [];
  if (!headers || typeof headers !== 'object') return out;
  const names = (headerNames && typeof headerNames === 'object' ? headerNames : {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    if (SKIP_ON_ENCODE.has(lower)) continue;
    const spelled = typeof names[lower] === 'string' ? (names[lower] as string) : name;
    if (Array.isArray(value)) for (const v of value) out.push([spelled, String(v)]);
    else out.push([spelled, String(value)]);
  }
  return out;
}
