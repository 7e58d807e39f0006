/** Turns a request body into httpbin's `data`, `form`, `files` and `json` fields. */

import { mediaType, parseHeaderParams, parseMultipart } from './multipart.js';
import { parsePythonJson, pyDict, type PyValue } from './python-json.js';
import { decodeUtf8Replacing, decodeUtf8Strict, parseUrlEncoded } from './werkzeug-url.js';

export interface BodyFields {
  data: string;
  form: { [key: string]: PyValue };
  files: { [key: string]: PyValue };
  json: PyValue;
}

const URLENCODED_TYPES = new Set(['application/x-www-form-urlencoded', 'application/x-url-encoded']);

/**
 * werkzeug parses form bodies into `form`/`files` and leaves `data` empty for them; any other
 * body is `data` verbatim, and `json` is whatever `json.loads(data)` makes of it, whatever the
 * Content-Type said.
 */
export function parseBody(body: Buffer, contentType: string | undefined): BodyFields {
  const type = mediaType(contentType);
  if (URLENCODED_TYPES.has(type)) {
    return { data: '', form: semiflatten(parseUrlEncoded(body)), files: pyDict(), json: null };
  }
  if (type === 'multipart/form-data') {
    return { data: '', ...parseMultipartFields(body, contentType ?? ''), json: null };
  }
  return { data: jsonSafe(body), form: pyDict(), files: pyDict(), json: parseJsonOrNull(body) };
}

function parseMultipartFields(body: Buffer, contentType: string): Pick<BodyFields, 'form' | 'files'> {
  const boundary = parseHeaderParams(contentType).get('boundary');
  const parts = boundary ? parseMultipart(body, boundary) : undefined;
  const fields: Array<[string, string]> = [];
  const files = pyDict();
  for (const part of parts ?? []) {
    if (part.filename === undefined) {
      const charset = parseHeaderParams(part.contentType ?? '').get('charset')?.toLowerCase();
      const latin1 = charset === 'latin-1' || charset === 'latin1' || charset === 'iso-8859-1';
      fields.push([part.name, latin1 ? part.content.toString('latin1') : decodeUtf8Replacing(part.content)]);
    } else if (!(part.name in files)) {
      // httpbin walks `request.files.items()`, which yields only the first upload per field name.
      files[part.name] = jsonSafe(part.content, part.contentType || 'application/octet-stream');
    }
  }
  return { form: semiflatten(fields), files };
}

/** httpbin's `json_safe`: UTF-8 text as is, anything else as a base64 `data:` URL. */
export function jsonSafe(bytes: Buffer, contentType = 'application/octet-stream'): string {
  return decodeUtf8Strict(bytes) ?? `data:${contentType};base64,${bytes.toString('base64')}`;
}

function parseJsonOrNull(body: Buffer): PyValue {
  const text = decodeUtf8Strict(body);
  if (text === undefined) return null;
  try {
    return parsePythonJson(text);
  } catch {
    return null;
  }
}

/** httpbin's `semiflatten`: a key seen once maps to its value, a repeated key to the list of values. */
export function semiflatten(pairs: ReadonlyArray<readonly [string, string]>): { [key: string]: PyValue } {
  const grouped = new Map<string, string[]>();
  for (const [key, value] of pairs) {
    const values = grouped.get(key);
    if (values) values.push(value);
    else grouped.set(key, [value]);
  }
  const out = pyDict();
  for (const [key, values] of grouped) out[key] = values.length === 1 ? values[0]! : values;
  return out;
}
