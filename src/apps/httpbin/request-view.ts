/** What httpbin's views see of a request: werkzeug-style headers, args, origin, url and `get_dict`. */

import { pyDict, type PyValue } from './python-json.js';
import { parseBody, semiflatten } from './request-body.js';
import { latin1Bytes, parseUrlEncoded, pathInfo, splitTarget, werkzeugRequestUrl } from './werkzeug-url.js';

export interface RequestView {
  method: string;
  /** The request target exactly as sent, for the access log. */
  rawTarget: string;
  /** Decoded path used for routing (gunicorn's PATH_INFO). */
  path: string;
  rawPath: string;
  rawQuery: string;
  queryPairs: Array<[string, string]>;
  /** Header name (werkzeug's Title-Case) to value, in arrival order. */
  headers: Map<string, string>;
  remoteAddress: string;
  /** `host:port` the server was bound to; werkzeug falls back to it when Host is missing. */
  serverName: string;
  body: Buffer;
}

export interface RawRequest {
  method: string;
  target: string;
  rawHeaders: readonly string[];
  remoteAddress: string;
  body: Buffer;
  serverName: string;
}

export function buildRequestView(raw: RawRequest): RequestView {
  const { rawPath, rawQuery } = splitTarget(raw.target);
  return {
    method: raw.method,
    rawTarget: raw.target,
    path: pathInfo(rawPath),
    rawPath,
    rawQuery,
    queryPairs: parseUrlEncoded(latin1Bytes(rawQuery)),
    headers: werkzeugHeaders(raw.rawHeaders),
    remoteAddress: raw.remoteAddress,
    serverName: raw.serverName,
    body: raw.body,
  };
}

/**
 * Reproduces the header names a Flask app sees behind gunicorn: gunicorn uppercases names,
 * maps `-` to `_` under `HTTP_` and joins repeats with `,`; werkzeug turns them back with
 * Python's `str.title()`, so `x-b3-traceid` reads `X-B3-Traceid` and `x_iam_token` `X-Iam-Token`.
 * Content-Type and Content-Length live outside `HTTP_` and the last one sent wins.
 */
export function werkzeugHeaders(rawHeaders: readonly string[]): Map<string, string> {
  const environ = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toUpperCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'CONTENT-TYPE' || name === 'CONTENT-LENGTH') {
      environ.set(name.replace('-', '_'), value);
      continue;
    }
    const key = `HTTP_${name.replace(/-/g, '_')}`;
    const previous = environ.get(key);
    environ.set(key, previous === undefined ? value : `${previous},${value}`);
  }
  const headers = new Map<string, string>();
  for (const [key, value] of environ) {
    if (key.startsWith('HTTP_')) headers.set(pythonTitle(key.slice(5).replace(/_/g, '-')), value);
    else if (value !== '') headers.set(pythonTitle(key.replace('_', '-')), value);
  }
  return headers;
}

/** Python's `str.title()` for ASCII: a letter is uppercased after a non-letter, lowercased after a letter. */
export function pythonTitle(text: string): string {
  let out = '';
  let afterLetter = false;
  for (const ch of text) {
    const isLetter = /[A-Za-z]/.test(ch);
    out += isLetter ? (afterLetter ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    afterLetter = isLetter;
  }
  return out;
}

/** Case-insensitive header lookup, like werkzeug's `request.headers.get`. */
export function headerValue(view: RequestView, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of view.headers) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

// httpbin hides these proxy/platform headers from `headers` unless the query has `show_env`.
const ENV_HEADERS = new Set([
  'X-Varnish', 'X-Request-Start', 'X-Heroku-Queue-Depth', 'X-Real-Ip', 'X-Forwarded-Proto',
  'X-Forwarded-Protocol', 'X-Forwarded-Ssl', 'X-Heroku-Queue-Wait-Time', 'X-Forwarded-For',
  'X-Heroku-Dynos-In-Use', 'X-Forwarded-Port', 'X-Request-Id', 'Via', 'Total-Route-Time', 'Connect-Time',
]);

export function headersField(view: RequestView): { [key: string]: PyValue } {
  const showEnv = view.queryPairs.some(([key]) => key === 'show_env');
  const out = pyDict();
  for (const [key, value] of view.headers) if (showEnv || !ENV_HEADERS.has(key)) out[key] = value;
  return out;
}

/** The X-Forwarded-For chain (normalised to ", " separators) or else the peer address. */
export function originField(view: RequestView): string {
  const forwarded = headerValue(view, 'X-Forwarded-For');
  if (forwarded === undefined) return view.remoteAddress;
  return forwarded
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '')
    .join(', ');
}

/** httpbin's `get_url`: werkzeug's request.url with the scheme a proxy says it used. */
export function urlField(view: RequestView): string {
  const forwardedSsl = headerValue(view, 'X-Forwarded-Ssl') === 'on' ? 'https' : undefined;
  const scheme =
    headerValue(view, 'X-Forwarded-Proto') || headerValue(view, 'X-Forwarded-Protocol') || forwardedSsl || 'http';
  const forwardedHost = headerValue(view, 'X-Forwarded-Host')?.split(',', 1)[0]?.trim();
  const host = forwardedHost ?? headerValue(view, 'Host') ?? view.serverName;
  return werkzeugRequestUrl(scheme, host, view.rawPath, view.rawQuery);
}

export type DictKey = 'url' | 'args' | 'form' | 'data' | 'origin' | 'headers' | 'files' | 'json' | 'method';

/** httpbin's `get_dict`: the named request fields. */
export function requestDict(view: RequestView, keys: readonly DictKey[]): { [key: string]: PyValue } {
  const needsBody = keys.some((key) => key === 'form' || key === 'data' || key === 'files' || key === 'json');
  const body = needsBody ? parseBody(view.body, headerValue(view, 'Content-Type')) : undefined;
  const out = pyDict();
  for (const key of keys) {
    switch (key) {
      case 'url': out.url = urlField(view); break;
      case 'args': out.args = semiflatten(view.queryPairs); break;
      case 'origin': out.origin = originField(view); break;
      case 'headers': out.headers = headersField(view); break;
      case 'method': out.method = view.method; break;
      default: out[key] = body![key];
    }
  }
  return out;
}
