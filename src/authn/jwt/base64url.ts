/** Strict base64url (RFC 7515 §2, RFC 4648 §5): no padding, no `+`/`/`, no whitespace, canonical last char. */

import { isUtf8 } from 'node:buffer';

const ALPHABET = /^[A-Za-z0-9_-]+$/;

/** 6-bit value of a base64url character code (caller has checked the alphabet). */
function sextet(c: number): number {
  if (c >= 65 && c <= 90) return c - 65; // A-Z
  if (c >= 97 && c <= 122) return c - 71; // a-z
  if (c >= 48 && c <= 57) return c + 4; // 0-9
  return c === 45 ? 62 : 63; // '-' or '_'
}

/**
 * True when `s` is the one canonical unpadded base64url spelling of some bytes. Node's decoder
 * accepts padding, the standard alphabet, whitespace and non-zero trailing bits; each of those
 * would give one token several spellings and alias verified-token cache keys (reference §6).
 */
export function isStrictBase64url(s: string): boolean {
  const n = s.length;
  const rem = n & 3;
  if (n === 0 || rem === 1 || !ALPHABET.test(s)) return false;
  if (rem === 0) return true;
  // RFC 4648 §3.5: the unused low bits of the last character must be zero.
  const v = sextet(s.charCodeAt(n - 1));
  return rem === 2 ? (v & 0x0f) === 0 : (v & 0x03) === 0;
}

/** Decode a segment already checked with isStrictBase64url. */
export function decodeBase64url(s: string): Buffer {
  return Buffer.from(s, 'base64url');
}

/** Decode target reused by decodeBase64urlText; grows to the largest segment seen. */
let view = Buffer.allocUnsafe(8 * 1024);

/**
 * The UTF-8 text of a segment already checked with isStrictBase64url, or undefined when its bytes
 * are not valid UTF-8. Decodes into one shared buffer (read at once, never kept), which saves two
 * allocations per token on the verification path.
 */
export function decodeBase64urlText(s: string): string | undefined {
  const bytes = Math.floor((s.length * 3) / 4);
  if (view.length < bytes) view = Buffer.allocUnsafe(Math.max(bytes, view.length * 2));
  const n = view.write(s, 0, bytes, 'base64url');
  const text = view.toString('utf8', 0, n);
  // The decoder replaces invalid sequences with U+FFFD; only then is the exact (slower) check needed.
  if (text.includes('\uFFFD') && !isUtf8(view.subarray(0, n))) return undefined;
  return text;
}
