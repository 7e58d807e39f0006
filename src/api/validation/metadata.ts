/** The envelope every resource shares: apiVersion, kind and ObjectMeta, plus a kind's own fields. */
import { z } from 'zod';
import { annotationsMap, dnsName, labelsMap, optional } from './fields.js';
import type { NameRule } from './names.js';

/** ObjectMeta as users write it; server-set fields (uid, resourceVersion, …) pass through untouched. */
export function objectMeta(nameRule: NameRule) {
  return z
    .object({
      name: dnsName(nameRule),
      namespace: optional(dnsName('dns1123-label')),
      labels: optional(labelsMap),
      annotations: optional(annotationsMap),
    })
    .passthrough();
}

/**
 * A whole-object schema: the envelope plus `body` (spec, data, …). Top-level unknown fields such as
 * `status` pass through; strictness is decided inside each kind's spec.
 */
export function resourceSchema<B extends z.ZodRawShape>(body: B, nameRule: NameRule = 'dns1123-subdomain') {
  return z.object({ apiVersion: z.string(), kind: z.string(), metadata: objectMeta(nameRule), ...body }).passthrough();
}
