/**
 * Request-target forms per listener and the authority they name (RFC 9112 §3.2, security-rules.md
 * §5): origin-form and absolute-form everywhere (RFC 9112 §3.2.2: a server must accept absolute-form),
 * authority-form only for CONNECT, asterisk-form only for OPTIONS; Host validated; the path
 * normalized once.
 */
import { DEFAULT_PATH_NORMALIZATION, normalizeTarget, type PathNormalization, type TargetError } from './normalize.js';

export interface ResolvedTarget {
  /** the normalized path and query (or `*`, or the CONNECT authority) */
  path: string;
  /** lower-case `host[:port]` */
  authority: string;
}

const bad = (reason: string): TargetError => Object.freeze({ status: 400, reason });
const BAD_HOST = bad('invalid Host header');
const BAD_AUTHORITY = bad('invalid authority in request-target');
const NOT_HTTP = bad('absolute-form request-target with a scheme other than http');
const NOT_HTTP_OR_HTTPS = bad('absolute-form request-target with a scheme other than http or https');
const ASTERISK = bad('asterisk-form request-target is only valid for OPTIONS');
const CONNECT_FORM = bad('CONNECT needs an authority-form request-target host:port');
const BAD_FORM = bad('unsupported request-target form');

/**
 * `host[:port]`: an IP-literal or a DNS-style reg-name (letters, digits, `-`, `.`, `_`), decimal port.
 * Stricter than RFC 3986 §3.2.2 (no sub-delims, no `%`), so a `hosts` policy and the upstream see
 * one spelling (§4 CVE-2021-39155; RFC 9110 §7.2: an invalid Host gets 400).
 */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::([0-9]{1,5}))?$/;
const HAS_UPPER = /[A-Z]/;

/**
 * The authority in its one canonical spelling, or undefined when it has none; `needPort` for CONNECT.
 * Canonical: lower case, and a name's trailing dot (the root label, `svc.ns.` = `svc.ns`) removed, so
 * routing, `hosts` policies, SMI, AccessControl, plugins and egress all compare the same string (a
 * DENY on `svc.ns` is not dodged by `SVC.ns.`); a name with an empty label (`a..b`, `.a`, `.`) has no
 * canonical form and is refused. The port is kept as written: `h` and `h:80` stay two hosts, as
 * Istio matches them (write `h` and `h:*`, ISTIO-SECURITY-2021-008).
 */
export function validAuthority(a: string, needPort = false): string | undefined {
  const m = AUTHORITY.exec(a);
  if (!m) return undefined;
  const port = m[1];
  if (port === undefined ? needPort : Number(port) > 65535) return undefined;
  let canonical = a;
  if (a.charCodeAt(0) !== 0x5b) {
    // on the request path: index checks, and a new string only when there is a dot to drop
    const hostEnd = port === undefined ? a.length : a.length - port.length - 1;
    if (a.charCodeAt(0) === 0x2e || a.includes('..')) return undefined;
    if (a.charCodeAt(hostEnd - 1) === 0x2e) {
      if (hostEnd === 1 || a.charCodeAt(hostEnd - 2) === 0x2e) return undefined;
      canonical = a.slice(0, hostEnd - 1) + a.slice(hostEnd);
    }
  }
  return HAS_UPPER.test(canonical) ? canonical.toLowerCase() : canonical;
}

/**
 * Classifies and normalizes the target. `host` is the single Host value (already checked for
 * repetition), undefined when absent (HTTP/1.0, or CONNECT). The result's authority is the one
 * name every consumer uses: the absolute-form authority when there is one, else Host.
 */
export function resolveTarget(
  method: string,
  url: string,
  host: string | undefined,
  proxy: boolean,
  norm: PathNormalization = DEFAULT_PATH_NORMALIZATION,
): ResolvedTarget | TargetError {
  let authority = '';
  if (host !== undefined) {
    const h = validAuthority(host);
    if (h === undefined) return BAD_HOST;
    authority = h;
  }
  if (method === 'CONNECT') {
    // RFC 9112 §3.2.3: authority-form, host and port
    const a = validAuthority(url, true);
    return a === undefined ? CONNECT_FORM : { path: a, authority: a };
  }
  const c = url.charCodeAt(0);
  if (c === 0x2f) {
    const path = normalizeTarget(url, norm);
    return typeof path === 'string' ? { path, authority } : path;
  }
  if (url === '*') return method === 'OPTIONS' ? { path: '*', authority } : ASTERISK;
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) return BAD_FORM;
  // absolute-form (RFC 9112 §3.2.2). The outbound proxy forwards in plaintext, so only `http` there;
  // inbound the scheme does not change where the request goes (the local app), so `https` is
  // accepted too (a client that reached the sidecar through TLS may name it).
  const scheme = /^https?:\/\//i.exec(url)?.[0].length;
  if (scheme === undefined || (proxy && scheme !== 7)) return proxy ? NOT_HTTP : NOT_HTTP_OR_HTTPS;
  let end = scheme;
  while (end < url.length) {
    const ch = url.charCodeAt(end);
    if (ch === 0x2f || ch === 0x3f || ch === 0x23) break;
    end++;
  }
  const a = validAuthority(url.slice(scheme, end));
  if (a === undefined) return BAD_AUTHORITY;
  // §5, RFC 9112 §3.2.2: the target's authority wins over Host (still validated above); the engine
  // rewrites the Host header to it, so routing, `hosts` policies and plugins see one canonical name
  let rest = url.slice(end);
  if (rest === '' || rest.charCodeAt(0) === 0x23) rest = method === 'OPTIONS' ? '*' : '/';
  else if (rest.charCodeAt(0) === 0x3f) rest = '/' + rest;
  if (rest === '*') return { path: '*', authority: a };
  const path = normalizeTarget(rest, norm);
  return typeof path === 'string' ? { path, authority: a } : path;
}
