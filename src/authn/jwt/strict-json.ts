/** JSON objects parsed strictly: valid UTF-8, an object at the top, and no duplicate member names anywhere. */

import { isUtf8 } from 'node:buffer';

export type StrictJsonResult =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly reason: 'utf8' | 'syntax' | 'not-object' | 'duplicate-key' };

const BAD_UTF8 = Object.freeze({ ok: false as const, reason: 'utf8' as const });
const BAD_SYNTAX = Object.freeze({ ok: false as const, reason: 'syntax' as const });
const NOT_OBJECT = Object.freeze({ ok: false as const, reason: 'not-object' as const });
const DUPLICATE = Object.freeze({ ok: false as const, reason: 'duplicate-key' as const });

/**
 * JSON.parse keeps the last of duplicate names (RFC 8259 §4 leaves it open; RFC 7515 §5.2 step 4
 * and RFC 7519 §7.2 step 4 say to reject). Rather than a slower hand-written parser, parse natively
 * and compare two counts: member names written in the text, and own keys in the result. Every
 * written name creates or overwrites exactly one key, so the counts differ iff a name repeats.
 */
export function parseStrictJsonObject(bytes: Buffer): StrictJsonResult {
  const text = bytes.toString('utf8');
  // The decoder replaces invalid sequences with U+FFFD; only then is the (slower) exact check needed.
  if (text.includes('\uFFFD') && !isUtf8(bytes)) return BAD_UTF8;
  return parseStrictJsonObjectText(text);
}

export function parseStrictJsonObjectText(text: string): StrictJsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return BAD_SYNTAX;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return NOT_OBJECT;
  const keys = countKeys(value);
  if (namesUpperBound(text) !== keys && countNamesInText(text) !== keys) return DUPLICATE;
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * An upper bound on the member names in JSON text, cheap to compute; -1 when the text is not in the
 * simple form it needs. Without a backslash every '"' delimits a string, so a '"' right before ':'
 * closes a member name or opens a string value that starts with ':'; a name written with whitespace
 * before its ':' sends the text to the exact count. The bound therefore equals the number of parsed
 * keys only when no name repeats, and any other result goes to the exact count.
 */
function namesUpperBound(text: string): number {
  if (text.indexOf('\\') !== -1) return -1;
  let names = 0;
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) {
    const before = text.charCodeAt(i - 1);
    if (before === 34 /* " */) names++;
    else if (before === 32 || before === 9 || before === 10 || before === 13) return -1;
  }
  return names;
}

/** Member names in JSON text that JSON.parse accepted: strings followed (after whitespace) by ':'. */
function countNamesInText(text: string): number {
  let names = 0;
  // Outside strings a '"' always opens one, so jump from string to string with native indexOf.
  let open = text.indexOf('"');
  while (open !== -1) {
    let close = text.indexOf('"', open + 1);
    // A quote preceded by an odd run of backslashes is escaped; keep looking.
    while (text.charCodeAt(close - 1) === 92 /* \ */ && isEscaped(text, close)) close = text.indexOf('"', close + 1);
    let j = close + 1;
    let c = text.charCodeAt(j);
    while (c === 32 || c === 9 || c === 10 || c === 13) c = text.charCodeAt(++j);
    if (c === 58 /* : */) names++;
    open = text.indexOf('"', j);
  }
  return names;
}

function isEscaped(text: string, quote: number): boolean {
  let run = 0;
  for (let i = quote - 1; text.charCodeAt(i) === 92; i--) run++;
  return (run & 1) === 1;
}

/** Own keys of every object in a parsed JSON value, recursively. */
function countKeys(value: object): number {
  let keys = 0;
  if (Array.isArray(value)) {
    for (const v of value) if (typeof v === 'object' && v !== null) keys += countKeys(v as object);
    return keys;
  }
  const o = value as Record<string, unknown>;
  for (const k in o) {
    keys++;
    const v = o[k];
    if (typeof v === 'object' && v !== null) keys += countKeys(v);
  }
  return keys;
}
