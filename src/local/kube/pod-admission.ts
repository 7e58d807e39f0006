/**
 * Pods in local mode, admitted as kube-apiserver admits them whoever writes them (a user's
 * `kubectl create`, or the local deployment controller as the replicaset controller):
 *
 * - before the webhooks (`mutatePod`), what kube-apiserver's own admission does — status reset to
 *   Pending, the ServiceAccount defaulted — and the local mesh's injector (`<mesh>-injector`, a
 *   webhook the daemon calls itself rather than one stored as a MutatingWebhookConfiguration) for the
 *   namespaces it covers. What a request may not claim is refused here, before any webhook sees it:
 *   host namespaces and host paths, an address, the sidecar image (injection adds it), the
 *   control-plane images outside the mesh's namespace (they run on the host with the mesh's credentials).
 * - after the webhooks (`admitPod`), the mesh's validation of the final pod and the check that a
 *   local runtime can run every container; an update may change the pod's metadata only.
 *
 * The address is given when the pod is stored (kube-api.ts), so no webhook ever sees one.
 */
import type { Namespace, Pod, Resource } from '../../api/types.js';
import type { AdmissionRequest } from '../../kube/apiserver/index.js';
import { StatusError } from '../../kube/apiserver/index.js';
import { MeshError, type FieldProblem } from '../../lib/errors.js';
import { APP_ADDRESS_ANNOTATION, SIDECAR_IMAGE } from '../controllers/well-known.js';
import { WebhookDenied } from '../controllers/injector-client.js';
import { injectThroughInjector, needsInjectorWebhook } from '../controllers/pod-factory.js';
import { imageName } from '../runtime/image-name.js';
import { isClusterComponentImage } from '../runtime/cluster-image-runtimes.js';
import { BOOTSTRAP_IMAGE, CONTROLLER_IMAGE, INJECTOR_IMAGE } from '../runtime/control-plane-runtimes.js';
import { meshConfigName, type ApiContext } from '../apiserver/context.js';

const CONTROL_PLANE_IMAGES = new Set([CONTROLLER_IMAGE, INJECTOR_IMAGE, BOOTSTRAP_IMAGE]);
const HOST_NAMESPACES = ['hostNetwork', 'hostPID', 'hostIPC'] as const;
/** Where `tessera install` puts its components: `<mesh>-system`. */
const INSTALL_NAMESPACE = /^.+-system$/;

export const isPod = (obj: Resource | undefined): obj is Pod => obj?.kind === 'Pod' && obj.apiVersion === 'v1';

function forbidden(pod: Pod, problems: FieldProblem[]): MeshError {
  const label = `Pod ${pod.metadata.namespace}/${pod.metadata.name}`;
  return new MeshError('MESH_ERR_FORBIDDEN', problems.map((p) => `${p.field}: ${p.message}`).join('; '), { problems: problems.map((p) => ({ ...p, resource: label })) });
}

/** What a pod written through the API may not ask for in local mode (fail closed: refused, not dropped). */
function refusals(ctx: ApiContext, pod: Pod): FieldProblem[] {
  const out: FieldProblem[] = [];
  const resource = '';
  const spec = (pod.spec ?? {}) as unknown as Record<string, unknown>;
  for (const field of HOST_NAMESPACES) {
    if (spec[field] === true) out.push({ resource, field: `spec.${field}`, message: 'pods in local mode share no namespace with the host' });
  }
  (pod.spec?.volumes ?? []).forEach((v, i) => {
    if ((v as { hostPath?: unknown }).hostPath !== undefined) out.push({ resource, field: `spec.volumes[${i}].hostPath`, message: 'pods in local mode get no host paths' });
  });
  if (pod.metadata.annotations?.[APP_ADDRESS_ANNOTATION] !== undefined) {
    out.push({ resource, field: `metadata.annotations[${APP_ADDRESS_ANNOTATION}]`, message: 'the mesh gives a pod its addresses; a pod may not name one' });
  }
  const system = meshConfigName(ctx.meshName).namespace;
  const lists = [['containers', pod.spec?.containers], ['initContainers', pod.spec?.initContainers]] as const;
  for (const [list, containers] of lists) {
    (containers ?? []).forEach((c, i) => {
      const image = imageName(c.image ?? '');
      const field = `spec.${list}[${i}].image`;
      if (image === SIDECAR_IMAGE) out.push({ resource, field, message: `"${c.image}": the sidecar is added by injection; a pod may not name it` });
      else if (CONTROL_PLANE_IMAGES.has(image) && pod.metadata.namespace !== system) {
        out.push({ resource, field, message: `"${c.image}": the mesh's control-plane images run only in namespace ${system}` });
      } else if (isClusterComponentImage(c.image ?? '') && !INSTALL_NAMESPACE.test(pod.metadata.namespace ?? '')) {
        // they run on the host as the daemon's user (cluster-image-runtimes.ts): only where an
        // install puts them, whose writers administer that mesh
        out.push({ resource, field, message: `"${c.image}": a Tessera install's component images run only in its <mesh>-system namespace` });
      }
    });
  }
  return out;
}

