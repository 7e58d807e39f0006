/** Percent-coding, query parsing and URL rebuilding with the exact rules of gunicorn 19.9 + werkzeug 0.14. */

const HEX = /^[0-9a-fA-F]{2}$/;
// werkzeug's `_always_safe`: note `+` is in it and `~` is not.
const ALWAYS_SAFE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+';
const PATH_QUOTE_SAFE = byteSet(`${ALWAYS_SAFE}/:`);
const QUERY_QUOTE_SAFE = byteSet(`${ALWAYS_SAFE}:&%=+$!*'(),`);
// What `uri_to_iri` leaves percent-encoded when it turns the quoted URL back into text.
const PATH_KEEP_ENCODED = byteSet('%/;?');
const QUERY_KEEP_ENCODED = byteSet('%;/?:@&=+,$#');
const NOTHING = new Set<number>();

function byteSet(chars: string): Set<number> {
  return new Set(Array.from(chars, (c) => c.charCodeAt(0)));
}

/** The bytes of a string that Node decoded as latin1 (request lines and header values are). */
export function latin1Bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** Decodes %XX escapes into bytes, leaving malformed escapes and bytes in `keepEncoded` as they were. */
export function unquoteToBytes(input: Buffer, keepEncoded: Set<number> = NOTHING): Buffer {
  const out: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    if (byte === 0x25 && i + 2 < input.length && HEX.test(input.toString('latin1', i + 1, i + 3))) {
      const decoded = parseInt(input.toString('latin1', i + 1, i + 3), 16);
      if (!keepEncoded.has(decoded)) {
        out.push(decoded);
        i += 2;
        continue;
      }
    }
    out.push(byte);
  }
  return Buffer.from(out);
}

/** Percent-encodes (uppercase hex) every byte not in `safe`, like werkzeug's `url_quote`. */
function quote(input: Buffer, safe: Set<number>): Buffer {
  let out = '';
  for (const byte of input) {
    out += safe.has(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return Buffer.from(out, 'latin1');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** UTF-8 text, with U+FFFD for undecodable bytes (Python's errors='replace'). */
export function decodeUtf8Replacing(bytes: Uint8Array): string {
  return lenientUtf8.decode(bytes);
}

/** UTF-8 text, or undefined when the bytes are not valid UTF-8 (Python raises there). */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** UTF-8 text where each undecodable byte is written as %XX (werkzeug's 'werkzeug.url_quote' error handler). */
function decodeUtf8QuotingInvalid(bytes: Buffer): string {
  const whole = decodeUtf8Strict(bytes);
  if (whole !== undefined) return whole;
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const length = utf8SequenceLength(bytes, i);
    if (length > 0) {
      out += bytes.toString('utf8', i, i + length);
      i += length;
    } else {
      out += `%${bytes[i]!.toString(16).toUpperCase().padStart(2, '0')}`;
      i += 1;
    }
  }
  return out;
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 if the byte there starts none. */
function utf8SequenceLength(bytes: Buffer, i: number): number {
  for (const length of [1, 2, 3, 4]) {
    if (i + length > bytes.length) return 0;
    if (decodeUtf8Strict(bytes.subarray(i, i + length)) !== undefined) return length;
  }
  return 0;
}

/**
 * werkzeug's `url_decode` for query strings and urlencoded bodies: pairs split on `&`,
 * `+` means space, a key without `=` gets the empty string, text decoded as UTF-8 with replacement.
 */
export function parseUrlEncoded(input: Buffer): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const pair of input.toString('latin1').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    pairs.push([unquotePlus(key), unquotePlus(value)]);
  }
  return pairs;
}

function unquotePlus(text: string): string {
  return decodeUtf8Replacing(unquoteToBytes(latin1Bytes(text.replace(/\+/g, ' '))));
}

/** Splits a request target into its raw path and raw query (without the `?`). */
export function splitTarget(target: string): { rawPath: string; rawQuery: string } {
  const q = target.indexOf('?');
  return q === -1 ? { rawPath: target, rawQuery: '' } : { rawPath: target.slice(0, q), rawQuery: target.slice(q + 1) };
}

/** The decoded path gunicorn hands to the app as PATH_INFO, as text for route matching. */
export function pathInfo(rawPath: string): string {
  return decodeUtf8Replacing(unquoteToBytes(latin1Bytes(rawPath)));
}

/**
 * `request.url` as httpbin prints it: werkzeug quotes PATH_INFO and QUERY_STRING, then
 * `uri_to_iri` decodes most escapes again. The net effect is a mostly-decoded URL in which a
 * few reserved characters stay (or become) percent-encoded.
 */
export function werkzeugRequestUrl(scheme: string, host: string, rawPath: string, rawQuery: string): string {
  // gunicorn unquotes the path; werkzeug strips leading slashes before quoting and re-adds one.
  const pathBytes = unquoteToBytes(latin1Bytes(rawPath));
  let start = 0;
  while (start < pathBytes.length && pathBytes[start] === 0x2f) start++;
  const quotedPath = quote(pathBytes.subarray(start), PATH_QUOTE_SAFE);
  const path = `/${decodeUtf8QuotingInvalid(unquoteToBytes(quotedPath, PATH_KEEP_ENCODED))}`;
  if (rawQuery === '') return `${scheme}://${host}${path}`;
  const quotedQuery = quote(latin1Bytes(rawQuery), QUERY_QUOTE_SAFE);
  const query = decodeUtf8QuotingInvalid(unquoteToBytes(quotedQuery, QUERY_KEEP_ENCODED));
  return `${scheme}://${host}${path}?${query}`;
}
