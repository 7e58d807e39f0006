/**
 * Where the API server calls admission webhooks (src/kube/admission-webhooks): mutating ones after
 * its own admission and before the platform's validation, validating ones on the final object, as
 * kube-apiserver orders its admission chain. Their warnings reach the client as `Warning:` headers.
 * ValidatingAdmissionPolicies (src/kube/admission-policy) are evaluated beside the validating
 * webhooks, on the final object; the policies and bindings themselves are defaulted and validated
 * (their CEL compiled) where the mutating webhooks would be called, which they never are for them.
 */
import type { Resource } from '../../api/types.js';
import type { AdmissionAttributes } from '../admission-webhooks/index.js';
import {
  AdmissionPolicies, ADMISSIONREGISTRATION_GROUP, POLICY_KIND, POLICY_KINDS, validateBinding, validatePolicy, withPolicyDefaults,
  type PolicyKind, type ValidatingAdmissionPolicy, type ValidatingAdmissionPolicyBinding,
} from '../admission-policy/index.js';
import type { KubeStorage } from './backend.js';
import type { RequestContext } from './context.js';
import type { AdmissionTarget as Target } from './resources.js';
import { invalid, isStatusError } from './status.js';

const policiesByStorage = new WeakMap<KubeStorage, AdmissionPolicies>();
function policiesOf(ctx: RequestContext): AdmissionPolicies {
  let p = policiesByStorage.get(ctx.storage);
  if (!p) policiesByStorage.set(ctx.storage, (p = new AdmissionPolicies(ctx.storage, { log: (line) => console.error(line) })));
  return p;
}

const policyKindOf = (t: Target): PolicyKind | undefined =>
  t.type.group === ADMISSIONREGISTRATION_GROUP && (POLICY_KINDS as readonly string[]).includes(t.type.kind) ? (t.type.kind as PolicyKind) : undefined;

function attributes(ctx: RequestContext, t: Target, operation: AdmissionAttributes['operation'], object: Resource | undefined, old: Resource | undefined, dryRun: boolean): AdmissionAttributes {
  const named = object ?? old!;
  const a: AdmissionAttributes = {
    operation, type: t.type, version: t.info.version, name: named.metadata.name, dryRun, user: ctx.user,
  };
  const ns = named.metadata.namespace ?? t.info.namespace;
  if (ns !== undefined) a.namespace = ns;
  if (t.info.subresource) a.subresource = t.info.subresource;
  if (object) a.object = object;
  if (old) a.oldObject = old;
  return a;
}

function warn(t: Target, warnings: string[]): void {
  for (const w of warnings) t.res.appendHeader('warning', `299 - ${JSON.stringify(w)}`);
}

/** The object after the matching mutating webhooks, and whether they changed it (then it is checked again). */
export async function mutateByWebhooks(ctx: RequestContext, t: Target, operation: AdmissionAttributes['operation'], object: Resource | undefined, old: Resource | undefined, dryRun: boolean): Promise<{ object: Resource | undefined; changed: boolean }> {
  const policyKind = policyKindOf(t);
  if (policyKind) {
    // kube-apiserver's defaults and validation of policies and bindings; no webhook is called for them
    if (!object || t.info.subresource === 'status') return { object, changed: false };
    const defaulted = withPolicyDefaults(object as ValidatingAdmissionPolicy, policyKind);
    const causes = policyKind === POLICY_KIND ? validatePolicy(defaulted) : validateBinding(defaulted as ValidatingAdmissionPolicyBinding);
    if (causes.length > 0) throw invalid(t.type.group, t.type.kind, object.metadata.name, causes);
    return { object: defaulted, changed: JSON.stringify(defaulted) !== JSON.stringify(object) };
  }
  if (!ctx.webhooks) return { object, changed: false };
  const out = await ctx.webhooks.mutate(attributes(ctx, t, operation, object, old, dryRun));
  warn(t, out.warnings);
  return { object: out.object, changed: out.changed };
}

/** Throws when a matching validating webhook refuses the (final) object. */
export async function validateByWebhooks(ctx: RequestContext, t: Target, operation: AdmissionAttributes['operation'], object: Resource | undefined, old: Resource | undefined, dryRun: boolean): Promise<void> {
  const a = attributes(ctx, t, operation, object, old, dryRun);
  if (ctx.webhooks) warn(t, (await ctx.webhooks.validate(a)).warnings);
  try {
    warn(t, policiesOf(ctx).validate(a).warnings);
  } catch (e) {
    if (isStatusError(e)) warn(t, (e as { warnings?: string[] }).warnings ?? []);
    throw e;
  }
}
