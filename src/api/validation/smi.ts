/** SMI kinds: access TrafficTarget, specs HTTPRouteGroup / TCPRoute / UDPRoute, with FSM's webhook rules (fsm-design.md §1.5). */
import { z } from 'zod';
import { HTTP_ROUTE_METHODS, type TrafficTargetSpec } from '../smi-types.js';
import type { Resource } from '../types.js';
import { dnsName, objectOf, optional, port, requiredString } from './fields.js';
import { resourceSchema } from './metadata.js';
import { registerKind, type ProblemReporter } from './registry.js';

const ROUTE_KINDS = ['HTTPRouteGroup', 'TCPRoute', 'UDPRoute'] as const;

/** RFC 9110 token: what an HTTP header name may be. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A problem with a route regex, or undefined. The sidecar full-matches paths as `^(?:re)$` with
 * JavaScript RegExp (security-rules.md §7: OSM's Envoy `safe_regex` full match), so both the bare
 * pattern and the anchored form must compile; checking only the anchored form would let `a)(b` through.
 */
export function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    new RegExp(`^(?:${pattern})$`);
    return undefined;
  } catch (e) {
    const detail = (e as Error).message.split(': ').pop();
    return `${JSON.stringify(pattern)} is not a valid regular expression: ${detail}`;
  }
}

const regex = z.string().superRefine((v, ctx) => {
  const problem = regexProblem(v);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

const headers = z.record(z.string(), regex).superRefine((map, ctx) => {
  for (const key of Object.keys(map)) {
    if (!HEADER_NAME.test(key)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: `${JSON.stringify(key)} is not a valid header name` });
  }
});

// --- access.smi-spec.io TrafficTarget ------------------------------------------------------------

/** ServiceAccount names are DNS-1123 subdomains; v1alpha3 has no other subject kind. */
function serviceAccountRef(namespace: z.ZodTypeAny) {
  return objectOf({ kind: z.enum(['ServiceAccount']), name: dnsName('dns1123-subdomain'), namespace }, 'strict');
}

/** `port` is listed only to refuse it with a message that says where the ports went (v1alpha2 → v1alpha3). */
const destination = objectOf(
  {
    kind: z.enum(['ServiceAccount']),
    name: dnsName('dns1123-subdomain'),
    namespace: optional(dnsName('dns1123-label')),
    port: optional(z.unknown()),
  },
  'strict',
).superRefine((d, ctx) => {
  if (d.port !== undefined) {
    const message = 'was removed in access.smi-spec.io/v1alpha3; list the ports in a TCPRoute or UDPRoute rule instead';
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['port'], message });
  }
});

const rule = objectOf(
  { kind: z.enum(ROUTE_KINDS), name: dnsName('dns1123-subdomain'), matches: optional(z.array(requiredString).min(1)) },
  'strict',
).superRefine((r, ctx) => {
  // Only HTTPRouteGroup matches have names a rule can pick (SMI traffic-specs v1alpha4).
  if (r.matches !== undefined && r.kind !== 'HTTPRouteGroup') {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['matches'], message: `only HTTPRouteGroup rules pick matches; a ${r.kind} has none` });
  }
});

// "Valid only with a destination, at least one rule and at least one source" (security-rules.md §7).
const trafficTargetSpec = objectOf(
  {
    destination,
    sources: z.array(serviceAccountRef(dnsName('dns1123-label'))).min(1),
    rules: z.array(rule).min(1),
  },
  'strict',
);

/**
 * FSM's webhook: a TrafficTarget lives in its destination's namespace, so only those who may write
 * there grant access to it. A destination without a namespace means the TrafficTarget's own.
 */
function checkDestinationNamespace(resource: Resource, report: ProblemReporter): void {
  const spec = resource.spec as TrafficTargetSpec;
  const own = resource.metadata.namespace!;
  spec.destination.namespace ??= own;
  if (spec.destination.namespace !== own) {
    report('spec.destination.namespace', `${JSON.stringify(spec.destination.namespace)} must equal the TrafficTarget's own namespace "${own}"`);
  }
}

registerKind('TrafficTarget', resourceSchema({ spec: trafficTargetSpec }), checkDestinationNamespace);

// --- specs.smi-spec.io HTTPRouteGroup, TCPRoute, UDPRoute ------------------------------------------

const httpMatch = objectOf(
  {
    name: requiredString,
    pathRegex: optional(regex),
    methods: optional(z.array(z.enum(HTTP_ROUTE_METHODS))),
    headers: optional(headers),
  },
  'strict',
);

const httpRouteGroupSpec = objectOf({ matches: z.array(httpMatch).min(1) }, 'strict').superRefine((spec, ctx) => {
  // TrafficTarget rules pick matches by name, so a repeated name would be ambiguous.
  const seen = new Set<string>();
  spec.matches.forEach((m, i) => {
    if (seen.has(m.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['matches', i, 'name'], message: `duplicate name "${m.name}"` });
    seen.add(m.name);
  });
});

const portRouteSpec = objectOf({ matches: optional(objectOf({ name: optional(z.string()), ports: optional(z.array(port)) }, 'strict')) }, 'strict');

/**
 * The smi-conformance manifests put `matches` at the top level instead of under `spec`
 * (security-rules.md §8). The envelope lets unknown top-level fields through, so without this check
 * such a route would be stored without its matches; refuse it and say where they belong.
 */
function specsKindSchema(spec: z.ZodTypeAny, specRequired: boolean) {
  return resourceSchema({ spec: optional(spec) }).superRefine((r, ctx) => {
    const misplaced = (r as Record<string, unknown>)['matches'] !== undefined;
    if (misplaced) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['matches'], message: 'belongs under spec (spec.matches)' });
    if (specRequired && r.spec === undefined && !misplaced) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['spec'], message: 'required field is missing' });
    }
  });
}

registerKind('HTTPRouteGroup', specsKindSchema(httpRouteGroupSpec, true));
// A TCPRoute or UDPRoute without spec matches every port, as one with `ports: []` does.
registerKind('TCPRoute', specsKindSchema(portRouteSpec, false));
registerKind('UDPRoute', specsKindSchema(portRouteSpec, false));
