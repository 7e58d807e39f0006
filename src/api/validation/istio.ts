/** Istio security kinds: RequestAuthentication and AuthorizationPolicy (security.istio.io/v1 and v1beta1, one schema; security-rules.md §1, §2). */
import { z } from 'zod';
import { AUTHZ_ACTIONS } from '../istio-types.js';
import { ipBlockProblem, isIpKey, matchValueProblem, parseConditionKey, portStringProblem } from '../istio-keys.js';
import { parseGoDuration } from './duration.js';
import { goDuration, labelsMap, objectOf, optional, requiredString } from './fields.js';
import { resourceSchema } from './metadata.js';
import { registerKind } from './registry.js';

/** RFC 9110 token: what an HTTP header name may be. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function checked(check: (v: string) => string | undefined) {
  return z.string().superRefine((v, ctx) => {
    const problem = check(v);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });
}

const headerName = checked((v) => (v === '' ? 'required field is missing' : HEADER_NAME.test(v) ? undefined : `${JSON.stringify(v)} is not a valid header name`));
const matchValue = checked(matchValueProblem);
const ipBlock = checked(ipBlockProblem);
const portString = checked(portStringProblem);
const list = <T extends z.ZodTypeAny>(item: T) => optional(z.array(item));
const selector = objectOf({ matchLabels: optional(labelsMap) }, 'strict');

// --- RequestAuthentication -------------------------------------------------------------------------

const httpUrl = checked((v) => {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : `${JSON.stringify(v)} must be an http(s) URL`;
  } catch {
    return `${JSON.stringify(v)} is not a valid URL`;
  }
});

const inlineJwks = checked((v) => {
  try {
    const doc = JSON.parse(v) as unknown;
    const keys = (doc as { keys?: unknown } | null)?.keys;
    return Array.isArray(keys) && keys.length > 0 ? undefined : 'must be a JSON object with a non-empty "keys" array';
  } catch {
    return 'is not valid JSON';
  }
});

const jwtRule = objectOf(
  {
    issuer: requiredString,
    audiences: list(requiredString),
    jwks: optional(inlineJwks),
    jwksUri: optional(httpUrl),
    fromHeaders: list(objectOf({ name: headerName, prefix: optional(z.string()) }, 'strict')),
    fromParams: list(requiredString),
    fromCookies: optional(z.unknown()),
    outputPayloadToHeader: optional(headerName),
    forwardOriginalToken: optional(z.boolean()),
    outputClaimToHeaders: list(objectOf({ header: headerName, claim: requiredString }, 'strict')),
    timeout: optional(goDuration({ positive: true })),
    clockSkew: optional(
      goDuration().superRefine((v, ctx) => {
        const ms = parseGoDuration(v);
        if (ms !== undefined && (ms < 0 || ms > 600_000 || ms % 1000 !== 0)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be whole seconds between 0s and 10m' });
      }),
    ),
    // Istio's CRD allows at most 64 names
    spaceDelimitedClaims: optional(z.array(requiredString).max(64)),
    requiredClaims: optional(z.array(requiredString).max(64)),
    // the sidecar reads at most 64 KiB of request head; 1 KiB is smaller than any signed token worth checking
    maxTokenBytes: optional(z.number().int().min(1024).max(65536)),
  },
  'strict',
).superRefine((r, ctx) => {
  // Listed only to refuse it by name: a silently ignored token location would let tokens through unverified.
  if (r.fromCookies !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['fromCookies'], message: 'is not supported; use fromHeaders or fromParams' });
  // Without jwks or jwksUri Istio discovers keys from the issuer, which needs an http(s) issuer.
  if (r.jwks === undefined && r.jwksUri === undefined && !/^https?:\/\//.test(r.issuer)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['jwksUri'], message: 'required when jwks is not set and the issuer is not an http(s) URL for OpenID discovery' });
  }
});

const requestAuthenticationSpec = objectOf({ selector: optional(selector), jwtRules: list(jwtRule) }, 'strict').superRefine((spec, ctx) => {
  // Two rules for one issuer would make the verifying rule ambiguous (Istio refuses it as well).
  const seen = new Set<string>();
  spec.jwtRules?.forEach((r, i) => {
    if (seen.has(r.issuer)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['jwtRules', i, 'issuer'], message: `duplicate issuer ${JSON.stringify(r.issuer)}` });
    seen.add(r.issuer);
  });
});

registerKind('RequestAuthentication', resourceSchema({ spec: optional(requestAuthenticationSpec) }));

// --- AuthorizationPolicy ---------------------------------------------------------------------------

/** Every field at least one value: an empty list would be a rule that silently means something else. */
const values = <T extends z.ZodTypeAny>(item: T) => optional(z.array(item).min(1));

const source = objectOf(
  {
    principals: values(matchValue), notPrincipals: values(matchValue),
    requestPrincipals: values(matchValue), notRequestPrincipals: values(matchValue),
    namespaces: values(matchValue), notNamespaces: values(matchValue),
    ipBlocks: values(ipBlock), notIpBlocks: values(ipBlock),
    remoteIpBlocks: values(ipBlock), notRemoteIpBlocks: values(ipBlock),
  },
  'strict',
);

const operation = objectOf(
  {
    hosts: values(matchValue), notHosts: values(matchValue),
    ports: values(portString), notPorts: values(portString),
    methods: values(matchValue), notMethods: values(matchValue),
    paths: values(matchValue), notPaths: values(matchValue),
  },
  'strict',
);

const nonEmpty = (what: string) => (o: Record<string, unknown>, ctx: z.RefinementCtx) => {
  if (Object.values(o).every((v) => v === undefined)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${what} must set at least one field` });
};

const condition = objectOf({ key: requiredString, values: values(z.string()), notValues: values(z.string()) }, 'strict').superRefine((c, ctx) => {
  const key = parseConditionKey(c.key);
  if (typeof key === 'string') {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['key'], message: key });
    return;
  }
  if (c.values === undefined && c.notValues === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'needs values or notValues' });
  const check = isIpKey(key) ? ipBlockProblem : key.kind === 'destination.port' ? portStringProblem : matchValueProblem;
  for (const field of ['values', 'notValues'] as const) {
    c[field]?.forEach((v, i) => {
      const problem = check(v);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field, i], message: problem });
    });
  }
});

const rule = objectOf(
  {
    from: list(objectOf({ source: source.superRefine(nonEmpty('source')) }, 'strict')),
    to: list(objectOf({ operation: operation.superRefine(nonEmpty('operation')) }, 'strict')),
    when: list(condition),
  },
  'strict',
);

const authorizationPolicySpec = objectOf(
  {
    selector: optional(selector),
    action: optional(z.enum(AUTHZ_ACTIONS)),
    provider: optional(objectOf({ name: requiredString }, 'strict')),
    rules: list(rule),
  },
  'strict',
).superRefine((spec, ctx) => {
  // Istio: a provider goes with CUSTOM and only with it.
  if (spec.action === 'CUSTOM' && spec.provider === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['provider'], message: 'required when action is CUSTOM' });
  if (spec.action !== 'CUSTOM' && spec.provider !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['provider'], message: 'must not be set unless action is CUSTOM' });
});

registerKind('AuthorizationPolicy', resourceSchema({ spec: optional(authorizationPolicySpec) }));
