/** SMI `split.smi-spec.io` TrafficSplit: the weights a root service's clients send to its backends with. */
import { z } from 'zod';
import { rootServiceName, type TrafficSplitSpec } from '../traffic-types.js';
import type { Resource } from '../types.js';
import { dnsName, nonNegativeInt, objectOf, optional, requiredString } from './fields.js';
import { resourceSchema } from './metadata.js';
import { registerKind, type ProblemReporter } from './registry.js';

const backend = objectOf({ service: dnsName('dns1035-label'), weight: nonNegativeInt }, 'strict');

const trafficSplitSpec = objectOf(
  {
    service: requiredString,
    backends: z.array(backend).min(1),
    // v1alpha3/v1alpha4: HTTPRouteGroup refs narrowing the split; listed only to refuse them by name
    matches: optional(z.unknown()),
  },
  'strict',
).superRefine((spec, ctx) => {
  if (spec.matches !== undefined) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['matches'], message: 'is not supported: a split applies to every request of the root service' });
  }
  const seen = new Set<string>();
  spec.backends.forEach((b, i) => {
    if (seen.has(b.service)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['backends', i, 'service'], message: `duplicate backend "${b.service}"` });
    seen.add(b.service);
  });
  if (spec.backends.every((b) => b.weight === 0)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['backends'], message: 'every weight is 0; at least one backend needs a positive weight' });
  }
});

function checkRootService(resource: Resource, report: ProblemReporter): void {
  const spec = resource.spec as TrafficSplitSpec;
  const ns = resource.metadata.namespace!;
  if (rootServiceName(spec.service, ns) === undefined) {
    report('spec.service', `${JSON.stringify(spec.service)} must name a Service in the TrafficSplit's namespace "${ns}" (svc, svc.${ns} or svc.${ns}.svc.cluster.local)`);
  }
}

registerKind('TrafficSplit', resourceSchema({ spec: trafficSplitSpec }), checkRootService);
