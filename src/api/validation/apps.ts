/** `apps/v1` kinds: Deployment. */
import { z } from 'zod';
import { selectorMatches } from '../labels.js';
import type { LabelSelector } from '../types.js';
import { annotationsMap, labelSelector, labelsMap, nonNegativeInt, objectOf, optional, withDefault } from './fields.js';
import { resourceSchema } from './metadata.js';
import { podSpec } from './pod-spec.js';
import { registerKind } from './registry.js';

const podTemplate = objectOf(
  {
    metadata: optional(objectOf({ labels: optional(labelsMap), annotations: optional(annotationsMap) }, 'tolerant')),
    spec: podSpec,
  },
  'tolerant',
);

const deploymentSpec = objectOf(
  {
    replicas: withDefault(nonNegativeInt, 1),
    selector: labelSelector('tolerant'),
    template: podTemplate,
  },
  'tolerant',
).superRefine((spec, ctx) => {
  const selector = spec.selector as LabelSelector;
  if (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['selector'], message: 'empty selector is invalid for deployment' });
  } else if (!selectorMatches(selector, spec.template.metadata?.labels)) {
    // kubectl's wording, so users searching the message find the usual fix
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['template', 'metadata', 'labels'], message: 'selector does not match template labels' });
  }
});

registerKind('Deployment', resourceSchema({ spec: deploymentSpec }));
