/**
 * The one request-target normalizer (security-rules.md §4, §11 rule 1): its output is what every
 * policy, route and plugin matches and what is sent upstream. Pure; never uses `new URL()` (§4).
 */
import type { PathNormalizationMode } from '../../api/types.js';

/** Why a target was refused; `status` is the HTTP answer (the connection then closes). */
export interface TargetError {
  readonly status: 400 | 414;
  readonly reason: string;
}

/** RFC 9112 §3: recipients should support request-lines of at least 8000 octets; longer gets 414. */
export const MAX_TARGET_LENGTH = 8192;

/**
 * Istio's MeshConfig `pathNormalization.normalization` modes (docs/request-identity.md "Path
 * normalization"): NONE keeps the path as received; BASE is RFC 3986 normalization (unreserved escapes
 * decoded, hex upper-cased, `\\` → `/`, dot segments removed) with `%2F`/`%5C` kept encoded;
 * MERGE_SLASHES adds merging of repeated slashes; DECODE_AND_MERGE_SLASHES (Tessera's default)
 * first decodes `%2F`/`%5C` to `/`.
 */
export type NormalizationMode = PathNormalizationMode;

export interface PathNormalization {
  readonly mode: NormalizationMode;
  /** Tessera option: lower-case the path (not the query), for backends that ignore case */
  readonly lowerCase: boolean;
  /** Tessera option: drop `;parameters` from every segment, for backends that ignore them (servlet containers) */
  readonly stripParameters: boolean;
  /** Tessera option: drop a trailing slash (never the root's), for backends that route `/a/` as `/a` */
  readonly stripTrailingSlash?: boolean;
  /** refuse `%2F`/`%5C` with 400 instead of decoding or keeping them (§11 rule 1) */
  readonly rejectEscapedSlashes?: boolean;
}

export const DEFAULT_PATH_NORMALIZATION: PathNormalization = Object.freeze({ mode: 'DECODE_AND_MERGE_SLASHES', lowerCase: false, stripParameters: false });

const err = (status: 400 | 414, reason: string): TargetError => Object.freeze({ status, reason });
const TOO_LONG = err(414, 'request-target too long');
const BAD_CHAR = err(400, 'invalid character in request-target');
const BAD_ESCAPE = err(400, 'invalid percent-encoding in request-target');
const NUL = err(400, 'percent-encoded NUL in request-target');
const ESCAPED_SLASH = err(400, 'percent-encoded slash or backslash in request-target');
const NOT_ORIGIN = err(400, 'request-target is not origin-form');

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const BACKSLASH = 0x5c;
const QUERY = 0x3f;
const HASH = 0x23;
const SEMI = 0x3b;
const UPPER_A = 0x41;
const UPPER_Z = 0x5a;

/**
 * Normalizes an origin-form target `path[?query][#fragment]`; with the default options (§4, Istio
 * DECODE_AND_MERGE_SLASHES):
 * - the fragment is dropped (CVE-2021-39156); the query is kept byte for byte
 * - in the path: `%00` → 400 (Istio), an invalid `%` escape → 400, unreserved escapes
 *   (`%2D %2E %30-39 %41-5A %5F %61-7A %7E`) decoded once (RFC 3986 §6.2.2.2), other escapes kept
 *   with upper-case hex (§6.2.2.1), so `%252F` stays `%252F`
 * - `%2F`/`%5C` decoded (or refused, per `escapedSlashes`), `\` → `/`
 * - dot segments removed per RFC 3986 §5.2.4, never above the root; `..;x` and `.;x` count as dot
 *   segments, the servlet traversal of istio/istio#27409
 * - then slashes merged (CVE-2021-31920); case, `;` parameters and a trailing slash are kept (§4)
 * Other modes do less (see PathNormalization); whatever the mode, control characters, space, DEL and
 * non-ASCII are refused anywhere in the target, `%00` and invalid escapes in the path, and the
 * fragment is dropped.
 * Returns the input string itself when it is already normal (no allocation).
 */
export function normalizeTarget(target: string, norm: PathNormalization = DEFAULT_PATH_NORMALIZATION): string | TargetError {
  const n = target.length;
  if (n > MAX_TARGET_LENGTH) return TOO_LONG;
  if (n === 0 || target.charCodeAt(0) !== SLASH) return NOT_ORIGIN;
  const lower = norm.lowerCase;
  const strip = norm.stripParameters;
  let slow = false;
  let prev = SLASH;
  let i = 1;
  // fast scan of the path: anything that might change sends it to the slow path
  for (; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c === QUERY || c === HASH) break;
    if (c <= 0x20 || c >= 0x7f) return BAD_CHAR;
    if (c === PERCENT || c === BACKSLASH) slow = true;
    else if (prev === SLASH && (c === SLASH || (c === DOT && isDotSegmentAt(target, i)))) slow = true;
    else if ((lower && c >= UPPER_A && c <= UPPER_Z) || (strip && c === SEMI)) slow = true;
    prev = c;
  }
  const pathEnd = i;
  if (norm.stripTrailingSlash && pathEnd > 1 && target.charCodeAt(pathEnd - 1) === SLASH) slow = true;
  // the query: only checked, and cut at a fragment
  let end = n;
  for (; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return BAD_CHAR;
    if (c === HASH) {
      end = i;
      break;
    }
  }
  for (; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return BAD_CHAR;
  }
  if (!slow) return end === n ? target : target.slice(0, end);
  const path = normalizePath(target.slice(0, pathEnd), norm);
  if (typeof path !== 'string') return path;
  return pathEnd === end ? path : path + target.slice(pathEnd, end);
}

