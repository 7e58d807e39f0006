/**
 * Istio's Telemetry (telemetry.istio.io/v1): the access-log rules. `metrics`, `tracing` and
 * `targetRef(s)` are refused by name: a Telemetry that silently did less than it says would hide
 * the traffic an operator asked to see.
 */
import { z } from 'zod';
import { ACCESS_LOG_PROVIDERS, WORKLOAD_MODES } from '../telemetry-types.js';
import { compileFilter } from '../../access-log/index.js';
import { labelsMap, numberInRange, objectOf, optional } from './fields.js';
import { resourceSchema } from './metadata.js';
import { registerKind } from './registry.js';

const custom = (ctx: z.RefinementCtx, message: string, path: (string | number)[] = []): void => ctx.addIssue({ code: z.ZodIssueCode.custom, message, path });

const expression = z.string().superRefine((v, ctx) => {
  if (v.trim() === '') return custom(ctx, 'required field is missing');
  const r = compileFilter(v);
  if ('error' in r) custom(ctx, `is not a valid filter: ${r.error}`);
});

const provider = objectOf({ name: z.string() }, 'strict').superRefine((p, ctx) => {
  if (!(ACCESS_LOG_PROVIDERS as readonly string[]).includes(p.name)) {
    custom(ctx, `unknown provider ${JSON.stringify(p.name)}; the sidecar's log is the provider ${ACCESS_LOG_PROVIDERS.map((n) => JSON.stringify(n)).join(', ')}`, ['name']);
  }
});

const accessLogging = objectOf(
  {
    match: optional(objectOf({ mode: optional(z.enum(WORKLOAD_MODES as [string, ...string[]])) }, 'strict')),
    providers: optional(z.array(provider)),
    disabled: optional(z.boolean()),
    filter: optional(objectOf({ expression }, 'strict')),
    randomSamplingPercentage: optional(numberInRange(0, 100, { integer: false })),
  },
  'strict',
);

const unsupported = {
  metrics: 'is not supported: every sidecar exports its request metrics (docs/access-log.md)',
  tracing: 'is not supported: trace propagation is on in every sidecar',
  targetRef: 'is not supported: select workloads with selector.matchLabels',
  targetRefs: 'is not supported: select workloads with selector.matchLabels',
} as const;

const telemetrySpec = objectOf(
  {
    selector: optional(objectOf({ matchLabels: optional(labelsMap) }, 'strict')),
    accessLogging: optional(z.array(accessLogging)),
    metrics: optional(z.unknown()),
    tracing: optional(z.unknown()),
    targetRef: optional(z.unknown()),
    targetRefs: optional(z.unknown()),
  },
  'strict',
).superRefine((spec, ctx) => {
  for (const [field, why] of Object.entries(unsupported)) {
    if (spec[field as keyof typeof unsupported] !== undefined) custom(ctx, why, [field]);
  }
});

registerKind('Telemetry', resourceSchema({ spec: optional(telemetrySpec) }));
