/**
 * What the sidecar takes from its environment once, at start, and then removes from it: the proxy
 * token and the admin token (credentials: nothing loaded later, PipyJS scripts least of all, may
 * find them in process.env), and the env the pod spec declares for the sidecar container, which is
 * all PipyJS scripts see as `os.env`.
 */
import { SIDECAR_CREDENTIAL_ENV, SIDECAR_ENV } from '../local/layout.js';

export interface StartEnv {
  proxyToken: string;
  adminToken: string | undefined;
  /** `os.env` of PipyJS scripts: never a credential */
  scriptEnv: Readonly<Record<string, string>>;
}

export function takeStartEnv(env: NodeJS.ProcessEnv): StartEnv {
  const proxyToken = env[SIDECAR_ENV.proxyToken] || '';
  const adminToken = env[SIDECAR_ENV.adminToken] || undefined;
  const scriptEnv = parseScriptEnv(env[SIDECAR_ENV.scriptEnv]);
  for (const name of [...SIDECAR_CREDENTIAL_ENV, SIDECAR_ENV.scriptEnv]) delete env[name];
  return { proxyToken, adminToken, scriptEnv };
}

/** A JSON object of strings; anything else (absent, malformed) is an empty env: scripts get less, never more. */
function parseScriptEnv(raw: string | undefined): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  if (!raw) return Object.freeze(out);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return Object.freeze(out);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return Object.freeze(out);
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v === 'string' && !SIDECAR_CREDENTIAL_ENV.includes(k)) out[k] = v;
  }
  return Object.freeze(out);
}
