/**
 * The three token patterns of the auth book (seed 004, "token handling at the context boundary") as
 * request handlers on the native plugin API: pass-through, re-issue and full extraction.
 */
import { claimAt } from '../../authz/index.js';
import type { PluginContext } from '../../plugins/api.js';
import { refuseRequest } from '../plugins/module.js';
import type { ClaimsToHeadersConfig, ReissueConfig } from './config.js';
import { secretValue, type SecretRef } from './secrets.js';
import { mintJwt, signingKey, type SigningKey } from './sign.js';
import { checkToken, type TokenVerifier } from './verify.js';

export interface Reporter {
  /** `reason` is fixed text (verifier codes, config names); callers never pass token or key bytes */
  warn(message: string, fields: Record<string, unknown>): void;
}

export type Handler = (ctx: PluginContext, report: Reporter) => Promise<void>;

function unauthorized(ctx: PluginContext, reason: string): void {
  refuseRequest(ctx, `${ctx.plugin}: ${reason}`, 401, 'Jwt verification fails', { 'www-authenticate': 'Bearer realm="tessera", error="invalid_token"', 'content-type': 'text/plain' });
}

function where(ctx: PluginContext): Record<string, unknown> {
  return { plugin: ctx.plugin, service: ctx.service ? `${ctx.service.namespace}/${ctx.service.name}` : undefined, source: ctx.source.address };
}

function secretRef(ctx: PluginContext, secretName: string): SecretRef {
  const s = ctx.service!;
  // The plugin API names services FSM's way, `svc.ns`; PluginConfigs and the control plane use `svc`.
  const suffix = `.${s.namespace}`;
  const name = s.name.endsWith(suffix) ? s.name.slice(0, -suffix.length) : s.name;
  return { plugin: ctx.plugin, service: { namespace: s.namespace, name }, secretName };
}

/** Verifies; answers 401 itself and returns undefined when the request must stop or pass untouched. */
async function verified(ctx: PluginContext, v: TokenVerifier, report: Reporter): Promise<{ token: string; claims: Record<string, unknown> } | 'pass' | undefined> {
  const c = await checkToken(v, ctx.request.headers, Date.now());
  if (c.kind === 'valid') return c;
  if (c.kind === 'missing') {
    if (v.allowMissing) return 'pass';
    report.warn('request without a token refused', where(ctx));
    unauthorized(ctx, 'no token');
  } else {
    report.warn('token rejected', { ...where(ctx), reason: c.reason });
    unauthorized(ctx, c.reason);
  }
  return undefined;
}

/** Pass-through: verify and forward the token unchanged. */
export function passThroughHandler(v: TokenVerifier): Handler {
  return async (ctx, report) => {
    await verified(ctx, v, report);
  };
}

const builtKeys = new WeakMap<Buffer, SigningKey>();

/**
 * Re-issue: verify, then replace the token with a short-lived one of our own: chosen claims only,
 * a narrowed `aud`, our `iss`, and a key from a Secret (its data key is the `kid`; rotation is a new
 * data key plus a new `signingKey.kid`).
 */
export function reissueHandler(cfg: ReissueConfig, v: TokenVerifier): Handler {
  return async (ctx, report) => {
    const r = await verified(ctx, v, report);
    if (r === undefined || r === 'pass') return;
    let key: SigningKey;
    try {
      const material = await secretValue(secretRef(ctx, cfg.signingKey.secretName), cfg.signingKey.kid);
      key = builtKeys.get(material) ?? signingKey(cfg.signingKey.kid, cfg.algorithm, material);
      builtKeys.set(material, key);
    } catch (err) {
      report.warn('no signing key: failing closed', { ...where(ctx), secret: cfg.signingKey.secretName, kid: cfg.signingKey.kid, reason: (err as Error).message });
      refuseRequest(ctx, `${ctx.plugin}: no signing key ${cfg.signingKey.secretName}/${cfg.signingKey.kid} (failing closed)`, 503, 'token re-issue unavailable\n', { 'content-type': 'text/plain' });
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {};
    for (const c of cfg.claims) if (Object.prototype.hasOwnProperty.call(r.claims, c)) claims[c] = r.claims[c];
    Object.assign(claims, { iss: cfg.issuer, aud: cfg.audience, iat: now, nbf: now, exp: now + cfg.lifetimeSeconds });
    if (v.header !== 'authorization') ctx.request.headers.delete(v.header);
    ctx.request.headers.set('authorization', `Bearer ${mintJwt(key, claims)}`);
  };
}

/** `a.b` reads nested claim b of a; scalars and lists of scalars become header text. */
function claimText(claims: Record<string, unknown>, path: string): string | undefined {
  const cur = claimAt(claims, path.split('.'));
  const scalar = (x: unknown): string | undefined => (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? String(x) : undefined);
  const text = Array.isArray(cur) ? (cur.every((x) => scalar(x) !== undefined) ? cur.map(scalar).join(',') : undefined) : scalar(cur);
  // Claims are issuer- (and so possibly attacker-) chosen text: control characters would split headers.
  return text === undefined || /[\u0000-\u001f\u007f]/.test(text) ? undefined : text;
}

/**
 * Full extraction: claims become headers, plus an API key header proving the request passed this
 * plugin. Client-supplied copies of every header it writes are removed first, token or not.
 */
export function claimsToHeadersHandler(cfg: ClaimsToHeadersConfig, v: TokenVerifier): Handler {
  return async (ctx, report) => {
    const headers = ctx.request.headers;
    for (const c of cfg.claimHeaders) headers.delete(c.header);
    if (cfg.apiKey) headers.delete(cfg.apiKey.header);
    const r = await verified(ctx, v, report);
    if (r === undefined || r === 'pass') return;
    let apiKey: string | undefined;
    if (cfg.apiKey) {
      try {
        apiKey = (await secretValue(secretRef(ctx, cfg.apiKey.secretName), cfg.apiKey.key)).toString('utf8');
        if (/[\u0000-\u001f\u007f]/.test(apiKey)) throw new Error('the API key holds control characters');
      } catch (err) {
        report.warn('no API key: failing closed', { ...where(ctx), secret: cfg.apiKey.secretName, reason: (err as Error).message });
        refuseRequest(ctx, `${ctx.plugin}: no API key ${cfg.apiKey.secretName}/${cfg.apiKey.key} (failing closed)`, 503, 'claims extraction unavailable\n', { 'content-type': 'text/plain' });
        return;
      }
    }
    for (const c of cfg.claimHeaders) {
      const text = claimText(r.claims, c.claim);
      if (text !== undefined) headers.set(c.header, text);
    }
    if (cfg.apiKey && apiKey !== undefined) headers.set(cfg.apiKey.header, apiKey);
    if (!cfg.forwardToken) headers.delete(v.header);
  };
}
