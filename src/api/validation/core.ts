/** Core (`v1`) kinds: Namespace, ServiceAccount, Secret, ConfigMap, Service, and the system-owned Pod. */
import { z } from 'zod';
import { base64DataMap, configDataMap, dnsName, intOrPortName, numberInRange, objectOf, optional, port, stringMap, withDefault } from './fields.js';
import { resourceSchema } from './metadata.js';
import { podSpec } from './pod-spec.js';
import { registerKind } from './registry.js';
import { checkServiceTrafficAnnotations } from './traffic-annotations.js';

registerKind('Namespace', resourceSchema({ spec: optional(objectOf({ finalizers: optional(z.array(z.string())) }, 'tolerant')) }, 'dns1123-label'));

registerKind('ServiceAccount', resourceSchema({ automountServiceAccountToken: optional(z.boolean()) }));

registerKind(
  'Secret',
  resourceSchema({
    type: withDefault(z.string(), 'Opaque'),
    data: optional(base64DataMap),
    stringData: optional(configDataMap),
    immutable: optional(z.boolean()),
  }).transform(mergeStringData),
);

/** Like the API server: stringData is write-only, folded into data (base64) and then dropped. */
function mergeStringData<T extends { data?: Record<string, string>; stringData?: Record<string, string> }>(secret: T): T {
  const { stringData, ...rest } = secret;
  if (rest.data === undefined && stringData === undefined) return rest as T;
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest.data ?? {}) as [string, string][]) data[k] = v.replace(/[\r\n]/g, '');
  for (const [k, v] of Object.entries(stringData ?? {})) data[k] = Buffer.from(v, 'utf8').toString('base64');
  return { ...rest, data } as T;
}

registerKind(
  'ConfigMap',
  resourceSchema({ data: optional(configDataMap), binaryData: optional(base64DataMap), immutable: optional(z.boolean()) }),
);

const servicePort = objectOf(
  {
    name: optional(dnsName('dns1123-label')),
    port,
    targetPort: optional(intOrPortName),
    protocol: withDefault(z.enum(['TCP', 'UDP', 'SCTP']), 'TCP'),
    appProtocol: optional(z.string()),
    nodePort: optional(numberInRange(0, 65535)),
  },
  'tolerant',
).transform((p) => ({ ...p, targetPort: p.targetPort ?? p.port })); // Kubernetes defaults targetPort to port

type ServicePortIn = z.output<typeof servicePort>;

const serviceSpec = objectOf(
  {
    selector: optional(stringMap),
    ports: optional(z.array(servicePort)),
    type: optional(z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'])),
    clusterIP: optional(z.string()),
  },
  'tolerant',
).superRefine((spec, ctx) => {
  // Headless and ExternalName services may have no ports; every other service needs one.
  const portless = spec.clusterIP === 'None' || spec.type === 'ExternalName';
  if (!portless && (spec.ports ?? []).length === 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['ports'], message: 'required field is missing (a service needs at least one port)' });
  }
  checkServicePorts(spec.ports ?? [], ctx);
});

/** Names are required once there are several ports; names and port/protocol pairs are unique. */
function checkServicePorts(ports: ServicePortIn[], ctx: z.RefinementCtx): void {
  const names = new Set<string>();
  const numbers = new Set<string>();
  ports.forEach((p, i) => {
    const report = (field: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['ports', i, field], message });
    if (ports.length > 1 && !p.name) report('name', 'required field is missing (needed when a service has more than one port)');
    if (p.name && names.has(p.name)) report('name', `duplicate name "${p.name}"`);
    if (p.name) names.add(p.name);
    const key = `${p.port}/${p.protocol}`;
    if (numbers.has(key)) report('port', `duplicate port ${key}`);
    numbers.add(key);
  });
}

registerKind('Service', resourceSchema({ spec: serviceSpec }, 'dns1035-label'), checkServiceTrafficAnnotations);

// Pods: validate.ts refuses them unless the caller allows it (the API server's pod admission, src/local/kube/pod-admission.ts).
registerKind('Pod', resourceSchema({ spec: podSpec }));
