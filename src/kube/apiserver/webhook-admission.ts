/**
 * Where the API server calls admission webhooks (src/kube/admission-webhooks): mutating ones after
 * its own admission and before the platform's validation, validating ones on the final object, as
 * kube-apiserver orders its admission chain. Their warnings reach the client as `Warning:` headers.
 */
import type { Resource } from '../../api/types.js';
import type { AdmissionAttributes } from '../admission-webhooks/index.js';
import type { RequestContext } from './context.js';
import type { Target } from './resources.js';

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
  if (!ctx.webhooks) return { object, changed: false };
  const out = await ctx.webhooks.mutate(attributes(ctx, t, operation, object, old, dryRun));
  warn(t, out.warnings);
  return { object: out.object, changed: out.changed };
}

/** Throws when a matching validating webhook refuses the (final) object. */
export async function validateByWebhooks(ctx: RequestContext, t: Target, operation: AdmissionAttributes['operation'], object: Resource | undefined, old: Resource | undefined, dryRun: boolean): Promise<void> {
  if (!ctx.webhooks) return;
  warn(t, (await ctx.webhooks.validate(attributes(ctx, t, operation, object, old, dryRun))).warnings);
}
