/**
 * Admission for the local Kubernetes API: the mesh's own validators (every kind Tessera knows, with
 * problems as field causes) and the checks a cluster's webhooks would make (plugin policy gate,
 * namespaces, images with no local runtime, plugin scripts that compile), and what the mesh
 * controller may do to Secrets (secret-ownership.ts). Types Tessera has no
 * validator for (CRDs, custom resources, Events…) are checked by the API server's own rules.
 */
import { apiVersionAccepted, kindInfo } from '../../api/kinds.js';
import type { Resource } from '../../api/types.js';
import type { Admission, AdmissionRequest } from '../../kube/apiserver/index.js';
import { admit, keepServerDefaults } from '../apiserver/admission.js';
import type { ApiContext } from '../apiserver/context.js';
import { checkControllerSecretWrite } from './secret-ownership.js';
import { policyWarnings } from './policy-warnings.js';
import { admitPod, isPod, mutatePod } from './pod-admission.js';

/** Metadata the validators treat as the user's but which the server owns; restored after validation. */
const SERVER_META = ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'finalizers', 'ownerReferences'] as const;

function knownToValidators(obj: Resource): boolean {
  const info = kindInfo(obj.kind);
  return info !== undefined && apiVersionAccepted(info, obj.apiVersion);
}

export function localAdmission(ctx: ApiContext): Admission {
  return {
    mutate: (req) => mutatePod(ctx, req),
    async admit(req: AdmissionRequest): Promise<Resource | undefined> {
      checkControllerSecretWrite(req, ctx.meshName);
      if (req.operation === 'DELETE' || !req.object) return undefined;
      const obj = req.object;
      if (isPod(obj) && req.subresource === undefined) return admitPod(ctx, req);
      // Status writes come from controllers and leave the spec as it was validated.
      if (req.subresource === 'status' || !knownToValidators(obj)) return obj;
      // Objects being finalized only lose finalizers: nothing to re-validate.
      if (req.operation === 'UPDATE' && obj.metadata.deletionTimestamp) return obj;
      const source = `${kindInfo(obj.kind)!.plural} "${obj.metadata.name}"`;
      const [validated] = ctx.checks.validate([{ source, index: 1, line: 1, object: obj as unknown as Record<string, unknown> }], obj.metadata.namespace);
      const out = keepServerDefaults(validated!, req.oldObject);
      const meta = out.metadata as unknown as Record<string, unknown>;
      const given = obj.metadata as unknown as Record<string, unknown>;
      for (const k of SERVER_META) if (given[k] !== undefined) meta[k] = given[k];
      await admit(ctx, [out]);
      return out;
    },
    warnings(req: AdmissionRequest): string[] {
      return req.object && req.subresource === undefined ? policyWarnings(ctx, req.object) : [];
    },
  };
}
