/** httpbin's URL map: which paths exist, which methods each accepts (Flask-style), and their views. */

import { setTimeout as sleep } from 'node:timers/promises';
import { LANDING_PAGE } from './landing-page.js';
import { flaskJsonify, pyDict, type PyValue } from './python-json.js';
import {
  HTML_UTF8, internalErrorReply, jsonReply, methodNotAllowedReply, notFoundReply, textReply, type Reply,
} from './replies.js';
import { headerValue, requestDict, type DictKey, type RequestView } from './request-view.js';
import { chooseStatus, statusReply } from './status-codes.js';

export interface ViewContext {
  /** Aborted when the server shuts down, so pending delays do not hold the process open. */
  signal: AbortSignal;
}

type View = (request: RequestView, params: readonly string[], context: ViewContext) => Reply | Promise<Reply>;

interface Route {
  pattern: RegExp;
  /** The methods the Flask rule lists; HEAD (with GET) and OPTIONS are added the way Flask adds them. */
  methods: readonly string[] | 'any';
  view: View;
}

const GET_ONLY = ['GET'];
const MANY = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'TRACE'];
const BODY_KEYS: readonly DictKey[] = ['url', 'args', 'form', 'data', 'origin', 'headers', 'files', 'json'];
const MAX_DELAY_SECONDS = 10;

const routes: readonly Route[] = [
  { pattern: /^\/$/, methods: GET_ONLY, view: () => textReply(LANDING_PAGE, 200, HTML_UTF8) },
  { pattern: /^\/get$/, methods: GET_ONLY, view: (r) => jsonReply(requestDict(r, ['url', 'args', 'headers', 'origin'])) },
  { pattern: /^\/headers$/, methods: GET_ONLY, view: (r) => jsonReply(requestDict(r, ['headers'])) },
  { pattern: /^\/ip$/, methods: GET_ONLY, view: (r) => jsonReply(requestDict(r, ['origin'])) },
  {
    pattern: /^\/user-agent$/,
    methods: GET_ONLY,
    // httpbin's case-insensitive dict yields None for a missing header, hence `null`.
    view: (r) => jsonReply({ 'user-agent': headerValue(r, 'User-Agent') ?? null }),
  },
  {
    // Flask's <path:anything> needs at least one character that is not a slash.
    pattern: /^\/anything(?:\/[^/].*)?$/s,
    methods: 'any',
    view: (r) => jsonReply(requestDict(r, [...BODY_KEYS, 'method'])),
  },
  { pattern: /^\/post$/, methods: ['POST'], view: (r) => jsonReply(requestDict(r, BODY_KEYS)) },
  { pattern: /^\/put$/, methods: ['PUT'], view: (r) => jsonReply(requestDict(r, BODY_KEYS)) },
  { pattern: /^\/patch$/, methods: ['PATCH'], view: (r) => jsonReply(requestDict(r, BODY_KEYS)) },
  { pattern: /^\/delete$/, methods: ['DELETE'], view: (r) => jsonReply(requestDict(r, BODY_KEYS)) },
  { pattern: /^\/status\/([^/]+)$/, methods: MANY, view: (_r, [codes]) => statusView(codes!) },
  { pattern: /^\/delay\/([^/]+)$/, methods: MANY, view: (r, [delay], context) => delayView(r, delay!, context) },
  { pattern: /^\/response-headers$/, methods: ['GET', 'POST'], view: (r) => responseHeadersView(r) },
];

/** Routes a request the way werkzeug does: 404 for unknown paths, automatic OPTIONS, 405 with Allow. */
export async function dispatch(request: RequestView, context: ViewContext): Promise<Reply> {
  for (const route of routes) {
    const match = route.pattern.exec(request.path);
    if (!match) continue;
    const allowed = allowedMethods(route);
    if (request.method === 'OPTIONS') return optionsReply(allowed);
    if (route.methods !== 'any' && !allowed.includes(request.method)) return methodNotAllowedReply(allowed);
    return route.view(request, match.slice(1), context);
  }
  return notFoundReply();
}

function allowedMethods(route: Route): string[] {
  const listed = route.methods === 'any' ? MANY : route.methods;
  const methods = new Set([...listed, 'OPTIONS']);
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/** Flask's automatic OPTIONS answer (the CORS preflight headers are added with the others). */
function optionsReply(allowed: readonly string[]): Reply {
  return { status: 200, headers: [['content-type', HTML_UTF8], ['allow', allowed.join(', ')]], body: Buffer.alloc(0) };
}

function statusView(codes: string): Reply {
  const code = chooseStatus(codes);
  // Node cannot put codes outside 100–999 on a status line; treat them like unparsable input.
  if (code === undefined || code < 100 || code > 999) return textReply('Invalid status code', 400);
  return statusReply(code);
}

/** Python's float(): decimals, exponents, inf and nan. */
const PY_FLOAT = /^\s*[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|inf|infinity|nan)\s*$/i;

/**
 * httpbin's `min(float(delay), 10)`: the seconds to wait, or undefined where httpbin's
 * float() or time.sleep() would raise (unparsable, negative or NaN), which Flask makes a 500.
 */
export function delaySeconds(text: string): number | undefined {
  if (!PY_FLOAT.test(text)) return undefined;
  const normalised = text.trim().replace(/^([-+]?)inf(inity)?$/i, '$1Infinity');
  const seconds = Math.min(Number(normalised), MAX_DELAY_SECONDS);
  return seconds >= 0 ? seconds : undefined;
}

async function delayView(request: RequestView, delayText: string, context: ViewContext): Promise<Reply> {
  const seconds = delaySeconds(delayText);
  if (seconds === undefined) return internalErrorReply();
  await sleep(seconds * 1000, undefined, { signal: context.signal });
  return jsonReply(requestDict(request, ['url', 'args', 'form', 'data', 'origin', 'headers', 'files']));
}

/**
 * httpbin echoes the response's own headers (Content-Type, Content-Length and the query's) in
 * the body, so it iterates until Content-Length agrees with the body that mentions it.
 */
function responseHeadersView(request: RequestView): Reply {
  const extra = request.queryPairs;
  let length = 0;
  let body = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const entries: Array<readonly [string, string]> = [
      ['Content-Type', 'application/json'],
      ['Content-Length', String(length)],
      ...extra,
    ];
    body = flaskJsonify(groupHeaders(entries));
    if (body.length === length) break;
    length = body.length;
  }
  return { status: 200, headers: [['content-type', 'application/json'], ...extra], body: Buffer.from(body, 'latin1') };
}

/** werkzeug `Headers`: every name maps to all values stored under it case-insensitively. */
function groupHeaders(entries: ReadonlyArray<readonly [string, string]>): { [key: string]: PyValue } {
  const byLowerName = new Map<string, string[]>();
  for (const [name, value] of entries) {
    const values = byLowerName.get(name.toLowerCase());
    if (values) values.push(value);
    else byLowerName.set(name.toLowerCase(), [value]);
  }
  const out = pyDict();
  for (const [name] of entries) {
    const values = byLowerName.get(name.toLowerCase())!;
    out[name] = values.length === 1 ? values[0]! : values;
  }
  return out;
}
