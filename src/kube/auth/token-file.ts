/**
 * A bearer token that lives in a file, as a pod's ServiceAccount token does
 * (`/var/run/secrets/kubernetes.io/serviceaccount/token`, rewritten before it expires): client-go
 * re-reads such a file, and so do the mesh's components. `TESSERA_API_TOKEN_FILE` names the file
 * (the local runtime sets it to the pod's projected token); without it the token is the value of
 * the component's token variable, as before.
 */
import { readFileSync, statSync } from 'node:fs';

/** The environment variable naming the file the API token is read from. */
export const API_TOKEN_FILE_ENV = 'TESSERA_API_TOKEN_FILE';

/** How often a token file is looked at for `onChange`; `current()` looks at every call. */
const WATCH_MS = 5_000;

export interface TokenSource {
  /** where the token comes from, for logs */
  readonly origin: string;
  /** the token now (re-read when the file changed) */
  current(): string;
  /** calls `fn` with the new token whenever the file's token changes; returns the unsubscribe */
  onChange(fn: (token: string) => void): () => void;
}

/**
 * The token of `TESSERA_API_TOKEN_FILE` when set, else of `tokenEnv`; throws when neither gives
 * one. A file that cannot be read later keeps the last token (the writer replaces it atomically).
 */
export function tokenSource(tokenEnv: string, env: Record<string, string | undefined> = process.env): TokenSource {
  const file = env[API_TOKEN_FILE_ENV];
  if (!file) {
    const token = env[tokenEnv];
    if (!token) throw new Error(`environment variable ${API_TOKEN_FILE_ENV} or ${tokenEnv} is required`);
    return { origin: tokenEnv, current: () => token, onChange: () => () => undefined };
  }
  let stamp = '';
  let token = '';
  const read = (): string => {
    try {
      const st = statSync(file);
      const next = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (next !== stamp) {
        const text = readFileSync(file, 'utf8').trim();
        if (text) {
          token = text;
          stamp = next;
        }
      }
    } catch (e) {
      if (!token) throw new Error(`cannot read the API token from ${file}: ${(e as Error).message}`);
    }
    return token;
  };
  read();
  const listeners = new Set<(token: string) => void>();
  let timer: NodeJS.Timeout | undefined;
  return {
    origin: file,
    current: read,
    onChange(fn) {
      listeners.add(fn);
      if (!timer) {
        let last = token;
        timer = setInterval(() => {
          const now = read();
          if (now === last) return;
          last = now;
          for (const l of [...listeners]) l(now);
        }, WATCH_MS);
        timer.unref();
      }
      return () => {
        listeners.delete(fn);
        if (listeners.size === 0 && timer) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
  };
}
