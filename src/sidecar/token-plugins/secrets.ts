/**
 * Secret material for the token plugins (signing keys, API keys). It never travels in the snapshot:
 * the sidecar asks the control plane for one Secret at a time with its proxy token, and the
 * control plane answers only for Secrets the PluginConfig applied to this proxy names
 * (src/control-plane/plugin-secrets.ts). Values are cached briefly so a rotated Secret is picked
 * up within REFRESH_MS, and the last good copy survives a control-plane outage.
 */
import { controlPlaneChannel } from '../config/control-plane-fetch.js';

export interface SecretRef {
  plugin: string;
  /** the destination service whose PluginConfig names the Secret */
  service: { namespace: string; name: string };
  secretName: string;
}

/** Resolves to the Secret's data (key → bytes); rejects with a message fit for a log line. */
export type SecretSource = (ref: SecretRef) => Promise<Map<string, Buffer>>;

let source: SecretSource | undefined;

/** The sidecar process wires the control-plane source at start; tests inject their own. */
export function setSecretSource(s: SecretSource | undefined): void {
  source = s;
  cache.clear();
}

/** The control plane's delivery endpoint, authenticated like the snapshot stream and the CSR. */
export function controlPlaneSecretSource(opts: { controllerUrl: string; uuid: string; token: string }): SecretSource {
  return async (ref) => {
    const parts = [ref.plugin, ref.service.namespace, ref.service.name, ref.secretName].map(encodeURIComponent).join('/');
    // TLS to the cluster CA's controller only, with the newest proxy token (control-plane-fetch.ts).
    const channel = controlPlaneChannel({ controllerUrl: opts.controllerUrl, uuid: opts.uuid, token: opts.token });
    const res = await channel.fetch(`/v1/proxies/${opts.uuid}/secrets/${parts}`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json().catch(() => ({}))) as { data?: Record<string, unknown>; error?: unknown };
    if (res.status !== 200 || typeof body.data !== 'object' || body.data === null) {
      throw new Error(`control plane refused Secret ${ref.secretName}: HTTP ${res.status}${typeof body.error === 'string' ? ` (${body.error})` : ''}`);
    }
    const out = new Map<string, Buffer>();
    for (const [k, v] of Object.entries(body.data)) if (typeof v === 'string') out.set(k, Buffer.from(v, 'base64'));
    return out;
  };
}

const REFRESH_MS = 30_000;
/** after a failure or a missing key, at most one new fetch per this interval */
const RETRY_MS = 2_000;

interface Entry {
  data: Map<string, Buffer> | undefined;
  fetchedAt: number;
  attemptAt: number;
  error: string | undefined;
  inFlight: Promise<void> | undefined;
}

const cache = new Map<string, Entry>();

function refresh(key: string, e: Entry, ref: SecretRef): Promise<void> {
  if (!source) {
    e.error = 'no control-plane secret source in this sidecar';
    return Promise.resolve();
  }
  e.attemptAt = Date.now();
  return (e.inFlight ??= source(ref)
    .then(
      (data) => {
        e.data = data;
        e.fetchedAt = Date.now();
        e.error = undefined;
      },
      (err: unknown) => {
        e.error = err instanceof Error ? err.message : String(err);
      },
    )
    .finally(() => {
      e.inFlight = undefined;
      cache.set(key, e);
    }));
}

/**
 * The Secret's value under `dataKey`. A missing key (a kid added by rotation) triggers a refetch,
 * rate-limited; throws with a loggable reason when there is no value.
 */
export async function secretValue(ref: SecretRef, dataKey: string): Promise<Buffer> {
  const key = `${ref.plugin}|${ref.service.namespace}/${ref.service.name}|${ref.secretName}`;
  let e = cache.get(key);
  if (!e) cache.set(key, (e = { data: undefined, fetchedAt: 0, attemptAt: 0, error: undefined, inFlight: undefined }));
  const now = Date.now();
  const stale = now - e.fetchedAt >= REFRESH_MS;
  const missing = e.data?.get(dataKey) === undefined;
  if ((missing || stale) && (e.inFlight !== undefined || now - e.attemptAt >= RETRY_MS)) {
    const p = refresh(key, e, ref);
    // A stale but present value is served while the refresh runs; a missing one waits for it.
    if (missing) await p;
  }
  const v = e.data?.get(dataKey);
  if (v === undefined) throw new Error(e.error ?? `Secret ${ref.secretName} has no key ${JSON.stringify(dataKey)}`);
  return v;
}
