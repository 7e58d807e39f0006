/** PluginConfig `spec.config` schemas of the built-in token plugins, checked when a snapshot is applied. */
import { z } from 'zod';
import type { BuiltinPluginName } from '../../plugins/builtin.js';

/** RFC 9110 token: what an HTTP header name may be. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'is not a valid header name')
  .transform((v) => v.toLowerCase());
const nonEmpty = z.string().min(1, 'must not be empty');
const httpUrl = z.string().refine((v) => /^https?:\/\/[^\s]+$/.test(v), 'must be an http(s) URL');

/** The incoming token: Istio JWTRule's key and claim fields, plus where the token is read from. */
const verify = z
  .object({
    issuer: nonEmpty,
    audiences: z.array(nonEmpty).optional(),
    /** inline JWKS as a JSON string (wins over jwksUri, as in Istio) */
    jwks: z.string().optional(),
    jwksUri: httpUrl.optional(),
    fromHeader: z.object({ name: headerName, prefix: z.string().default('Bearer ') }).strict().optional(),
    /** a request without a token passes untouched; default false: 401 */
    allowMissing: z.boolean().default(false),
  })
  .strict()
  .refine((v) => v.jwks !== undefined || v.jwksUri !== undefined || /^https?:\/\//.test(v.issuer), {
    message: 'needs jwks, jwksUri, or an http(s) issuer for OpenID discovery',
  });

/** A Secret in the PluginConfig's namespace; its data keys are key ids. */
const secretKey = z.object({ secretName: nonEmpty, kid: nonEmpty }).strict();

const HMAC = ['HS256', 'HS384', 'HS512'] as const;
const SIGNING_ALGORITHMS = [...HMAC, 'RS256', 'ES256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** Claims a re-issued token always sets itself; copying them would let the old token decide them. */
const OWN_CLAIMS = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti']);

const reissue = z
  .object({
    verify,
    issuer: nonEmpty,
    audience: z.union([nonEmpty, z.array(nonEmpty).min(1)]),
    algorithm: z.enum(SIGNING_ALGORITHMS).default('HS256'),
    lifetimeSeconds: z.number().int().min(1).max(300).default(5),
    claims: z
      .array(nonEmpty)
      .default(['sub'])
      .refine((l) => l.every((c) => !OWN_CLAIMS.has(c)), 'must not list iss, aud, exp, iat, nbf or jti (the new token sets them)'),
    signingKey: secretKey,
  })
  .strict();

const claimsToHeaders = z
  .object({
    verify,
    claimHeaders: z.array(z.object({ claim: nonEmpty, header: headerName }).strict()).min(1),
    apiKey: z.object({ header: headerName.default('x-api-key'), secretName: nonEmpty, key: nonEmpty }).strict().optional(),
    /** keep the original token in the request (default false: the service gets only the headers) */
    forwardToken: z.boolean().default(false),
  })
  .strict();

const passThrough = z.object({ verify }).strict();

export type VerifyConfig = z.output<typeof verify>;
export type ReissueConfig = z.output<typeof reissue>;
export type ClaimsToHeadersConfig = z.output<typeof claimsToHeaders>;
export type PassThroughConfig = z.output<typeof passThrough>;

export type TokenPluginConfig =
  | { plugin: 'jwt-reissue'; config: ReissueConfig }
  | { plugin: 'claims-to-headers'; config: ClaimsToHeadersConfig }
  | { plugin: 'jwt-pass-through'; config: PassThroughConfig };

const SCHEMAS = { 'jwt-reissue': reissue, 'claims-to-headers': claimsToHeaders, 'jwt-pass-through': passThrough } as const;

/** Parses one config; the error names each bad field (never a value: configs may hold inline keys). */
export function parseTokenPluginConfig(plugin: BuiltinPluginName, raw: unknown): { ok: true; value: TokenPluginConfig } | { ok: false; error: string } {
  const r = SCHEMAS[plugin].safeParse(raw ?? {});
  if (!r.success) {
    const error = r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    return { ok: false, error };
  }
  return { ok: true, value: { plugin, config: r.data } as TokenPluginConfig };
}