/** A segment starting at `i` that is `.`, `..`, `.;…` or `..;…` (ends at `/`, `?`, `#` or the end). */
function isDotSegmentAt(s: string, i: number): boolean {
  let j = i + 1;
  if (j < s.length && s.charCodeAt(j) === DOT) j++;
  if (j >= s.length) return true;
  const c = s.charCodeAt(j);
  return c === SLASH || c === QUERY || c === HASH || c === SEMI || c === BACKSLASH;
}

const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** RFC 3986 §2.3 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
}

/** The slow path: decode once, split, drop `;` parameters, remove dot segments (RFC 3986 §5.2.4), merge slashes, lower-case. */
function normalizePath(path: string, norm: PathNormalization): string | TargetError {
  const decoded = decodePath(path, norm);
  if (typeof decoded !== 'string') return decoded;
  let segs = decoded.split('/');
  if (norm.stripParameters) segs = segs.map(withoutParameters);
  let result = norm.mode === 'NONE' ? segs.join('/') : removeDotSegments(segs, norm.mode !== 'BASE');
  if (norm.lowerCase) result = lowerOutsideEscapes(result);
  if (norm.stripTrailingSlash && result.length > 1 && result.endsWith('/')) result = result.replace(/\/+$/, '') || '/';
  return result;
}

/**
 * Istio: `%2F`/`%5C` first (DECODE_AND_MERGE_SLASHES), then normalize_path's unreserved decoding; one
 * pass, once. NONE only checks the escapes; BASE and MERGE_SLASHES keep `%2F`/`%5C` (upper-cased).
 */
function decodePath(path: string, norm: PathNormalization): string | TargetError {
  const rewrite = norm.mode !== 'NONE';
  let decoded = '';
  let from = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === BACKSLASH && rewrite) {
      decoded += path.slice(from, i) + '/';
      from = i + 1;
    } else if (c === PERCENT) {
      if (i + 2 >= path.length) return BAD_ESCAPE;
      const hi = hexValue(path.charCodeAt(i + 1));
      const lo = hexValue(path.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return BAD_ESCAPE;
      const b = hi * 16 + lo;
      if (b === 0) return NUL;
      if ((b === SLASH || b === BACKSLASH) && norm.rejectEscapedSlashes) return ESCAPED_SLASH;
      if (!rewrite) {
        i += 2;
        continue;
      }
      let out: string;
      if ((b === SLASH || b === BACKSLASH) && norm.mode === 'DECODE_AND_MERGE_SLASHES') out = '/';
      else if (isUnreserved(b)) out = String.fromCharCode(b);
      else out = '%' + HEX[hi]! + HEX[lo]!;
      decoded += path.slice(from, i) + out;
      from = i + 3;
      i += 2;
    }
  }
  return from === 0 ? path : decoded + path.slice(from);
}

/** `a;b=c` → `a`; `..;x` → `..`, so the servlet traversal is a dot segment either way. */
function withoutParameters(seg: string): string {
  const semi = seg.indexOf(';');
  return semi < 0 ? seg : seg.slice(0, semi);
}

/** RFC 3986 §5.2.4 over segments (`segs[0]` is the empty one before the leading `/`), then slashes merged when `merge`. */
function removeDotSegments(segs: readonly string[], merge: boolean): string {
  const out: string[] = [];
  let trailingSlash = false;
  for (let k = 1; k < segs.length; k++) {
    const s = segs[k]!;
    const dots = dotSegment(s);
    if (dots === 1) trailingSlash = true;
    else if (dots === 2) {
      out.pop();
      trailingSlash = true;
    } else {
      out.push(s);
      trailingSlash = s === '';
    }
  }
  let result = '';
  if (merge) {
    // drop empty segments, keep one trailing slash
    for (const s of out) if (s !== '') result += '/' + s;
  } else {
    for (const s of out) result += '/' + s;
    if (out.length > 0 && out[out.length - 1] === '') return result;
  }
  if (result === '') return '/';
  return trailingSlash ? result + '/' : result;
}

/** ASCII letters lower-cased, except the hex digits of an escape (kept upper-case, RFC 3986 §6.2.2.1). */
function lowerOutsideEscapes(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === PERCENT) {
      out += s.slice(i, i + 3);
      i += 2;
    } else out += c >= UPPER_A && c <= UPPER_Z ? String.fromCharCode(c + 0x20) : s[i];
  }
  return out;
}

/** 1 for `.` / `.;…`, 2 for `..` / `..;…`, else 0. */
function dotSegment(s: string): 0 | 1 | 2 {
  if (s.charCodeAt(0) !== DOT) return 0;
  if (s.length === 1 || s.charCodeAt(1) === SEMI) return 1;
  if (s.charCodeAt(1) === DOT && (s.length === 2 || s.charCodeAt(2) === SEMI)) return 2;
  return 0;
}
