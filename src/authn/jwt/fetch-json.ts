/** GET a JSON object over HTTP(S) with a timeout, a size cap, no redirects and strict parsing. */

import { JwksError } from './errors.js';
import { parseStrictJsonObject } from './strict-json.js';

export interface FetchJsonOptions {
  timeoutMs: number;
  /** bytes; larger bodies are refused without being buffered */
  maxBytes: number;
  /** for tests or a custom agent; defaults to the global fetch (undici) */
  fetch?: typeof fetch;
}

/** `what` names the document in errors ("JWKS", "OpenID configuration"); the URL is configuration, safe to show. */
export async function fetchJsonObject(url: string, what: string, options: FetchJsonOptions): Promise<Record<string, unknown>> {
  const doFetch = options.fetch ?? fetch;
  const signal = AbortSignal.timeout(options.timeoutMs);
  let res: Response;
  try {
    // No redirects: a key source must answer at the configured address.
    res = await doFetch(url, { signal, redirect: 'error', headers: { accept: 'application/json' } });
  } catch (e) {
    throw fetchError(e, what, url);
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    throw new JwksError('JWKS_FETCH_FAILED', `${what} fetch from ${url} answered HTTP ${res.status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > options.maxBytes) throw new JwksError('JWKS_FETCH_FAILED', `${what} from ${url} exceeds ${options.maxBytes} bytes`);
        chunks.push(chunk);
      }
    }
  } catch (e) {
    if (e instanceof JwksError) {
      await res.body?.cancel().catch(() => undefined);
      throw e;
    }
    throw fetchError(e, what, url);
  }
  const parsed = parseStrictJsonObject(Buffer.concat(chunks));
  if (!parsed.ok) throw new JwksError('JWKS_INVALID', `${what} from ${url} is not a strict JSON object (${parsed.reason})`);
  return parsed.value;
}

function fetchError(e: unknown, what: string, url: string): JwksError {
  const name = (e as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new JwksError('JWKS_TIMEOUT', `${what} fetch from ${url} timed out`, { cause: e });
  }
  return new JwksError('JWKS_FETCH_FAILED', `${what} fetch from ${url} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}
