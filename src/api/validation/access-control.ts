/**
 * `policy.flomesh.io` AccessControl and AccessCert with FSM's webhook rules (fsm-design.md §1.4);
 * the rule that needs other objects (backends claimed by another AccessControl) and the feature-flag
 * gates are admission checks (local/apiserver/admission-policy.ts).
 */
import { z } from 'zod';
import type { AccessCertSpec, AccessControlSpec } from '../policy-types.js';
import type { Resource } from '../types.js';
import { parseCidr } from '../../lib/cidr.js';
import { dnsName, objectOf, optional, port, requiredString } from './fields.js';
import { resourceSchema } from './metadata.js';
import { registerKind, type ProblemReporter } from './registry.js';

/** FSM's backend protocols; the sidecar's listener protocol still comes from the Service port. */
export const ACCESS_CONTROL_PROTOCOLS = ['http', 'https', 'grpc', 'tcp'] as const;

const backend = objectOf(
  {
    name: dnsName('dns1035-label'),
    port: objectOf({ number: port, protocol: z.enum(ACCESS_CONTROL_PROTOCOLS) }, 'strict'),
    tls: optional(objectOf({ skipClientCertValidation: z.boolean(), sniHosts: optional(z.array(requiredString)) }, 'strict')),
  },
  'strict',
);

const source = objectOf(
  {
    kind: z.enum(['Service', 'IPRange', 'AuthenticatedPrincipal']),
    name: optional(z.string()),
    namespace: optional(dnsName('dns1123-label')),
  },
  'strict',
).superRefine((s, ctx) => {
  const missing = (path: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message: `required for kind ${s.kind}` });
  const name = s.name?.trim() ?? '';
  if (name === '') missing('name');
  if (s.kind === 'Service' && s.namespace === undefined) missing('namespace');
  if (s.kind === 'IPRange' && name !== '' && !parseCidr(name)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['name'], message: `${JSON.stringify(s.name)} is not a CIDR (like 10.0.0.0/8 or 192.168.1.7/32)` });
  }
  if (s.kind !== 'Service' && s.namespace !== undefined) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['namespace'], message: `only Service sources have a namespace` });
  }
});

const accessControlSpec = objectOf(
  {
    backends: optional(z.array(backend)),
    sources: z.array(source).min(1),
    matches: optional(z.array(z.unknown())),
  },
  'strict',
);

/**
 * FSM's per-object webhook rules: backend (name, port) pairs are unique; and a backend that
 * validates client certificates names at least one AuthenticatedPrincipal. FSM codes that last rule
 * inverted (it refuses `skipClientCertValidation: true` without principals, while its message
 * describes this case); Tessera implements what the message says.
 */
function checkAccessControl(resource: Resource, report: ProblemReporter): void {
  const spec = resource.spec as AccessControlSpec;
  const seen = new Map<string, number>();
  const hasPrincipal = spec.sources.some((s) => s.kind === 'AuthenticatedPrincipal');
  (spec.backends ?? []).forEach((b, i) => {
    const key = `${b.name}:${b.port.number}`;
    const first = seen.get(key);
    if (first !== undefined) report(`spec.backends[${i}]`, `duplicate backend ${b.name} port ${b.port.number} (also spec.backends[${first}])`);
    else seen.set(key, i);
    if (b.tls && !b.tls.skipClientCertValidation && !hasPrincipal) {
      report(`spec.backends[${i}].tls`, 'a backend with client certificate validation enabled needs at least one AuthenticatedPrincipal source (or set skipClientCertValidation: true)');
    }
  });
}

registerKind('AccessControl', resourceSchema({ spec: accessControlSpec }), checkAccessControl);

/** A SPIFFE ID would make the holder a mesh workload to every sidecar; only sidecars get those. */
const subjectAltName = requiredString.superRefine((v, ctx) => {
  if (v.trim().toLowerCase().startsWith('spiffe:')) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v)} is a SPIFFE ID; mesh identities are issued to sidecars only` });
  }
});

const accessCertSpec = objectOf(
  {
    subjectAltNames: z.array(subjectAltName).min(1),
    secret: objectOf({ name: dnsName('dns1123-subdomain'), namespace: optional(dnsName('dns1123-label')) }, 'strict'),
  },
  'strict',
);

/** A Secret without a namespace goes to the AccessCert's own (the object stored says which). */
function defaultSecretNamespace(resource: Resource): void {
  const spec = resource.spec as AccessCertSpec;
  spec.secret.namespace ??= resource.metadata.namespace!;
}

registerKind('AccessCert', resourceSchema({ spec: accessCertSpec }), defaultSecretNamespace);
