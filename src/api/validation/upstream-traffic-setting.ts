/**
 * FSM's UpstreamTrafficSetting (policy.flomesh.io/v1alpha1): the CRD's types and required fields,
 * plus what FSM's webhook checks (`host` names a service, rate-limit status codes) and what its
 * sidecar silently mis-handles (negative or fractional counts, an unknown `unit` that FSM turns into
 * a zero-length window, ratios above 1 that can never trip). Every refusal names the field.
 */
import { z } from 'zod';
import { RATE_LIMIT_UNITS } from '../upstream-traffic-types.js';
import { goDuration, integer, numberInRange, objectOf, optional, requiredString } from './fields.js';
import { resourceSchema } from './metadata.js';
import { registerKind } from './registry.js';

const custom = (ctx: z.RefinementCtx, message: string, path: (string | number)[] = []): void => ctx.addIssue({ code: z.ZodIssueCode.custom, message, path });

/** FSM's counts are uint32. */
const UINT32_MAX = 4294967295;
const count = integer().superRefine((v, ctx) => {
  if (v < 0) custom(ctx, `${v} must not be negative`);
  else if (v > UINT32_MAX) custom(ctx, `${v} is over ${UINT32_MAX}`);
});

const units = Object.keys(RATE_LIMIT_UNITS);
const unit = z.string().superRefine((v, ctx) => {
  if (!units.includes(v)) custom(ctx, `unknown unit ${JSON.stringify(v)}; use ${units.map((u) => JSON.stringify(u)).join(', ')}`);
});

/** A fraction of the window's requests: FSM's sidecar compares `errors / total >= ratio`. */
const ratio = z.number().superRefine((v, ctx) => {
  if (v < 0) custom(ctx, `${v} must not be negative`);
  else if (v > 1) custom(ctx, `${v} is over 1: the ratio is a fraction of the window's requests (0.5 is half), not a percentage`);
});

const header = objectOf({ name: requiredString, value: z.string() }, 'strict');

const httpLocal = objectOf(
  {
    requests: count,
    unit,
    burst: optional(count),
    responseStatusCode: optional(numberInRange(400, 599)),
    responseHeadersToAdd: optional(z.array(header)),
  },
  'strict',
);

const tcpLocal = objectOf({ connections: count, unit, burst: optional(count) }, 'strict');

const circuitBreaking = objectOf(
  {
    statTimeWindow: goDuration({ positive: true }),
    minRequestAmount: count,
    degradedTimeWindow: goDuration({ positive: true }),
    slowTimeThreshold: optional(goDuration({ positive: true })),
    slowAmountThreshold: optional(count),
    slowRatioThreshold: optional(ratio),
    errorAmountThreshold: optional(count),
    errorRatioThreshold: optional(ratio),
    degradedStatusCode: optional(numberInRange(100, 599)),
    degradedResponseContent: optional(z.string()),
  },
  'strict',
);

const connectionSettings = objectOf(
  {
    tcp: optional(objectOf({ maxConnections: optional(count), connectTimeout: optional(goDuration({ positive: true })) }, 'strict')),
    http: optional(
      objectOf(
        {
          maxRequests: optional(count),
          maxRequestsPerConnection: optional(count),
          maxPendingRequests: optional(count),
          maxRetries: optional(count),
          circuitBreaking: optional(circuitBreaking),
        },
        'strict',
      ),
    ),
  },
  'strict',
);

const perRouteLimit = objectOf({ local: optional(httpLocal) }, 'strict');

const httpRoute = objectOf({ path: requiredString, rateLimit: optional(perRouteLimit) }, 'strict').superRefine((r, ctx) => {
  try {
    new RegExp(`^(?:${r.path})$`);
  } catch (err) {
    custom(ctx, `${JSON.stringify(r.path)} is not a valid path regex: ${(err as Error).message}`, ['path']);
  }
});

const httpHeaderMatch = objectOf({ headers: z.array(header).min(1), rateLimit: optional(perRouteLimit) }, 'strict');

/** `svc`, `svc.ns` or `svc.ns.svc.cluster.local`: FSM's webhook wants at least `svc.ns`, its docs allow the bare name. */
const HOST = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const host = z.string().superRefine((v, ctx) => {
  if (v === '') return custom(ctx, 'required field is missing');
  if (!HOST.test(v)) return custom(ctx, `${JSON.stringify(v)} is not a service name (svc, svc.ns or svc.ns.svc.cluster.local)`);
  const parts = v.split('.');
  if (parts.length > 2 && parts.slice(2).join('.') !== 'svc.cluster.local') {
    custom(ctx, `${JSON.stringify(v)} is not a service name (svc, svc.ns or svc.ns.svc.cluster.local)`);
  }
});

const spec = objectOf(
  {
    host,
    connectionSettings: optional(connectionSettings),
    rateLimit: optional(objectOf({ local: optional(objectOf({ tcp: optional(tcpLocal), http: optional(httpLocal) }, 'strict')) }, 'strict')),
    httpRoutes: optional(z.array(httpRoute)),
    httpHeaders: optional(z.array(httpHeaderMatch)),
  },
  'strict',
);

registerKind(
  'UpstreamTrafficSetting',
  resourceSchema({ spec, status: optional(z.unknown()) }),
  (resource, report) => {
    // the service must be in the setting's namespace (FSM looks it up there)
    const s = resource.spec as { host?: string } | undefined;
    const ns = resource.metadata.namespace ?? 'default';
    const parts = s?.host?.split('.') ?? [];
    if (parts.length >= 2 && parts[1] !== ns) {
      report('spec.host', `${JSON.stringify(s!.host)} is in namespace ${parts[1]}; an UpstreamTrafficSetting applies to a service of its own namespace (${ns})`);
    }
  },
);
