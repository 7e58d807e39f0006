/**
 * Istio's networking Sidecar (networking.istio.io/v1, v1beta1 and v1alpha3 accepted): the outbound
 * scope of the workloads it selects. Fields that would shape listeners or egress policy
 * (`ingress`, `outboundTrafficPolicy`, an egress listener's `port`, `bind`, `captureMode`) are
 * refused by name: a Sidecar that silently did less than it says would leave traffic open that its
 * author meant to close.
 */
import { z } from 'zod';
import { sidecarHostProblem } from '../networking-types.js';
import { labelsMap, objectOf, optional } from './fields.js';
import { resourceSchema } from './metadata.js';
import { registerKind } from './registry.js';

const custom = (ctx: z.RefinementCtx, message: string, path: (string | number)[] = []): void => ctx.addIssue({ code: z.ZodIssueCode.custom, message, path });

const host = z.string().superRefine((v, ctx) => {
  const problem = sidecarHostProblem(v);
  if (problem) custom(ctx, problem);
});

const listenerUnsupported = {
  port: 'is not supported: an egress listener scopes by host only, on every port',
  bind: 'is not supported: the sidecar has one outbound listener',
  captureMode: 'is not supported: the sidecar has one outbound listener',
} as const;

const egressListener = objectOf(
  { hosts: z.array(host), port: optional(z.unknown()), bind: optional(z.unknown()), captureMode: optional(z.unknown()) },
  'strict',
).superRefine((l, ctx) => {
  if (l.hosts.length === 0) custom(ctx, 'must list at least one "namespace/dnsName"', ['hosts']);
  for (const [field, why] of Object.entries(listenerUnsupported)) {
    if (l[field as keyof typeof listenerUnsupported] !== undefined) custom(ctx, why, [field]);
  }
});

const unsupported = {
  ingress: 'is not supported: inbound listeners come from the pod\'s Services',
  outboundTrafficPolicy: 'is not supported: egress outside the mesh follows MeshConfig spec.traffic.enableEgress',
  inboundConnectionPool: 'is not supported: set connection limits with an UpstreamTrafficSetting',
} as const;

const sidecarSpec = objectOf(
  {
    workloadSelector: optional(objectOf({ labels: optional(labelsMap) }, 'strict')),
    egress: optional(z.array(egressListener)),
    ingress: optional(z.unknown()),
    outboundTrafficPolicy: optional(z.unknown()),
    inboundConnectionPool: optional(z.unknown()),
  },
  'strict',
).superRefine((spec, ctx) => {
  for (const [field, why] of Object.entries(unsupported)) {
    if (spec[field as keyof typeof unsupported] !== undefined) custom(ctx, why, [field]);
  }
});

registerKind('Sidecar', resourceSchema({ spec: optional(sidecarSpec) }));