/** The local mesh's injector as kube-apiserver reports a webhook: denied, or not reachable (failurePolicy Fail). */
function injectorError(meshName: string, err: Error): StatusError {
  const webhook = `${meshName}-injector.${meshName}-system`;
  return err instanceof WebhookDenied
    ? new StatusError('BadRequest', `admission webhook "${webhook}" denied the request: ${err.message}`)
    : new StatusError('InternalError', `Internal error occurred: failed calling webhook "${webhook}": ${err.message}`);
}

/** Before the webhooks: kube-apiserver's own mutation of a new pod, the edge refusals, the local mesh's injection. */
export async function mutatePod(ctx: ApiContext, req: AdmissionRequest): Promise<Resource | undefined> {
  if (req.operation !== 'CREATE' || req.subresource !== undefined || !isPod(req.object)) return undefined;
  const given = req.object;
  const problems = refusals(ctx, given);
  if (problems.length > 0) throw forbidden(given, problems);
  const pod: Pod = structuredClone(given);
  // kube-apiserver's PrepareForCreate: the status is the kubelet's to write
  pod.status = { phase: 'Pending' };
  // the ServiceAccount admission plugin; the pod's mesh identity (sa.ns) depends on it
  if (pod.spec) pod.spec.serviceAccountName ||= 'default';
  const namespace = ctx.store.get({ kind: 'Namespace', name: pod.metadata.namespace! }) as Namespace | undefined;
  if (!namespace || !needsInjectorWebhook(namespace, ctx.meshName)) return pod;
  try {
    return await injectThroughInjector(pod, namespace, ctx.meshName, ctx.injector);
  } catch (e) {
    throw injectorError(ctx.meshName, e as Error);
  }
}

/**
 * After the webhooks, on the final pod: the mesh's validation and a local runtime for every
 * container. An update may change metadata (labels, annotations) and nothing the pod runs.
 */
export function admitPod(ctx: ApiContext, req: AdmissionRequest): Resource | undefined {
  const pod = req.object as Pod;
  if (req.operation === 'UPDATE') {
    const old = req.oldObject as Pod | undefined;
    if (pod.metadata.deletionTimestamp) return pod;
    const moved = pod.metadata.annotations?.[APP_ADDRESS_ANNOTATION] !== old?.metadata.annotations?.[APP_ADDRESS_ANNOTATION];
    if (JSON.stringify(pod.spec) !== JSON.stringify(old?.spec) || moved) {
      throw new MeshError('MESH_ERR_FORBIDDEN', 'pod updates may not change fields other than its labels and annotations in local mode', {
        problems: [{ resource: `Pod ${pod.metadata.namespace}/${pod.metadata.name}`, field: moved ? `metadata.annotations[${APP_ADDRESS_ANNOTATION}]` : 'spec', message: 'pod updates may not change fields other than its labels and annotations in local mode' }],
      });
    }
    return pod;
  }
  const source = `pods "${pod.metadata.name}"`;
  // validation only: the pod is stored as admitted, every field the webhooks added kept
  ctx.checks.validate([{ source, index: 1, line: 1, object: pod as unknown as Record<string, unknown> }], pod.metadata.namespace, { allowSystemOwned: true });
  try {
    ctx.checks.checkImages({ metadata: { ...(pod.metadata.annotations ? { annotations: pod.metadata.annotations } : {}) }, spec: pod.spec! });
  } catch (e) {
    if (e instanceof MeshError) throw new MeshError(e.code, `Pod ${pod.metadata.namespace}/${pod.metadata.name}: ${e.message}`, { problems: [{ resource: `Pod ${pod.metadata.namespace}/${pod.metadata.name}`, field: 'spec.containers', message: e.message }], cause: e });
    throw e;
  }
  return pod;
}
