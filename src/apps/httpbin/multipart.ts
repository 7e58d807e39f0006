/** A small multipart/form-data parser: enough of werkzeug's to fill httpbin's `form` and `files`. */

export interface MultipartPart {
  name: string;
  /** Present (possibly empty) when the part is a file upload. */
  filename?: string;
  /** The part's own Content-Type header, verbatim. */
  contentType?: string;
  content: Buffer;
}

/** Parses `body`; returns undefined when it is malformed (werkzeug then silently yields an empty form). */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const first = body.indexOf(delimiter);
  if (first === -1) return undefined;

  const parts: MultipartPart[] = [];
  let pos = first + delimiter.length;
  for (;;) {
    if (body.toString('latin1', pos, pos + 2) === '--') return parts; // closing delimiter
    const lineEnd = body.indexOf('\n', pos);
    if (lineEnd === -1) return undefined;
    pos = lineEnd + 1;

    const headers = new Map<string, string>();
    for (;;) {
      const end = body.indexOf('\n', pos);
      if (end === -1) return undefined;
      const line = body.toString('latin1', pos, end).replace(/\r$/, '');
      pos = end + 1;
      if (line === '') break;
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }

    const contentEnd = body.indexOf(nextDelimiter, pos);
    if (contentEnd === -1) return undefined;
    const content = body.subarray(pos, contentEnd);
    pos = contentEnd + nextDelimiter.length;

    const disposition = parseHeaderParams(headers.get('content-disposition') ?? '');
    const name = disposition.get('name');
    if (name === undefined) continue; // werkzeug cannot key such a part either
    const part: MultipartPart = { name, content };
    const filename = disposition.get('filename');
    if (filename !== undefined) part.filename = filename;
    const contentType = headers.get('content-type');
    if (contentType !== undefined) part.contentType = contentType;
    parts.push(part);
  }
}

/** The `key=value` parameters after the first `;` of a header such as Content-Type or Content-Disposition. */
export function parseHeaderParams(header: string): Map<string, string> {
  const params = new Map<string, string>();
  const param = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (const match of header.matchAll(param)) {
    const key = match[1]!.toLowerCase();
    let value = match[2]!.trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    if (!params.has(key)) params.set(key, value);
  }
  return params;
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';', 1)[0]!.trim().toLowerCase();
}
