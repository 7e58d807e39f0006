/** PodSpec as Deployments (and system-made Pods) carry it: containers, ports, env, volumes. */
import { z } from 'zod';
import { dnsName, intOrPortName, objectOf, optional, port, portName, requiredString } from './fields.js';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

const containerPort = objectOf(
  { containerPort: port, name: optional(portName), protocol: optional(z.enum(PROTOCOLS)), hostPort: optional(port) },
  'tolerant',
);

const envVar = objectOf({ name: requiredString, value: optional(z.string()) }, 'tolerant');

const probe = objectOf(
  {
    httpGet: optional(objectOf({ port: intOrPortName, path: optional(z.string()) }, 'tolerant')),
    tcpSocket: optional(objectOf({ port: intOrPortName }, 'tolerant')),
    exec: optional(objectOf({ command: optional(z.array(z.string())) }, 'tolerant')),
  },
  'tolerant',
);

const container = objectOf(
  {
    name: dnsName('dns1123-label'),
    image: requiredString,
    command: optional(z.array(z.string())),
    args: optional(z.array(z.string())),
    workingDir: optional(z.string()),
    env: optional(z.array(envVar)),
    ports: optional(z.array(containerPort)),
    volumeMounts: optional(z.array(objectOf({ name: requiredString, mountPath: requiredString }, 'tolerant'))),
    readinessProbe: optional(probe),
    livenessProbe: optional(probe),
    startupProbe: optional(probe),
  },
  'tolerant',
);

/** Container names must be unique; the duplicate is reported where it appears. */
function uniqueNames(list: { name: string }[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  list.forEach((c, i) => {
    if (seen.has(c.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'name'], message: `duplicate name "${c.name}"` });
    seen.add(c.name);
  });
}

export const podSpec = objectOf(
  {
    containers: z.array(container).min(1).superRefine(uniqueNames),
    initContainers: optional(z.array(container).superRefine(uniqueNames)),
    serviceAccountName: optional(dnsName('dns1123-subdomain')),
    volumes: optional(z.array(objectOf({ name: dnsName('dns1123-label') }, 'tolerant')).superRefine(uniqueNames)),
    restartPolicy: optional(z.enum(['Always', 'OnFailure', 'Never'])),
  },
  'tolerant',
);
