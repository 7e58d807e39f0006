/**
 * The HTTP/1.1 request-head checks the proxy adds on top of llhttp (security-rules.md §5 "Node
 * accepts these; the proxy must handle them itself", §11 rule 8). Everything §5 lists as rejected
 * by llhttp itself (CL+TE, duplicate CL, obs-fold, bare LF, …) is left to the parser.
 */
import type { HeaderMap } from '../http/types.js';

export interface HeadError {
  readonly status: 400 | 431 | 501;
  readonly reason: string;
}

/** More header fields than this gets 431 (RFC 6585 §5; Envoy's max_headers_count default is 100). */
export const MAX_HEADER_COUNT = 100;

const fail = (status: 400 | 431 | 501, reason: string): HeadError => Object.freeze({ status, reason });
const VERSION = fail(400, 'only HTTP/1.0 and HTTP/1.1 request lines are served');
const TOO_MANY = fail(431, 'too many header fields');
const UNDERSCORE = fail(400, 'header name with an underscore');
const HOST = fail(400, 'missing or repeated Host header');
const TE_10 = fail(400, 'Transfer-Encoding in an HTTP/1.0 request');
const TE_EMPTY = fail(400, 'empty or malformed Transfer-Encoding');
const TE_CODING = fail(501, 'transfer coding other than chunked');

/**
 * Single-valued fields whose repetition §5 says to refuse: Node keeps the first, other stacks the
 * last, so a policy and the backend could read different values (RFC 9110 §5.3).
 */
const SINGLETONS = ['host', 'authorization', 'proxy-authorization', 'content-type'] as const;

/**
 * Checks a parsed head. `raw` is llhttp's flat [name, value, …] list, `map` the HeaderMap built
 * from it. `hostOptional`: a CONNECT on the proxy may omit Host.
 */
export function checkHead(major: number, minor: number, raw: readonly string[], map: HeaderMap, hostOptional: boolean): HeadError | undefined {
  // §5: HTTP/0.9-style lines and `HTTP/2.0` are served by Node; llhttp already refuses 1.2
  if (major !== 1 || minor > 1) return VERSION;
  if (raw.length > MAX_HEADER_COUNT * 2) return TOO_MANY;
  // §5: `_` aliases `-` in CGI/WSGI backends (X_Forwarded_Client_Cert); rejected like Envoy's REJECT_REQUEST
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.includes('_')) return UNDERSCORE;
  for (const name of SINGLETONS) {
    if (Array.isArray(map[name])) return name === 'host' ? HOST : fail(400, `repeated ${name} header`);
  }
  // RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host
  if (minor === 1 && map['host'] === undefined && !hostOptional) return HOST;
  const te = map['transfer-encoding'];
  if (te !== undefined) {
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty
    if (minor === 0) return TE_10;
    // §5: Node reads an empty TE as no body (400); a value that is not a list of tokens is malformed
    // (400); any coding but a lone `chunked` (`gzip, chunked`, `identity`, or `x` and `chunked` on two
    // lines) is not something the proxy can re-frame: 501 (RFC 9112 §6.1)
    if (typeof te === 'string' && te.toLowerCase() === 'chunked') return undefined;
    const all = Array.isArray(te) ? te.join(',') : te;
    if (!CODINGS.test(all)) return TE_EMPTY;
    return TE_CODING;
  }
  return undefined;
}

/** `#transfer-coding` without parameters (RFC 9112 §7): comma-separated tokens, OWS around commas. */
const CODINGS = /^[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*[ \t]*$/;

/**
 * h2c smuggling (§5, §11 rule 8): an `Upgrade: h2c` request is served as plain HTTP/1.1; Upgrade and
 * HTTP2-Settings (connection-specific, RFC 7540 §3.2.1) are removed. Returns true
 * when the request asked for h2c.
 */
export function stripH2c(map: HeaderMap): boolean {
  if (map['http2-settings'] !== undefined) delete map['http2-settings'];
  const up = map['upgrade'];
  if (up === undefined) return false;
  const tokens = (Array.isArray(up) ? up.join(',') : up).toLowerCase();
  if (!/(^|[\s,])h2c([\s,]|$)/.test(tokens)) return false;
  delete map['upgrade'];
  return true;
}
