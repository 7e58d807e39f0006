/** FSM's `policy.flomesh.io/v1alpha1` Retry: who retries (a ServiceAccount), towards which Services, and how. */
import { z } from 'zod';
import { parseRetryOn, RETRY_CONDITIONS } from '../retry-on.js';
import type { RetrySpec } from '../traffic-types.js';
import type { Resource } from '../types.js';
import { dnsName, goDuration, nonNegativeInt, objectOf, optional } from './fields.js';
import { resourceSchema } from './metadata.js';
import { registerKind, type ProblemReporter } from './registry.js';

function subject(kind: 'ServiceAccount' | 'Service') {
  return objectOf({ kind: z.enum([kind]), name: dnsName(kind === 'Service' ? 'dns1035-label' : 'dns1123-subdomain'), namespace: optional(dnsName('dns1123-label')) }, 'strict');
}

const retryOn = z.string().superRefine((v, ctx) => {
  if (v.trim() === '') {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'required field is missing' });
    return;
  }
  const parsed = parseRetryOn(v);
  if ('invalid' in parsed) {
    const known = [...RETRY_CONDITIONS, 'a status code like 503', 'a class like 4xx'].join(', ');
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(parsed.invalid)} is not a retry condition (use ${known})` });
  }
});

const retryPolicy = objectOf(
  {
    retryOn,
    perTryTimeout: optional(goDuration({ positive: true })),
    numRetries: optional(nonNegativeInt),
    retryBackoffBaseInterval: optional(goDuration({ positive: true })),
  },
  'strict',
);

const retrySpec = objectOf(
  {
    source: subject('ServiceAccount'),
    destinations: z.array(subject('Service')).min(1),
    retryPolicy,
  },
  'strict',
);

/** A subject without a namespace is in the Retry's own namespace (stored filled in, so the compiler never guesses). */
function fillNamespaces(resource: Resource, _report: ProblemReporter): void {
  const spec = resource.spec as RetrySpec;
  const own = resource.metadata.namespace!;
  spec.source.namespace ??= own;
  for (const d of spec.destinations) d.namespace ??= own;
}

registerKind('Retry', resourceSchema({ spec: retrySpec }), fillNamespaces);
