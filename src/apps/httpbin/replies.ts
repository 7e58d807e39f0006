/** Response values the views return, plus the stock werkzeug error pages and status-line phrases. */

import { flaskJsonify, type PyValue } from './python-json.js';

export interface Reply {
  status: number;
  /** Headers the view sets, in order; the server adds server/date/connection/content-length/CORS. */
  headers: Array<[string, string]>;
  body: Buffer;
}

export const HTML_UTF8 = 'text/html; charset=utf-8';

export function jsonReply(value: PyValue, status = 200): Reply {
  return { status, headers: [['content-type', 'application/json']], body: Buffer.from(flaskJsonify(value), 'latin1') };
}

/** A Flask `Response(text)`: its default mimetype is HTML even for plain text. */
export function textReply(text: string, status = 200, contentType = HTML_UTF8): Reply {
  return { status, headers: [['content-type', contentType]], body: Buffer.from(text, 'utf8') };
}

/** werkzeug's HTTPException page, e.g. for 404 and 405 (note: no charset on these). */
export function errorPageReply(status: number, description: string, extraHeaders: Array<[string, string]> = []): Reply {
  const name = REASON_PHRASES[status] ?? 'Unknown Error';
  const html =
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n' +
    `<title>${status} ${name}</title>\n` +
    `<h1>${name}</h1>\n` +
    `<p>${description}</p>\n`;
  return { status, headers: [['content-type', 'text/html'], ...extraHeaders], body: Buffer.from(html, 'utf8') };
}

export function notFoundReply(): Reply {
  return errorPageReply(
    404,
    'The requested URL was not found on the server.  If you entered the URL manually please check your spelling and try again.',
  );
}

export function methodNotAllowedReply(allowed: readonly string[]): Reply {
  return errorPageReply(405, 'The method is not allowed for the requested URL.', [['allow', allowed.join(', ')]]);
}

export function internalErrorReply(): Reply {
  return errorPageReply(
    500,
    'The server encountered an internal error and was unable to complete your request.  Either the server is overloaded or there is an error in the application.',
  );
}

export function tooLargeReply(): Reply {
  return errorPageReply(413, 'The data value transmitted exceeds the capacity limit.');
}

/** werkzeug 0.14's phrase table; the status line uses them uppercased ("302 FOUND", "418 I'M A TEAPOT"). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 207: 'Multi Status', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Request Entity Too Large',
  414: 'Request URI Too Long', 415: 'Unsupported Media Type', 416: 'Requested Range Not Satisfiable',
  417: 'Expectation Failed', 418: "I'm a teapot", 422: 'Unprocessable Entity', 423: 'Locked',
  424: 'Failed Dependency', 426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 449: 'Retry With', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 507: 'Insufficient Storage', 510: 'Not Extended',
};

export function statusLinePhrase(status: number): string {
  return REASON_PHRASES[status]?.toUpperCase() ?? 'UNKNOWN';
}
