/**
 * Admission: what the local API server refuses before anything is stored, mirroring the webhooks a
 * Kubernetes cluster would run (FSM's plugin-policy gate, system-owned kinds, missing namespaces,
 * images with no local runtime, plugin scripts that do not compile). Pods never come here: the
 * API's pod admission (src/local/kube/pod-admission.ts) admits them.
 */
import { kindInfo } from '../../api/kinds.js';
import { MONITORED_BY_LABEL, type Deployment, type MeshConfig, type Plugin, type Resource, type Service } from '../../api/types.js';
import { isMeshError, MeshError, type FieldProblem } from '../../lib/errors.js';
import { notFoundMessage } from '../store/index.js';
import { admitAccessPolicies } from './admission-policy.js';
import { meshConfigName, type ApiContext } from './context.js';
import { describeKey } from './kind-names.js';
import { SIDECAR_IMAGE } from '../controllers/well-known.js';
import { imageName } from '../runtime/image-name.js';
import { BOOTSTRAP_IMAGE, CONTROLLER_IMAGE, INJECTOR_IMAGE } from '../runtime/control-plane-runtimes.js';

const CONTROL_PLANE_IMAGES = new Set([CONTROLLER_IMAGE, INJECTOR_IMAGE, BOOTSTRAP_IMAGE]);

const PLUGIN_KINDS = new Set(['Plugin', 'PluginChain', 'PluginConfig']);

function describe(r: Resource): string {
  return describeKey({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name });
}

/** Throws the first refusal; each check covers the whole batch so its problems list every culprit. */
export async function admit(ctx: ApiContext, batch: Resource[]): Promise<void> {
  refuseSystemOwned(batch);
  requireNamespaces(ctx, batch);
  requirePluginPolicy(ctx, batch);
  admitAccessPolicies(ctx, batch);
  refuseReservedImages(ctx, batch);
  checkDeploymentImages(ctx, batch);
  for (const r of batch) if (r.kind === 'Plugin') await ctx.checks.checkPlugin(r as Plugin);
}

function refuseSystemOwned(batch: Resource[]): void {
  const owned = batch.filter((r) => kindInfo(r.kind)?.systemOwned);
  if (owned.length === 0) return;
  const problems = owned.map((r) => ({
    resource: describe(r), field: '', message: `${r.kind} objects are created by the mesh in local mode; apply a Deployment instead`,
  }));
  throw new MeshError('MESH_ERR_FORBIDDEN', `${problems[0]!.resource}: ${problems[0]!.message}`, { problems });
}

function requireNamespaces(ctx: ApiContext, batch: Resource[]): void {
  const created = new Set(batch.filter((r) => r.kind === 'Namespace').map((r) => r.metadata.name));
  const problems: FieldProblem[] = [];
  for (const r of batch) {
    const ns = r.metadata.namespace;
    if (!kindInfo(r.kind)?.namespaced || ns === undefined || created.has(ns)) continue;
    if (!ctx.store.get({ kind: 'Namespace', name: ns })) {
      problems.push({ resource: describe(r), field: 'metadata.namespace', message: notFoundMessage({ kind: 'Namespace', name: ns }) });
    }
  }
  if (problems.length > 0) throw new MeshError('MESH_ERR_NOT_FOUND', problems[0]!.message, { problems });
}

/**
 * FSM's validating webhook refuses plugin kinds unless the mesh config enables them. Meshes may share
 * this API (one `tessera install`ed beside the local mesh): an object in a namespace another mesh
 * monitors is judged by that mesh's MeshConfig, a Plugin (cluster-scoped) is admitted when any mesh
 * of the API enables plugin policy, and the local mesh judges the rest.
 */
