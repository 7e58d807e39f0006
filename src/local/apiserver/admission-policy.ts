/**
 * Admission for FSM's access policies (fsm-design.md §1.4): each kind is refused while its
 * MeshConfig feature flag is off (AccessControl: `enableAccessControlPolicy`, chart default true;
 * AccessCert: `enableAccessCertPolicy`, default false), and an AccessControl may not claim a backend
 * (service and port) another AccessControl of its namespace already claims.
 */
import type { MeshConfig, Resource } from '../../api/types.js';
import type { AccessControlSpec } from '../../api/policy-types.js';
import { MeshError, type FieldProblem } from '../../lib/errors.js';
import { meshConfigName, type ApiContext } from './context.js';
import { describeKey } from './kind-names.js';

const FLAGS = {
  AccessControl: { flag: 'enableAccessControlPolicy', fallback: true, what: 'access control policy' },
  AccessCert: { flag: 'enableAccessCertPolicy', fallback: false, what: 'access cert policy' },
} as const;

function describe(r: Resource): string {
  return describeKey({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name });
}

export function admitAccessPolicies(ctx: ApiContext, batch: Resource[]): void {
  requireFlags(ctx, batch);
  refuseBackendConflicts(ctx, batch);
}

function requireFlags(ctx: ApiContext, batch: Resource[]): void {
  const { name, namespace } = meshConfigName(ctx.meshName);
  // A MeshConfig earlier in the same batch counts, as it would with kubectl applying in order.
  const inBatch = batch.find((r) => r.kind === 'MeshConfig' && r.metadata.name === name && r.metadata.namespace === namespace);
  const config = (inBatch ?? ctx.store.get({ kind: 'MeshConfig', namespace, name })) as MeshConfig | undefined;
  const flags = (config?.spec?.featureFlags ?? {}) as Record<string, unknown>;
  for (const [kind, gate] of Object.entries(FLAGS)) {
    const refused = batch.filter((r) => r.kind === kind);
    const value = flags[gate.flag];
    if (refused.length === 0 || (typeof value === 'boolean' ? value : gate.fallback)) continue;
    const hint = `enable spec.featureFlags.${gate.flag} in MeshConfig ${name} (namespace ${namespace})`;
    const problems = refused.map((r) => ({ resource: describe(r), field: '', message: `${gate.what} is disabled; ${hint}` }));
    throw new MeshError('MESH_ERR_POLICY_DISABLED',
      `FSM is prohibited to apply ${gate.what}: ${refused.map(describe).join(', ')} refused; ${hint}`, { problems });
  }
}

/** `ns/service:port` of each backend of an AccessControl. */
function backendKeys(r: Resource): string[] {
  const spec = r.spec as AccessControlSpec | undefined;
  return (spec?.backends ?? []).map((b) => `${r.metadata.namespace}/${b.name}:${b.port.number}`);
}

function refuseBackendConflicts(ctx: ApiContext, batch: Resource[]): void {
  const incoming = batch.filter((r) => r.kind === 'AccessControl');
  if (incoming.length === 0) return;
  const replaced = new Set(incoming.map(describe));
  // Objects the batch replaces no longer claim anything; earlier batch members claim like stored ones.
  const claims = new Map<string, string>();
  for (const r of ctx.store.list('AccessControl')) {
    if (replaced.has(describe(r))) continue;
    for (const k of backendKeys(r)) claims.set(k, describe(r));
  }
  const problems: FieldProblem[] = [];
  for (const r of incoming) {
    for (const k of backendKeys(r)) {
      const owner = claims.get(k);
      if (owner && owner !== describe(r)) {
        problems.push({ resource: describe(r), field: 'spec.backends', message: `backend ${k} is already claimed by ${owner}` });
      }
    }
    for (const k of backendKeys(r)) claims.set(k, describe(r));
  }
  if (problems.length > 0) throw new MeshError('MESH_ERR_MANIFEST_INVALID', problems.map((p) => `${p.resource}: ${p.message}`).join('\n'), { problems });
}