function requirePluginPolicy(ctx: ApiContext, batch: Resource[]): void {
  const plugins = batch.filter((r) => PLUGIN_KINDS.has(r.kind));
  if (plugins.length === 0) return;
  // A MeshConfig or Namespace earlier in the same batch counts, as it would with kubectl applying in order.
  const configOf = (mesh: string): MeshConfig | undefined => {
    const { name, namespace } = meshConfigName(mesh);
    const inBatch = batch.find((r) => r.kind === 'MeshConfig' && r.metadata.name === name && r.metadata.namespace === namespace);
    return (inBatch ?? ctx.store.get({ kind: 'MeshConfig', namespace, name })) as MeshConfig | undefined;
  };
  const others = [...new Set([...ctx.store.list('MeshConfig'), ...batch.filter((r) => r.kind === 'MeshConfig')].flatMap((mc) => {
    const mesh = /^(.+)-mesh-config$/.exec(mc.metadata.name)?.[1];
    return mesh && mesh !== ctx.meshName && mc.metadata.namespace === meshConfigName(mesh).namespace ? [mesh] : [];
  }))].sort();
  const judges = (r: Resource): string[] => {
    const ns = r.metadata.namespace;
    if (ns === undefined) return [ctx.meshName, ...others];
    const nsObj = batch.find((b) => b.kind === 'Namespace' && b.metadata.name === ns) ?? ctx.store.get({ kind: 'Namespace', name: ns });
    const owner = nsObj?.metadata.labels?.[MONITORED_BY_LABEL];
    return [owner !== undefined && others.includes(owner) ? owner : ctx.meshName];
  };
  const refused = plugins.map((r) => ({ r, meshes: judges(r) })).filter(({ meshes }) => !meshes.some((m) => configOf(m)?.spec?.featureFlags?.enablePluginPolicy === true));
  if (refused.length === 0) return;
  const hintFor = (meshes: string[]): string => `enable spec.featureFlags.enablePluginPolicy in ${meshes.map((m) => {
    const { name, namespace } = meshConfigName(m);
    return `MeshConfig ${name} (namespace ${namespace})`;
  }).join(' or ')}`;
  const problems = refused.map(({ r, meshes }) => ({ resource: describe(r), field: '', message: `plugin policy is disabled; ${hintFor(meshes)}` }));
  const hints = [...new Set(refused.map(({ meshes }) => hintFor(meshes)))].join('; ');
  throw new MeshError('MESH_ERR_PLUGIN_POLICY_DISABLED',
    `FSM is prohibited to apply plugin policy: ${refused.map(({ r }) => describe(r)).join(', ')} refused; ${hints}`, { problems });
}

/**
 * The mesh's own images carry its credentials: control-plane images run only in `<mesh>-system`
 * (where the daemon puts them), and the sidecar image only where injection adds it — a template that
 * names it could claim another proxy's identity.
 */
function refuseReservedImages(ctx: ApiContext, batch: Resource[]): void {
  const system = meshConfigName(ctx.meshName).namespace;
  const problems: FieldProblem[] = [];
  for (const r of batch) {
    if (r.kind !== 'Deployment') continue;
    const spec = (r as Deployment).spec?.template?.spec;
    const lists: [string, { name: string; image?: string }[] | undefined][] = [['containers', spec?.containers], ['initContainers', (spec as { initContainers?: { name: string; image?: string }[] } | undefined)?.initContainers]];
    for (const [list, containers] of lists) {
      (containers ?? []).forEach((c, i) => {
        const image = imageName(c.image ?? '');
        const field = `spec.template.spec.${list}[${i}].image`;
        if (image === SIDECAR_IMAGE) {
          problems.push({ resource: describe(r), field, message: `"${c.image}": the sidecar is added by injection; a pod template may not name it` });
        } else if (CONTROL_PLANE_IMAGES.has(image) && r.metadata.namespace !== system) {
          problems.push({ resource: describe(r), field, message: `"${c.image}": the mesh's control-plane images run only in namespace ${system}` });
        }
      });
    }
  }
  if (problems.length > 0) throw new MeshError('MESH_ERR_FORBIDDEN', problems.map((p) => `${p.resource}: ${p.field}: ${p.message}`).join('\n'), { problems });
}

function checkDeploymentImages(ctx: ApiContext, batch: Resource[]): void {
  for (const r of batch) {
    if (r.kind !== 'Deployment') continue;
    const template = (r as Deployment).spec?.template;
    if (!template) continue;
    try {
      ctx.checks.checkImages(template);
    } catch (e) {
      if (!isMeshError(e)) throw e;
      const err = e as MeshError;
      const problems = err.problems.length > 0
        ? [...err.problems]
        : [{ resource: describe(r), field: 'spec.template.spec.containers', message: err.message }];
      throw new MeshError(err.code, `${describe(r)}: ${err.message}`, { problems, cause: err });
    }
  }
}

/**
 * Fields the server defaulted stay when a re-apply omits them, so applying the same manifest twice
 * is "unchanged" and a Service keeps its cluster IP (Kubernetes treats them the same way).
 */
export function keepServerDefaults(incoming: Resource, existing: Resource | undefined): Resource {
  if (!existing || incoming.kind !== 'Service') return incoming;
  const spec = { ...(incoming as Service).spec };
  const before = (existing as Service).spec ?? {};
  if (!spec.clusterIP && before.clusterIP) spec.clusterIP = before.clusterIP;
  if (!spec.type && before.type) spec.type = before.type;
  return { ...incoming, spec };
}
